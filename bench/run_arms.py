"""Several `leanagent train --stored` runs of one stored workdir side by side, on one machine, then each run's
`eval --compare bm25` on both splits: the arms of a comparison (curriculum vs random order, progressive vs naive
fine-tuning, two splits) in the time of one, for a machine with a GPU and many cores.

    leanagent train real23.txt --workdir stored --deps-dir deps --offline --ingest-only      # where the sources are
    python bench/run_arms.py stored/leanagent.db --out arms --deadline 420 \\
        --arm "novel=--set retriever.split=novel_premises" --arm "curriculum=" \\
        --arm "random=--order random" --arm "naive=--order random --set retriever.replay=0 --set retriever.ewc_lambda=0"

Each arm gets its own workdir (``OUT/NAME``, a copy of the stored database), ``--threads`` CPU threads and its
log (``OUT/NAME.log``); every arm still training at ``--deadline`` seconds is stopped (its workdir resumes with the
same command). The comparisons of the arms that finished go to ``OUT/NAME.eval-test.txt`` and
``OUT/NAME.eval-validation.txt``, and ``--pack DIR`` writes each arm's database, xz-compressed, and the logs there
(`leanagent status --workdir W` of a directory holding only the database gives the lifelong metrics).
"""

from __future__ import annotations

import argparse
import lzma
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path


def _env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
        env[name] = str(threads)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _leanagent(*args: str) -> list[str]:
    return [sys.executable, "-m", "leanagent", *args]


def _wait(procs: dict[str, subprocess.Popen], deadline: float) -> dict[str, int | None]:
    """Exit codes of ``procs`` once all ended or ``deadline`` (time.monotonic) passed; None for those stopped."""
    while time.monotonic() < deadline and any(p.poll() is None for p in procs.values()):
        time.sleep(2)
    codes: dict[str, int | None] = {name: proc.poll() for name, proc in procs.items()}
    for name, proc in procs.items():
        if codes[name] is None:
            proc.send_signal(signal.SIGINT)  # the run stops between records; a resumed run goes on
    grace = time.monotonic() + 20
    for name, proc in procs.items():
        if codes[name] is None:
            try:
                proc.wait(max(0.1, grace - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return codes


def finished(workdir: Path) -> bool:
    """Whether the run in ``workdir`` learned all it holds: every stored repository evaluated or skipped (a run's
    exit code cannot tell: 1 is both "some repository gave nothing to learn" and an error)."""
    from database.store import Store
    from leanagent.pipeline import stored_repos

    with Store.open(workdir / "leanagent.db") as store:
        stored = {repo.id for repo in stored_repos(store)}
        ended = {s.repo_id for s in store.stages() if s.stage == "evaluate" and s.status in ("done", "skipped")}
    return bool(stored) and stored <= ended


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database", help="leanagent.db of a workdir that holds the repositories (--ingest-only)")
    parser.add_argument("--out", required=True, help="directory of the arms' workdirs and outputs")
    parser.add_argument("--arm", action="append", required=True, metavar="NAME=ARGS",
                        help="an arm: its name and its `leanagent train` flags (e.g. 'random=--order random')")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads per arm (default: cores / arms)")
    parser.add_argument("--deadline", type=float, default=3600.0, help="seconds after which training stops")
    parser.add_argument("--eval-deadline", type=float, default=600.0, help="seconds for the evaluations")
    parser.add_argument("--pack", metavar="DIR", help="write each arm's database (xz) and the logs here")
    args = parser.parse_args(argv)

    started = time.monotonic()
    out = Path(args.out)
    arms = dict(arm.partition("=")[::2] for arm in args.arm)
    threads = args.threads or max(1, (os.cpu_count() or 1) // len(arms))
    procs = {}
    for name, flags in arms.items():
        workdir = out / name
        workdir.mkdir(parents=True, exist_ok=True)
        if not (workdir / "leanagent.db").exists():
            shutil.copy(args.database, workdir / "leanagent.db")
        command = _leanagent("train", "--stored", "--workdir", str(workdir), "--offline", "-q", *shlex.split(flags))
        print(f"{name}: {shlex.join(command)} ({threads} threads)", flush=True)
        log = open(out / f"{name}.log", "a")  # noqa: SIM115 - closed with the process
        procs[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=_env(threads))
    codes = _wait(procs, started + args.deadline)
    trained = time.monotonic() - started
    done = [name for name in arms if finished(out / name)]
    for name, code in codes.items():
        said = "stopped at the deadline" if code is None else f"exit {code}"
        print(f"{name}: {said} after {trained:.0f} s, {'finished' if name in done else 'not finished'}", flush=True)
    evals = {}
    for name in done:  # one split after the other: eval holds its workdir's lock
        script = "; ".join(
            shlex.join(_leanagent("eval", "--workdir", str(out / name), "--compare", "bm25", "--split", split))
            + f" > {shlex.quote(str(out / f'{name}.eval-{split}.txt'))} 2>&1" for split in ("test", "validation"))
        evals[name] = subprocess.Popen(["bash", "-c", script], env=_env(threads))
    eval_codes = _wait(evals, time.monotonic() + args.eval_deadline)
    for name, code in eval_codes.items():
        print(f"eval {name}: {'stopped at the deadline' if code is None else f'exit {code}'}", flush=True)
    if args.pack:  # `leanagent status` reads a run's lifelong metrics from its database alone
        pack = Path(args.pack)
        pack.mkdir(parents=True, exist_ok=True)
        for name in arms:
            with open(out / name / "leanagent.db", "rb") as source, lzma.open(pack / f"{name}.db.xz", "wb",
                                                                            preset=1) as target:
                shutil.copyfileobj(source, target, 1 << 20)
        with tarfile.open(pack / "logs.tar.gz", "w:gz") as tar:
            for path in sorted(out.glob("*.txt")) + sorted(out.glob("*.log")):
                tar.add(path, arcname=path.name)
    print(f"done in {time.monotonic() - started:.0f} s", flush=True)
    return 0 if len(done) == len(arms) else 1


if __name__ == "__main__":
    sys.exit(main())

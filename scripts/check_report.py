"""Open a leanagent report in headless Chromium: it must load without console errors and show its plots.

usage: python scripts/check_report.py WORKDIR/report/report.html [--screenshot OUT.png]

Needs Debian's chromium (apt-get install chromium). Prints what it checked and exits non-zero on failure.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", type=Path)
    parser.add_argument("--screenshot", type=Path, default=Path("report-screenshot.png"))
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("chromium not found (apt-get install chromium)", file=sys.stderr)
        return 2
    url = args.report.resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile:
        common = [browser, *FLAGS, f"--user-data-dir={profile}"]
        dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=120)
        shot = subprocess.run([*common, f"--screenshot={args.screenshot.resolve()}", "--window-size=1200,2600",
                               url], capture_output=True, text=True, timeout=120)
    errors = [line for line in (dom.stderr + shot.stderr).splitlines()
              if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)]
    images = dom.stdout.count("<img")
    import matplotlib.image as mpimg

    pixels = mpimg.imread(str(args.screenshot))[..., :3]
    coloured = float(((pixels.max(axis=2) - pixels.min(axis=2)) > 0.2).mean())  # saturated: plots, not text
    print(f"loaded: {dom.returncode == 0 and '</html>' in dom.stdout}; console errors: {len(errors)}; "
          f"images: {images}; coloured pixels: {coloured:.1%}; screenshot: {args.screenshot}")
    ok = dom.returncode == 0 and not errors and images >= 2 and coloured > 0.005
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

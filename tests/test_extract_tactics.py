"""Tactic steps (the paper's S): the splitting rule of extraction.tactics, case by case."""

from __future__ import annotations

from extraction import scan_source
from extraction.tactics import steps


def test_top_level_lines_and_semicolons() -> None:
    assert steps("by\n  intro h\n  apply foo\n    bar\n  exact h") == ["intro h", "apply foo\n    bar", "exact h"]
    assert steps("by simp; ring") == ["simp", "ring"]
    assert steps("by\n  simp [a,\n    b]; ring\n  omega") == ["simp [a,\n    b]", "ring", "omega"]


def test_bullets_recurse() -> None:
    assert steps("by\n  constructor\n  · simp\n    ring\n  . exact h") == [
        "constructor", "· simp\n    ring", "simp", "ring", ". exact h", "exact h"]
    assert steps("by\n  · simp; ring") == ["· simp; ring", "simp", "ring"]


def test_case_next_and_goal_combinators() -> None:
    assert steps("by\n  case inl h => simp; exact h\n  next => rfl") == [
        "case inl h => simp; exact h", "simp", "exact h", "next => rfl", "rfl"]
    assert steps("by\n  all_goals simp\n  any_goals (simp; ring)\n  try rfl\n  iterate 2 skip") == [
        "all_goals simp", "simp", "any_goals (simp; ring)", "(simp; ring)", "simp", "ring", "try rfl", "rfl",
        "iterate 2 skip", "skip"]


def test_first_alternatives() -> None:
    assert steps("by\n  first\n  | simp\n  | ring") == ["first\n  | simp\n  | ring", "simp", "ring"]


def test_then_combinator_is_one_step() -> None:
    assert steps("by\n  cases h <;> simp [foo] <;>\n    ring") == ["cases h <;> simp [foo] <;>\n    ring"]
    assert steps("by\n  constructor\n  <;> simp") == ["constructor\n  <;> simp"]


def test_calc_is_one_step_but_its_by_blocks_count() -> None:
    body = "by\n  calc a = b := by rw [h]\n    _ = c := by\n      simp\n      ring\n  exact d"
    assert steps(body) == ["calc a = b := by rw [h]\n    _ = c := by\n      simp\n      ring", "rw [h]", "simp",
                           "ring", "exact d"]
    assert steps("by\n  calc a = b := h\n  _ = c := by simp") == ["calc a = b := h\n  _ = c := by simp", "simp"]


def test_have_counts_itself_and_its_inner_tactics() -> None:
    assert steps("by\n  have h : p := by\n    simp\n    ring\n  exact h") == [
        "have h : p := by\n    simp\n    ring", "simp", "ring", "exact h"]
    assert steps("by\n  have h : p := by simp; ring\n  exact h") == [
        "have h : p := by simp; ring", "simp", "ring", "exact h"]


def test_induction_and_cases_arms() -> None:
    body = ("by\n  induction n with\n  | zero => simp\n  | succ n ih =>\n    rw [f]\n    exact ih\n"
            "  cases h with\n    | inl h => exact h | inr h => simp; rfl")
    assert steps(body) == [
        "induction n with\n  | zero => simp\n  | succ n ih =>\n    rw [f]\n    exact ih", "simp", "rw [f]",
        "exact ih", "cases h with\n    | inl h => exact h | inr h => simp; rfl", "exact h", "simp", "rfl"]
    # rcases patterns are not arms
    assert steps("by\n  rcases h with ⟨a, b⟩ | c\n  simp") == ["rcases h with ⟨a, b⟩ | c", "simp"]


def test_conv_is_one_step() -> None:
    assert steps("by\n  conv => lhs; rw [h]\n  conv_rhs =>\n    rw [g]\n  rfl") == [
        "conv => lhs; rw [h]", "conv_rhs =>\n    rw [g]", "rfl"]


def test_term_proofs_have_no_steps_unless_they_contain_by() -> None:
    assert steps("fun x => ⟨x, rfl⟩") == []
    assert steps("⟨by simp, fun x => by\n    intro y\n    exact y⟩") == ["simp", "intro y", "exact y"]
    assert steps("foo (by simp) (by ring)") == ["simp", "ring"]
    assert steps("match n with\n  | 0 => by simp\n  | _ => by omega") == ["simp", "omega"]


def test_nested_by_inside_tactics() -> None:
    assert steps("by\n  refine ⟨by simp, ?_⟩\n  exact foo (by norm_num)") == [
        "refine ⟨by simp, ?_⟩", "simp", "exact foo (by norm_num)", "norm_num"]


def test_open_and_set_option_prefixes() -> None:
    assert steps("by\n  open Nat in\n  simp [succ]\n  set_option trace.x true in simp") == [
        "open Nat in\n  simp [succ]", "simp [succ]", "set_option trace.x true in simp", "simp"]


def test_termination_and_decreasing_clauses_are_not_steps() -> None:
    d = scan_source("def f : Nat → Nat\n  | 0 => 0\n  | n+1 => by\n    exact f n\n"
                    "termination_by n => n\ndecreasing_by\n  simp_wf\n  omega\n", "F.lean").declarations[0]
    assert d.steps == ("exact f n",)
    assert d.proof.endswith("decreasing_by\n  simp_wf\n  omega")


def test_pathological_nesting_is_bounded() -> None:
    deep = "by\n" + "".join("  " * (i + 1) + "· " + "\n" for i in range(2000)) + "  simp"
    assert len(steps(deep)) < 5000
    assert steps("by " + "(" * 100_000 + "simp") != []
    assert steps("by " + "by " * 10_000) is not None


def test_at_star_ends_its_step_and_a_product_does_not() -> None:
    assert steps("by\n  simp at *\n  exact rfl") == ["simp at *", "exact rfl"]
    assert steps("by\n  simp at h *\n  exact h") == ["simp at h *", "exact h"]
    assert steps("by\n  simp only [foo] at * <;> omega\n  rfl") == ["simp only [foo] at * <;> omega", "rfl"]
    assert steps("by\n  exact a *\n  b") == ["exact a *\n  b"]  # a product goes on below
    assert steps("by\n  constructor <;> simp at *\n  · exact rfl\n  · simp at h ⊢\n    exact h") == [
        "constructor <;> simp at *", "· exact rfl", "exact rfl", "· simp at h ⊢\n    exact h", "simp at h ⊢",
        "exact h"]

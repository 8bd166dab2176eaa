/-!
# Propositional logic

Tactic proofs of small propositional facts: `intro`, `apply`, `exact`, `cases`, `constructor`.
-/

namespace ExprEval.Logic

theorem and_swap (p q : Prop) (h : p ∧ q) : q ∧ p := by
  constructor
  · exact h.2
  · exact h.1

theorem or_swap (p q : Prop) (h : p ∨ q) : q ∨ p := by
  cases h with
  | inl hp => exact Or.inr hp
  | inr hq => exact Or.inl hq

theorem imp_trans {p q r : Prop} (hpq : p → q) (hqr : q → r) : p → r := by
  intro hp
  apply hqr
  apply hpq
  exact hp

theorem not_not_intro {p : Prop} (hp : p) : ¬¬p := by
  intro hn
  exact hn hp

theorem and_or_distrib (p q r : Prop) : p ∧ (q ∨ r) → (p ∧ q) ∨ (p ∧ r) := by
  intro ⟨hp, hqr⟩
  cases hqr with
  | inl hq => exact Or.inl ⟨hp, hq⟩
  | inr hr => exact Or.inr ⟨hp, hr⟩

theorem contrapositive {p q : Prop} (h : p → q) : ¬q → ¬p := by
  intro hnq hp
  exact hnq (h hp)

theorem and_imp_iff (p q r : Prop) : (p ∧ q → r) ↔ (p → q → r) := by
  constructor
  · intro h hp hq
    exact h ⟨hp, hq⟩
  · intro h hpq
    exact h hpq.1 hpq.2

theorem or_and_distrib (p q r : Prop) : (p ∨ q) ∧ r → (p ∧ r) ∨ (q ∧ r) := by
  intro h
  have hr := h.2
  cases h.1 with
  | inl hp =>
    apply Or.inl
    exact ⟨hp, hr⟩
  | inr hq =>
    apply Or.inr
    exact ⟨hq, hr⟩

theorem or_comm_iff (p q : Prop) : p ∨ q ↔ q ∨ p := by
  sorry

/-- A placeholder left by the authors: its statement itself is `sorry`, so it is no proving target. -/
theorem placeholder_goal : (sorry : Prop) := sorry

end ExprEval.Logic

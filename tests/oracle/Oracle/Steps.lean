import Oracle.Defs

/-! Tactic steps: lines, `;`, `<;>`, `·` blocks, `at *`. -/

theorem steps_at_star (n : Nat) (h : double n = 0) : n + n = 0 := by
  simp only [double] at *
  exact h

theorem steps_bullets : 1 = 1 ∧ 2 = 2 := by
  constructor
  · rfl
  · rfl

theorem steps_seq : 1 = 1 ∧ 2 = 2 := by
  constructor <;> rfl

theorem steps_semi (n : Nat) : double n = n + n := by
  unfold double; rfl

theorem steps_intros : ∀ n : Nat, double n = n + n := by
  intros
  apply double_eq

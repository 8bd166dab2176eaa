import Oracle.Defs

/-! Constructors matched in `match` arms are uses; dot notation on a local goes through its type. -/

theorem xor_or {a b : Prop} (h : XOr' a b) : a ∨ b :=
  match h with
  | .inl ha _ => Or.inl ha
  | .inr _ hb => Or.inr hb

theorem xor_cases {a b : Prop} (h : XOr' a b) : a ∨ b := by
  cases h with
  | inl ha _ => exact Or.inl ha
  | inr _ hb => exact Or.inr hb

theorem dot_local (b : Box) (h : b.size = 0) : b.size = Box.empty.size := b.size_eq h

theorem dot_field (b : Box) (h : b.size = 0) : b.size + 0 = 0 := by
  rw [Nat.add_zero]
  exact h

import Oracle.Defs

/-! `where` helpers are declarations; notation is a use of what it unfolds to. -/

def count (n : Nat) : Nat := go n 0
where
  go : Nat → Nat → Nat
    | 0, acc => acc
    | k + 1, acc => go k (acc + 1)

theorem count_zero : count 0 = 0 := by
  unfold count count.go
  rfl

structure Pt where
  x : Nat

notation "⟪" a "⟫" => Pt.mk a

theorem pt_x : (⟪1⟫).x = 1 := by
  show (⟪1⟫).x = 1
  rfl

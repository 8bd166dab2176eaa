/-! Definitions the other files use. -/

def p : Nat := 3

def double (n : Nat) : Nat := n + n

theorem double_eq (n : Nat) : double n = n + n := rfl

namespace A

def val : Nat := 1

theorem val_pos : 0 < val := by decide

end A

inductive XOr' (a b : Prop) : Prop where
  | inl : a → ¬b → XOr' a b
  | inr : ¬a → b → XOr' a b

structure Box where
  size : Nat

namespace Box

def empty : Box := ⟨0⟩

theorem size_empty : empty.size = 0 := rfl

theorem size_eq (b : Box) (h : b.size = 0) : b.size = empty.size := by
  rw [h, size_empty]

end Box

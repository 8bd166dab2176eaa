import Oracle.Defs

/-! Lean's lookup: enclosing namespaces, then `open`s, only what is imported. -/

open A in
theorem open_val : 0 < val := val_pos

namespace A

theorem inner_val : val = 1 := by unfold val; rfl

end A

theorem qualified : double 1 = 2 := by rw [double_eq]

theorem root_p : _root_.p = 3 := rfl

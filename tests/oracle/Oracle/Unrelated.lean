/-! Imported by no other file: none of these names may answer a lookup elsewhere. -/

def val : Nat := 2

def h : Nat := 0

theorem val_pos : 0 < val := by decide

/-!
# Doubling

Short facts about `double n = n + n`, most of them one or two tactics long.
-/

namespace NatBasics

/-- Twice a number. -/
def double (n : Nat) : Nat := n + n

/-- A greeting with a "quoted" word; the `--` inside the string is not a comment. -/
def greeting : String := "say \"double\" -- twice"

@[simp] theorem double_zero : double 0 = 0 := rfl

theorem «double zero is zero» : double 0 = 0 := double_zero

theorem double_one : double 1 = 2 := rfl

theorem double_succ (n : Nat) : double (n + 1) = double n + 2 := by
  unfold double
  omega

theorem double_eq_two_mul (n : Nat) : double n = 2 * n := by
  unfold double
  omega

theorem double_add (m n : Nat) : double (m + n) = double m + double n := by
  simp only [double]
  omega

protected theorem add_comm (m n : Nat) : m + n = n + m := Nat.add_comm m n

theorem add_zero' (n : Nat) : n + 0 = n := rfl

theorem zero_add' (n : Nat) : 0 + n = n := Nat.zero_add n

/- A block comment /- with a nested one -/ that hides
theorem hidden : 1 = 2 := sorry
-/

theorem double_le_double {m n : Nat} (h : m ≤ n) : double m ≤ double n := by
  unfold double
  omega

theorem double_pos {n : Nat} (h : 0 < n) : 0 < double n := by
  unfold double
  omega

theorem two_le_double_succ (n : Nat) : 2 ≤ double (n + 1) := by
  rw [double_succ]
  omega

theorem double_even (n : Nat) : double n % 2 = 0 := by
  rw [double_eq_two_mul]
  omega

theorem double_inj {m n : Nat} (h : double m = double n) : m = n := by
  unfold double at h
  omega

private theorem double_ne_one (n : Nat) : double n ≠ 1 := by
  unfold double
  omega

theorem four_mul (n : Nat) : double (double n) = 4 * n := by
  calc double (double n) = 2 * double n := double_eq_two_mul (double n)
    _ = 2 * (2 * n) := by rw [double_eq_two_mul]
    _ = 4 * n := by omega

theorem double_sub_self (n : Nat) : double n - n = n := by
  sorry

theorem double_lt_double {m n : Nat} (h : m < n) : double m < double n := by
  sorry

example : double 3 = 6 := rfl

end NatBasics

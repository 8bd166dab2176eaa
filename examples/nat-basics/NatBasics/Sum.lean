import NatBasics.Double

/-! # Sums of the first numbers -/

namespace NatBasics

/-- `sumTo n = 0 + 1 + ... + n`. -/
def sumTo : Nat → Nat
  | 0 => 0
  | n + 1 => sumTo n + (n + 1)

@[simp] theorem sumTo_zero : sumTo 0 = 0 := rfl

theorem sumTo_succ (n : Nat) : sumTo (n + 1) = sumTo n + (n + 1) := rfl

theorem sumTo_one : sumTo 1 = 1 := rfl

theorem sumTo_le_succ (n : Nat) : sumTo n ≤ sumTo (n + 1) := by
  rw [sumTo_succ]
  omega

theorem le_sumTo (n : Nat) : n ≤ sumTo n := by
  induction n with
  | zero => simp
  | succ k ih =>
    rw [sumTo_succ]
    omega

theorem sumTo_mono {m n : Nat} (h : m ≤ n) : sumTo m ≤ sumTo n := by
  induction n with
  | zero =>
    have hm : m = 0 := by omega
    subst hm
    exact Nat.le_refl _
  | succ k ih =>
    cases Nat.lt_or_ge m (k + 1) with
    | inl hlt =>
      have hk : m ≤ k := by omega
      exact Nat.le_trans (ih hk) (sumTo_le_succ k)
    | inr hge =>
      have hm : m = k + 1 := by omega
      subst hm
      exact Nat.le_refl _

theorem double_le_sumTo_succ (n : Nat) : double n ≤ sumTo n + sumTo (n + 1) := by
  rw [sumTo_succ]
  have h := le_sumTo n
  unfold double
  omega

set_option maxHeartbeats 400000 in
theorem sumTo_two_mul (n : Nat) : 2 * sumTo n = n * (n + 1) := by
  sorry

end NatBasics

open NatBasics in
theorem sumTo_three : sumTo 3 = 6 := by
  decide

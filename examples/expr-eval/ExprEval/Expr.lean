/-!
# Expressions

`Expr` with numbers, variables, sums and products; `eval`, `size`, `mirror` and constant folding.
-/

namespace ExprEval

inductive Expr where
  | num : Nat → Expr
  | var : String → Expr
  | add : Expr → Expr → Expr
  | mul : Expr → Expr → Expr
  deriving Repr

/-- Values of variables. -/
abbrev Env := String → Nat

def eval (env : Env) : Expr → Nat
  | .num n => n
  | .var x => env x
  | .add a b => eval env a + eval env b
  | .mul a b => eval env a * eval env b

def size : Expr → Nat
  | .num _ => 1
  | .var _ => 1
  | .add a b => size a + size b + 1
  | .mul a b => size a + size b + 1

/-- Swap the operands of every operator. -/
def mirror : Expr → Expr
  | .num n => .num n
  | .var x => .var x
  | .add a b => .add (mirror b) (mirror a)
  | .mul a b => .mul (mirror b) (mirror a)

/-- Fold sums and products of two constants. -/
def constFold : Expr → Expr
  | .add a b =>
    match constFold a, constFold b with
    | .num m, .num n => .num (m + n)
    | a', b' => .add a' b'
  | .mul a b =>
    match constFold a, constFold b with
    | .num m, .num n => .num (m * n)
    | a', b' => .mul a' b'
  | e => e

mutual
  /-- Whether a number is even, by mutual recursion with `isOdd`. -/
  def isEven : Nat → Bool
    | 0 => true
    | n + 1 => isOdd n
  def isOdd : Nat → Bool
    | 0 => false
    | n + 1 => isEven n
end

/-- `[n, n-1, ..., 0]`, with an explicit termination argument. -/
def countdown (n : Nat) : List Nat :=
  if h : n = 0 then [0] else n :: countdown (n - 1)
termination_by n
decreasing_by simp_wf; omega

theorem eval_num (env : Env) (n : Nat) : eval env (.num n) = n := rfl

theorem eval_add (env : Env) (a b : Expr) : eval env (.add a b) = eval env a + eval env b := rfl

theorem eval_mul (env : Env) (a b : Expr) : eval env (.mul a b) = eval env a * eval env b := rfl

theorem eval_example : eval (fun _ => 2) (.add (.num 1) (.var "x")) = 3 := rfl

theorem size_pos (e : Expr) : 0 < size e := by
  cases e <;> simp [size] <;> omega

theorem eval_mirror (env : Env) (e : Expr) : eval env (mirror e) = eval env e := by
  induction e with
  | num n => rfl
  | var x => rfl
  | add a b iha ihb =>
    simp only [mirror, eval, iha, ihb]
    exact Nat.add_comm _ _
  | mul a b iha ihb =>
    simp only [mirror, eval, iha, ihb]
    exact Nat.mul_comm _ _

theorem mirror_mirror (e : Expr) : mirror (mirror e) = e := by
  induction e with
  | num n => rfl
  | var x => rfl
  | add a b iha ihb =>
    simp only [mirror, iha, ihb]
  | mul a b iha ihb =>
    simp only [mirror, iha, ihb]

theorem size_mirror (e : Expr) : size (mirror e) = size e := by
  induction e with
  | num n => rfl
  | var x => rfl
  | add a b iha ihb =>
    simp only [mirror, size, iha, ihb]
    omega
  | mul a b iha ihb =>
    simp only [mirror, size, iha, ihb]
    omega

theorem eval_add_comm (env : Env) (a b : Expr) : eval env (.add a b) = eval env (.add b a) := by
  rw [eval_add, eval_add]
  exact Nat.add_comm _ _

theorem eval_mirror_add (env : Env) (a b : Expr) :
    eval env (mirror (.add a b)) = eval env a + eval env b := by
  rw [eval_mirror]
  rfl

theorem size_add_gt_left (a b : Expr) : size a < size (.add a b) := by
  have hb := size_pos b
  simp only [size]
  omega

theorem eval_constFold (env : Env) (e : Expr) : eval env (constFold e) = eval env e := by
  induction e with
  | num n => rfl
  | var x => rfl
  | add a b iha ihb =>
    sorry
  | mul a b iha ihb =>
    sorry

theorem size_constFold_le (e : Expr) : size (constFold e) ≤ size e := by
  sorry

end ExprEval

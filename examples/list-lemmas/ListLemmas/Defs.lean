/-!
# Definitions

Our own versions of the usual list functions, so that every proof has to use this library's lemmas.
-/

namespace ListLemmas

section
variable {α : Type}

/-- Concatenation. -/
def myAppend : List α → List α → List α
  | [], ys => ys
  | x :: xs, ys => x :: myAppend xs ys

/-- Length. -/
def myLength : List α → Nat
  | [] => 0
  | _ :: xs => myLength xs + 1

/-- Reversal, by appending the head at the end. -/
def myReverse : List α → List α
  | [] => []
  | x :: xs => myAppend (myReverse xs) [x]

@[simp] theorem myAppend_nil_left (ys : List α) : myAppend [] ys = ys := rfl

@[simp] theorem myAppend_cons (x : α) (xs ys : List α) :
    myAppend (x :: xs) ys = x :: myAppend xs ys := rfl

@[simp] theorem myLength_nil : myLength ([] : List α) = 0 := rfl

@[simp] theorem myLength_cons (x : α) (xs : List α) : myLength (x :: xs) = myLength xs + 1 := rfl

@[simp] theorem myReverse_nil : myReverse ([] : List α) = [] := rfl

theorem myReverse_cons (x : α) (xs : List α) : myReverse (x :: xs) = myAppend (myReverse xs) [x] := rfl

end

/-- Sum of a list of numbers. -/
def mySum : List Nat → Nat
  | [] => 0
  | x :: xs => x + mySum xs

@[simp] theorem mySum_nil : mySum [] = 0 := rfl

@[simp] theorem mySum_cons (x : Nat) (xs : List Nat) : mySum (x :: xs) = x + mySum xs := rfl

/-- Sum with an accumulator, through a `where` helper. -/
def sumAcc (xs : List Nat) : Nat := go 0 xs
where
  go (acc : Nat) : List Nat → Nat
    | [] => acc
    | x :: xs => go (acc + x) xs

end ListLemmas

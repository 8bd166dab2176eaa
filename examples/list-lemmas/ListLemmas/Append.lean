import ListLemmas.Defs

namespace ListLemmas

variable {α : Type}

theorem myAppend_nil_right (xs : List α) : myAppend xs [] = xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih => simp [ih]

theorem myAppend_assoc (xs ys zs : List α) :
    myAppend (myAppend xs ys) zs = myAppend xs (myAppend ys zs) := by
  induction xs with
  | nil => rfl
  | cons x xs ih => simp [ih]

theorem myLength_append (xs ys : List α) :
    myLength (myAppend xs ys) = myLength xs + myLength ys := by
  induction xs with
  | nil => simp
  | cons x xs ih =>
    simp only [myAppend_cons, myLength_cons, ih]
    omega

theorem mySum_append (xs ys : List Nat) : mySum (myAppend xs ys) = mySum xs + mySum ys := by
  induction xs with
  | nil => simp
  | cons x xs ih =>
    simp only [myAppend_cons, mySum_cons, ih]
    omega

theorem myLength_singleton (x : α) : myLength [x] = 1 := rfl

theorem mySum_singleton (x : Nat) : mySum [x] = x := by
  simp

theorem myLength_append_comm (xs ys : List α) :
    myLength (myAppend xs ys) = myLength (myAppend ys xs) := by
  rw [myLength_append, myLength_append]
  exact Nat.add_comm _ _

theorem mySum_append_comm (xs ys : List Nat) : mySum (myAppend xs ys) = mySum (myAppend ys xs) := by
  rw [mySum_append, mySum_append]
  exact Nat.add_comm _ _

theorem myLength_pos_of_cons (x : α) (xs : List α) : 0 < myLength (x :: xs) := by
  simp only [myLength_cons]
  omega

theorem mySum_nil_append (ys : List Nat) : mySum (myAppend [] ys) = mySum ys := by
  sorry

end ListLemmas

import ListLemmas.Append

namespace ListLemmas

variable {α : Type}

theorem myLength_reverse (xs : List α) : myLength (myReverse xs) = myLength xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [myReverse_cons, myLength_append, ih]
    rfl

theorem mySum_reverse (xs : List Nat) : mySum (myReverse xs) = mySum xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    simp only [myReverse_cons, mySum_append, ih, mySum_cons, mySum_nil]
    omega

theorem myReverse_singleton (x : α) : myReverse [x] = [x] := rfl

theorem myReverse_append (xs ys : List α) :
    myReverse (myAppend xs ys) = myAppend (myReverse ys) (myReverse xs) := by
  induction xs with
  | nil =>
    rw [myAppend_nil_left, myReverse_nil, myAppend_nil_right]
  | cons x xs ih =>
    rw [myAppend_cons, myReverse_cons, myReverse_cons, ih, myAppend_assoc]

theorem myReverse_reverse (xs : List α) : myReverse (myReverse xs) = xs := by
  induction xs with
  | nil => rfl
  | cons x xs ih =>
    rw [myReverse_cons, myReverse_append]
    sorry

theorem myLength_reverse_append (xs ys : List α) :
    myLength (myReverse (myAppend xs ys)) = myLength xs + myLength ys := by
  sorry

/-- The mirror image of a list is a palindrome's witness. -/
def IsPalindrome (xs : List α) : Prop := myReverse xs = xs

theorem isPalindrome_nil : IsPalindrome ([] : List α) := rfl

theorem isPalindrome_singleton (x : α) : IsPalindrome [x] := by
  unfold IsPalindrome
  exact myReverse_singleton x

end ListLemmas

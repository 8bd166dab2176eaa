import Oracle.Defs

/-! Names bound locally are not premises, even where a declaration has the same name. -/

section
variable (p : Nat) {f : Nat → Nat}

theorem var_local : p = p := by exact Eq.refl p

theorem var_fun : f p = f p := by exact congrArg f rfl

end

theorem var_gone : p = 3 := by unfold p; rfl

theorem sig_local (p : Nat) (h : p = 1) : p + 0 = 1 := by
  rw [Nat.add_zero]
  exact h

def andN : List Prop → Prop
  | [] => True
  | p :: ps => p ∧ andN ps

theorem andN_nil : andN [] = True := by unfold andN; rfl

theorem pat_fun : ∀ q : Nat × Nat, q.1 + 0 = q.1 := fun ⟨p, _⟩ => Nat.add_zero p

theorem pat_match (q : Nat × Nat) : q.1 + q.2 = q.2 + q.1 :=
  match q with
  | (p, r) => Nat.add_comm p r

theorem pat_intro : (1 = 1 ∧ 2 = 2) → 2 = 2 := by
  intro ⟨_, p⟩
  exact p

theorem pat_obtain (h : ∃ p : Nat, double p = 4) : ∃ n : Nat, double n = 4 := by
  obtain ⟨p, hp⟩ := h
  exact ⟨p, hp⟩

theorem pat_rcases (h : 1 = 1 ∧ 2 = 2) : 2 = 2 := by
  rcases h with ⟨_, p⟩
  exact p

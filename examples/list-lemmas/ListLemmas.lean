import ListLemmas.Defs
import ListLemmas.Append
import ListLemmas.Reverse

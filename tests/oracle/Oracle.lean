import Oracle.Defs
import Oracle.Locals
import Oracle.Lookup
import Oracle.Match
import Oracle.Steps
import Oracle.Where

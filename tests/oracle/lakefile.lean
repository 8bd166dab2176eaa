import Lake
open Lake DSL

package oracle

@[default_target]
lean_lib Oracle

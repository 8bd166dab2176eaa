import Lake
open Lake DSL

package «expr-eval» where

@[default_target]
lean_lib ExprEval where

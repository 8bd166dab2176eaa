import Lake
open Lake DSL

package «nat-basics» where

@[default_target]
lean_lib NatBasics where

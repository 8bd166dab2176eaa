import ExprEval.Expr
import ExprEval.Logic

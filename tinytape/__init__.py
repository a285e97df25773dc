"""tinytape: a small reverse-mode autodiff tape over NumPy, for learning backpropagation.

    >>> import numpy as np, tinytape as tt
    >>> x = tt.Tensor(np.array([0.5, -1.0]))
    >>> with tt.Tape() as tape:
    ...     tape.watch(x)
    ...     y = tt.tanh(x).sum()
    >>> tape.gradient(y, x)          # 1 - tanh(x)^2
    array([0.78644773, 0.41997434])
"""
from tinytape.errors import ShapeError, TapeError
from tinytape.functional import grad, value_and_grad, vjp
from tinytape.memory import keep_freed_memory
from tinytape.functions import (abs, add, clip, concatenate, copy, cos, div, dot, exp, log,
                                log_softmax, matmul, max, maximum, mean, minimum, mul, neg, pow,
                                relu, reshape, sigmoid, sin, softmax, split, sqrt, square, stack,
                                stop_gradient, sub, sum, take, tanh, transpose, where)
from tinytape.ops import Op
from tinytape.tape import Record, Tape, scope, unbroadcast
from tinytape.replay import Replay
from tinytape.tensor import Tensor
from tinytape import check  # noqa: E402  (after Tape/Tensor: check builds on them)

__version__ = "0.1.0"


def tensor(value, requires_grad=False, name=None, dtype=None):
    """Same as Tensor(...): a value the tape can follow."""
    return Tensor(value, requires_grad=requires_grad, name=name, dtype=dtype)


__all__ = [
    "Tensor", "tensor", "Tape", "Record", "Replay", "Op", "scope", "grad", "value_and_grad", "vjp", "check",
    "ShapeError", "TapeError", "unbroadcast", "keep_freed_memory",
    "abs", "add", "clip", "concatenate", "copy", "cos", "div", "dot", "exp", "log", "log_softmax",
    "matmul", "max", "maximum", "mean", "minimum", "mul", "neg", "pow", "relu", "reshape",
    "sigmoid", "sin", "softmax", "split", "sqrt", "square", "stack", "stop_gradient", "sub", "sum",
    "take", "tanh", "transpose", "where",
]

"""The op table: every primitive's forward beside its vector-Jacobian products.

An op is `Op(name, symbol, forward, vjps)`:

- `forward(*input_values, **params) -> ndarray` computes the value;
- `vjps[i](g, ans, *input_values, **params)` returns the gradient for input `i`,
  given `g` (the gradient arriving at the output) and `ans` (the output value);
- optionally `accumulate(buf, g, *input_values, **params)`, for ops whose input
  gradient is `g` scattered into zeros (a slice, rows): it adds `g` into `buf`, the
  input's gradient being summed, in place. The sweep then builds one gradient for all
  the slices of an array instead of a zero array per slice plus the sums
  (`split`, or an LSTM's gates cut from one stacked pre-activation).

A VJP may return a gradient with the *broadcast* shape; the backward sweep reduces it
to the input's shape once, centrally (`tape.unbroadcast`), so no VJP repeats that
logic. A VJP never writes into `g`, `ans` or an input (they may be shared).

To add an op: write its forward and VJPs here, side by side, and a public function
in `functions.py`. Calling an `Op` applies it (records it when a tape is watching).
"""
from __future__ import annotations

import builtins

import numpy as np

from tinytape.tensor import apply


class Op:
    """A primitive: its name, the symbol drawings show, its forward and its VJPs."""

    __slots__ = ("name", "symbol", "forward", "vjps", "vjp_nth", "hint", "shaped", "accumulate")

    def __init__(self, name, symbol, forward, vjps=None, vjp_nth=None, hint="", shaped=False,
                 accumulate=None):
        self.name = name
        self.symbol = symbol
        self.forward = forward
        # Fixed arity: one VJP per input. Variadic ops (concatenate, stack) give
        # `vjp_nth(i, g, ans, *inputs, **params)` instead.
        self.vjps = vjps
        self.vjp_nth = vjp_nth
        self.hint = hint
        # shaped=True: every VJP already returns its input's shape (no broadcasting can
        # happen), so the sweep skips the shape check; the tests check the claim per op.
        self.shaped = shaped
        # A one-input op whose VJP is `g` scattered into zeros of the input's shape may
        # say so: accumulate(buf, g, x, **params) adds that scatter into `buf` in place.
        self.accumulate = accumulate

    def vjp(self, i, g, ans, values, params):
        """The gradient for input `i` (used by the backward sweep)."""
        if self.vjps is not None:
            fn = self.vjps[i]
            return fn(g, ans, *values, **params) if params else fn(g, ans, *values)
        return self.vjp_nth(i, g, ans, *values, **(params or {}))

    def __call__(self, *args, **params):
        return apply(self, args, params or None)

    def __repr__(self):
        return f"<op {self.name} ({self.symbol})>"


_BROADCAST_HINT = ("elementwise ops need shapes that broadcast (compare from the right: "
                   "each pair of dimensions equal, or one of them 1); a bias is (n, 1), "
                   "a batch of column vectors (n, m)")


def _elementwise(name, symbol, forward, *vjps):
    # One input: the output, its gradient and the input's gradient share one shape.
    return Op(name, symbol, forward, vjps, hint=_BROADCAST_HINT, shaped=len(vjps) == 1)


def passes_gradient(g, ans, *inputs):
    """The VJP of an input the output depends on with slope 1 (a sum's terms, a copy):
    g itself. The backward sweep knows this function and skips the call."""
    return g


# ---------------------------------------------------------------- arithmetic
add = _elementwise("add", "+", np.add, passes_gradient, passes_gradient)
sub = _elementwise("sub", "−", np.subtract,
                   passes_gradient,
                   lambda g, ans, a, b: -g)
mul = _elementwise("mul", "⊙", np.multiply,
                   lambda g, ans, a, b: g * b,
                   lambda g, ans, a, b: g * a)
div = _elementwise("div", "÷", np.true_divide,
                   lambda g, ans, a, b: g / b,
                   lambda g, ans, a, b: -g * ans / b)
neg = _elementwise("neg", "−", np.negative,
                   lambda g, ans, x: -g)


def _pow_exponent_vjp(g, ans, x, p):
    # d(x^p)/dp = x^p log x, defined for x > 0; elsewhere we give 0 (as autograd does).
    safe = np.where(x > 0, x, 1.0)
    return g * ans * np.log(safe)


pow = _elementwise("pow", "^", np.power,
                   lambda g, ans, x, p: g * p * np.power(x, p - 1),
                   _pow_exponent_vjp)

# ---------------------------------------------------------------- elementwise functions
exp = _elementwise("exp", "exp", np.exp, lambda g, ans, x: g * ans)
log = _elementwise("log", "log", np.log, lambda g, ans, x: g / x)
sqrt = _elementwise("sqrt", "√", np.sqrt, lambda g, ans, x: g * 0.5 / ans)
square = _elementwise("square", "²", np.square, lambda g, ans, x: g * 2.0 * x)
abs = _elementwise("abs", "|·|", np.abs, lambda g, ans, x: g * np.sign(x))  # 0 at 0
sin = _elementwise("sin", "sin", np.sin, lambda g, ans, x: g * np.cos(x))
cos = _elementwise("cos", "cos", np.cos, lambda g, ans, x: -g * np.sin(x))
copy = _elementwise("copy", "=", np.array, passes_gradient)


def _scalar_float64_tanh() -> bool:
    """True where NumPy's float64 tanh runs one element at a time: x86 without AVX-512
    (its SIMD kernel, converted from Intel SVML, is dispatched only to AVX512_SKX)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # NumPy 1.x
        try:
            from numpy.core._multiarray_umath import __cpu_features__ as features
        except ImportError:
            return False
    return bool(features.get("SSE2")) and not features.get("AVX512_SKX")


_SCALAR_F64_TANH = _scalar_float64_tanh()
_FLOAT64 = np.dtype(np.float64)  # a singleton: compared with `is`
_ndarray = np.ndarray


def _tanh(x):
    # tanh z = (e^{2z} − 1) / (e^{2z} + 1) = u / (u + 2) with u = expm1(2z): exact to
    # rounding near 0 (expm1 keeps the relative precision) and within 4 ulp of np.tanh
    # elsewhere (3 measured; tests/test_ops.py checks it). Where NumPy's float64 tanh is
    # scalar it costs 0.55–0.75× np.tanh for |z| ≲ 0.3, where a recurrent cell's
    # pre-activations mostly are, and 0.9–1.0× for wide spreads (bench/README.md).
    # z is clipped to ±20, where tanh is ±1.0 in float64, so that nothing overflows.
    # Small arrays keep np.tanh: one call beats six there.
    if type(x) is _ndarray and x.size >= 512 and x.dtype is _FLOAT64 and _SCALAR_F64_TANH:
        u = np.minimum(x, 20.0)
        np.maximum(u, -20.0, out=u)
        u *= 2.0
        np.expm1(u, out=u)
        u /= u + 2.0
        return u
    return np.tanh(x)


# tanh'(z) = 1 − tanh²(z), written with the output: the thesis's (A-2). As
# g − (g·ans)·ans it is three array-array ufunc calls: `1.0 − ·` would be dearer, as a
# Python float is converted on every call (~0.3 µs, a fifth of the VJP on small arrays).
tanh = _elementwise("tanh", "tanh", _tanh, lambda g, ans, x: g - g * ans * ans)


def _sigmoid(x):
    # 1 / (1 + e^−x) is exact to rounding for every x; the only hazard is e^−x
    # overflowing (with a warning) for x < −709, so the exponent is capped there:
    # 1 / (1 + e^709) ≈ 1e−308 stands for a true value below 1e−308.
    return 1.0 / (1.0 + np.exp(np.minimum(-x, 709.0)))


# σ'(z) = σ(z)(1 − σ(z)), written with the output: the thesis's (A-3); as
# gσ − (gσ)·σ, without a Python float (see tanh above).
def _sigmoid_vjp(g, ans, x):
    g_ans = g * ans
    return g_ans - g_ans * ans


sigmoid = _elementwise("sigmoid", "σ", _sigmoid, _sigmoid_vjp)
relu = _elementwise("relu", "relu", lambda x: np.maximum(x, 0.0),
                    lambda g, ans, x: g * (x > 0))  # relu'(0) = 0


def _tie_share(x, y):
    # Where x == y both sides get half: the subgradient that keeps the sum of the
    # two gradients equal to g (as TensorFlow does for maximum/minimum ties).
    return np.where(x > y, 1.0, np.where(x == y, 0.5, 0.0))


maximum = _elementwise("maximum", "max", np.maximum,
                       lambda g, ans, a, b: g * _tie_share(a, b),
                       lambda g, ans, a, b: g * _tie_share(b, a))
minimum = _elementwise("minimum", "min", np.minimum,
                       lambda g, ans, a, b: g * _tie_share(b, a),
                       lambda g, ans, a, b: g * _tie_share(a, b))

# ---------------------------------------------------------------- matmul


# With a contracted dimension of 1 (a batch of one column: dW = dz hᵀ) a VJP is an outer
# product. NumPy's matmul runs that in its own scalar loop (no BLAS call fits it); the
# broadcast multiply gives the same numbers with SIMD: 2.4× faster at 32 × 32 (the
# benchmark RNN's dW), 2.6× at 78 × 78.
def _matmul_vjp_a(g, ans, a, b):
    if a.ndim == 2 and b.ndim == 2:
        return g * b.T if b.shape[1] == 1 else g @ b.T
    if b.ndim == 1:
        return g * b if a.ndim == 1 else g[..., None] * b   # (..., n) ⊗ (k,) -> (..., n, k)
    if a.ndim == 1:
        return (b @ g[..., None])[..., 0]                   # Σ_p b[k, p] g[p] -> (..., k)
    return g @ np.swapaxes(b, -1, -2)


def _matmul_vjp_b(g, ans, a, b):
    if a.ndim == 2 and b.ndim == 2:
        return a.T * g if a.shape[0] == 1 else a.T @ g
    if a.ndim == 1:
        return g * a if b.ndim == 1 else a[:, None] * g[..., None, :]  # (k,) ⊗ (..., p)
    if b.ndim == 1:
        return (np.swapaxes(a, -1, -2) @ g[..., None])[..., 0]
    return np.swapaxes(a, -1, -2) @ g


matmul = Op("matmul", "@", np.matmul, (_matmul_vjp_a, _matmul_vjp_b),
            hint="matmul needs the inner dimensions to agree, (n, k) @ (k, p); check the "
                 "order of the operands, or transpose one (W.T)")

# ---------------------------------------------------------------- shape ops


def _inverse_permutation(axes, ndim):
    if axes is None:
        return None                                   # reversing twice is the identity
    axes = [a % ndim for a in axes]
    return tuple(np.argsort(axes))


transpose = Op("transpose", "ᵀ", lambda x, axes=None: np.transpose(x, axes),
               (lambda g, ans, x, axes=None: np.transpose(g, _inverse_permutation(axes, x.ndim)),),
               hint="axes must be a permutation of the array's dimensions", shaped=True)
reshape = Op("reshape", "reshape", lambda x, shape: np.reshape(x, shape),
             (lambda g, ans, x, shape: np.reshape(g, x.shape),),
             hint="the new shape must hold the same number of elements", shaped=True)

# ---------------------------------------------------------------- reductions


def _normalize_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(a % ndim for a in axis)
    return (axis % ndim,)


def _expand_reduced(g, x, axis, keepdims):
    """Put back the reduced axes of `g` as size-1 dimensions so it broadcasts to x."""
    if keepdims or x.ndim == 0:
        return g
    return np.expand_dims(g, _normalize_axes(axis, x.ndim))


def _sum_vjp(g, ans, x, axis=None, keepdims=False):
    return np.broadcast_to(_expand_reduced(g, x, axis, keepdims), x.shape)


def _mean_vjp(g, ans, x, axis=None, keepdims=False):
    count = x.size // builtins.max(ans.size, 1) if x.size else 1
    return np.broadcast_to(_expand_reduced(g, x, axis, keepdims) / count, x.shape)


def _max_vjp(g, ans, x, axis=None, keepdims=False):
    # Tie rule: the gradient is shared equally among all entries equal to the max,
    # so the gradients still sum to g (TensorFlow's reduce_max does the same).
    top = _expand_reduced(ans, x, axis, keepdims)
    hits = (x == top)
    share = hits / np.sum(hits, axis=_normalize_axes(axis, x.ndim), keepdims=True)
    return _expand_reduced(g, x, axis, keepdims) * share


_AXIS_HINT = "axis must name an existing dimension (−ndim ≤ axis < ndim)"
sum = Op("sum", "Σ", lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
         (_sum_vjp,), hint=_AXIS_HINT, shaped=True)
mean = Op("mean", "mean", lambda x, axis=None, keepdims=False: np.mean(x, axis=axis, keepdims=keepdims),
          (_mean_vjp,), hint=_AXIS_HINT, shaped=True)
max = Op("max", "max", lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims),
         (_max_vjp,), hint=_AXIS_HINT + "; max of an empty array is undefined", shaped=True)

# ---------------------------------------------------------------- joining


def _concatenate_vjp(i, g, ans, *xs, axis=0):
    axis = axis % ans.ndim
    start = 0
    for x in xs[:i]:
        start += x.shape[axis]
    index = [slice(None)] * ans.ndim
    index[axis] = slice(start, start + xs[i].shape[axis])
    return g[tuple(index)]


def _stack_vjp(i, g, ans, *xs, axis=0):
    return np.take(g, i, axis=axis)


concatenate = Op("concatenate", "concat", lambda *xs, axis=0: np.concatenate(xs, axis=axis),
                 vjp_nth=_concatenate_vjp, shaped=True,
                 hint="all inputs must have the same shape except along the joining axis "
                      "(for the lab's [h; x]: (n_h, m) and (n_x, m) joined on axis 0)")
stack = Op("stack", "stack", lambda *xs, axis=0: np.stack(xs, axis=axis), vjp_nth=_stack_vjp, shaped=True,
           hint="all inputs must have the same shape")

# ---------------------------------------------------------------- indexing


def _is_advanced(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (np.ndarray, list)) for p in parts)


def _getitem_accumulate(buf, g, x, index):
    if _is_advanced(index):
        np.add.at(buf, index, g)     # repeated indices: their gradients add up
    else:
        buf[index] += g              # a basic index never selects an entry twice


def _getitem_vjp(g, ans, x, index):
    grad = np.zeros(x.shape, dtype=g.dtype)
    _getitem_accumulate(grad, g, x, index)
    return grad


def _setitem_forward(x, v, index):
    if _is_advanced(index):
        hits = np.zeros(np.shape(x), dtype=np.intp)
        np.add.at(hits, index, 1)
        if hits.max(initial=0) > 1:
            raise ValueError("repeated indices in an assignment: later writes hide earlier ones, "
                             "so their gradient would be silently lost; assign each entry once")
    out = np.array(x, copy=True)
    out[index] = v
    return out


def _setitem_vjp_x(g, ans, x, v, index):
    grad = np.array(g, copy=True)
    grad[index] = 0.0                 # the overwritten entries no longer reach the output
    return grad


def _setitem_vjp_v(g, ans, x, v, index):
    return g[index]


def _take_accumulate(buf, g, x, indices):
    np.add.at(buf, indices, g)       # an embedding row used twice gets both gradients


def _take_vjp(g, ans, x, indices):
    grad = np.zeros(x.shape, dtype=g.dtype)
    _take_accumulate(grad, g, x, indices)
    return grad


_INDEX_HINT = "check the index against the array's shape"
getitem = Op("getitem", "[·]", lambda x, index: x[index], (_getitem_vjp,), hint=_INDEX_HINT,
             shaped=True, accumulate=_getitem_accumulate)
setitem = Op("setitem", "[·]=", _setitem_forward, (_setitem_vjp_x, _setitem_vjp_v),
             hint="the assigned value must broadcast to the selected region")
take = Op("take", "take", lambda x, indices: np.take(x, indices, axis=0), (_take_vjp,), shaped=True,
          hint="indices must be integers in [0, len(x))", accumulate=_take_accumulate)

# ---------------------------------------------------------------- selection


def _where_forward(a, b, condition):
    return np.where(condition, a, b)


where = Op("where", "where", _where_forward,
           (lambda g, ans, a, b, condition: np.where(condition, g, 0.0),
            lambda g, ans, a, b, condition: np.where(condition, 0.0, g)),
           hint=_BROADCAST_HINT)


def _clip_vjp(g, ans, x, lo=None, hi=None):
    # At the bounds themselves the gradient passes (x == lo counts as inside).
    inside = np.ones(x.shape, dtype=bool)
    if lo is not None:
        inside &= x >= lo
    if hi is not None:
        inside &= x <= hi
    return g * inside


clip = Op("clip", "clip", lambda x, lo=None, hi=None: np.clip(x, lo, hi), (_clip_vjp,))

# ---------------------------------------------------------------- softmax


def _softmax(x, axis=-1):
    shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))  # no overflow: max is 0
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


softmax = Op("softmax", "softmax", _softmax,
             (lambda g, ans, x, axis=-1: ans * (g - np.sum(g * ans, axis=axis, keepdims=True)),),
             hint=_AXIS_HINT, shaped=True)
log_softmax = Op("log_softmax", "log softmax", _log_softmax,
                 (lambda g, ans, x, axis=-1: g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True),),
                 hint=_AXIS_HINT, shaped=True)

# ---------------------------------------------------------------- no gradient
# stop_gradient(x) is x with no gradient back to x (tf.stop_gradient, torch's detach):
# the state entering a truncated-BPTT window. `tinytape.stop_gradient` records it with
# no gradient path, so a sweep never visits it and the steps before it get nothing; its
# VJP, zero, says the same to anyone who calls it directly.
stop_gradient = Op("stop_gradient", "stop ∇", lambda x: x, (lambda g, ans, x: np.zeros_like(g),),
                   shaped=True)

ALL = (add, sub, mul, div, neg, pow, exp, log, sqrt, square, abs, sin, cos, copy, tanh,
       sigmoid, relu, maximum, minimum, matmul, transpose, reshape, sum, mean, max,
       concatenate, stack, getitem, setitem, take, where, clip, softmax, log_softmax,
       stop_gradient)
BY_NAME = {op.name: op for op in ALL}

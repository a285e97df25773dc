"""Every op's VJP against central differences (float64), property-based over shapes.

The referee is `_numeric.central_difference` applied to the op's plain-NumPy forward;
the tape's gradient of ⟨op(x), u⟩ for a random u must match it, so every output
entry counts. Forwards are checked separately against textbook formulas.
"""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinytape as tt
from _numeric import central_difference

RTOL, ATOL = 1e-6, 1e-8


def assert_vjp(fn, *arrays, seed=0):
    """Tape gradient of sum(fn(*xs) * u) equals central differences for every input."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    out = np.asarray(fn(*arrays))
    u = np.random.default_rng(seed).standard_normal(out.shape)
    tensors = [tt.Tensor(a) for a in arrays]
    with tt.Tape() as tape:
        tape.watch(*tensors)
        y = fn(*tensors)
        assert isinstance(y, tt.Tensor), "an op on Tensors must give a Tensor"
        loss = (y * u).sum()
    assert_shaped_claims_hold(tape)
    grads = tape.gradient(loss, tensors)
    for i, a in enumerate(arrays):
        def f(xi, i=i):
            args = list(arrays)
            args[i] = xi
            return float(np.sum(np.asarray(fn(*args)) * u))
        expected = central_difference(f, a)
        assert grads[i].shape == a.shape
        np.testing.assert_allclose(grads[i], expected, rtol=RTOL, atol=ATOL,
                                   err_msg=f"input {i} of {getattr(fn, '__name__', fn)}")


def assert_shaped_claims_hold(tape):
    """An op marked `shaped` skips the sweep's unbroadcast: its VJPs must return exactly
    the input's shape on every case these tests generate."""
    for rec in tape.records:
        if not rec.op.shaped:
            continue
        g = np.ones(np.shape(rec.value))
        for i in rec.grad_inputs:
            gi = rec.op.vjp(i, g, rec.value, rec.input_values, rec.params)
            assert gi.shape == np.shape(rec.input_values[i]), (rec.op.name, i, gi.shape)


def floats(lo=-2.0, hi=2.0):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def arrays(shape, lo=-2.0, hi=2.0):
    return hnp.arrays(np.float64, shape, elements=floats(lo, hi))


two_broadcastable = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)


@st.composite
def broadcast_pair(draw, lo=-2.0, hi=2.0, lo_b=None, hi_b=None):
    shapes = draw(two_broadcastable).input_shapes
    a = draw(arrays(shapes[0], lo, hi))
    b = draw(arrays(shapes[1], lo if lo_b is None else lo_b, hi if hi_b is None else hi_b))
    return a, b


shape_strategy = hnp.array_shapes(min_dims=0, max_dims=3, max_side=3)


# ------------------------------------------------------------------ binary elementwise
@given(broadcast_pair())
def test_add_sub_mul(pair):
    a, b = pair
    assert_vjp(lambda x, y: x + y, a, b)
    assert_vjp(lambda x, y: x - y, a, b)
    assert_vjp(lambda x, y: x * y, a, b)
    assert_vjp(tt.add, a, b)


@given(broadcast_pair(lo_b=0.5, hi_b=2.0))
def test_div(pair):
    a, b = pair
    assert_vjp(lambda x, y: x / y, a, b)
    assert_vjp(lambda x, y: 1.5 / y, a, b)            # reflected: a constant over a tensor


@given(broadcast_pair(lo=0.5, hi=2.0, lo_b=-1.5, hi_b=1.5))
def test_pow_with_tensor_exponent(pair):
    a, b = pair
    assert_vjp(lambda x, p: x ** p, a, b)


@given(arrays(shape_strategy, 0.5, 2.0), st.sampled_from([2, 3, 0.5, -1.0, 1.5]))
def test_pow_scalar_exponent(x, p):
    assert_vjp(lambda t: t ** p, x)
    assert_vjp(lambda t: tt.pow(t, p), x)


@given(broadcast_pair())
def test_maximum_minimum_away_from_ties(pair):
    a, b = pair
    assume(np.all(np.abs(np.subtract(a, b)) > 1e-3))
    assert_vjp(tt.maximum, a, b)
    assert_vjp(tt.minimum, a, b)


def test_maximum_ties_share_the_gradient():
    a = tt.Tensor([1.0, 2.0])
    b = tt.Tensor([1.0, 0.0])
    with tt.Tape() as tape:
        tape.watch(a, b)
        y = tt.maximum(a, b).sum()
    ga, gb = tape.gradient(y, [a, b])
    np.testing.assert_array_equal(ga, [0.5, 1.0])
    np.testing.assert_array_equal(gb, [0.5, 0.0])


# ------------------------------------------------------------------ unary elementwise
UNARY = [
    (tt.exp, -2, 2), (tt.log, 0.2, 3), (tt.sqrt, 0.2, 3), (tt.square, -2, 2), (tt.sin, -3, 3),
    (tt.cos, -3, 3), (tt.tanh, -3, 3), (tt.sigmoid, -6, 6), (tt.neg, -2, 2), (tt.copy, -2, 2),
]


@pytest.mark.parametrize("fn,lo,hi", UNARY, ids=[f.__name__ for f, _, _ in UNARY])
@given(data=st.data())
def test_unary(fn, lo, hi, data):
    x = data.draw(arrays(shape_strategy, lo, hi))
    assert_vjp(fn, x)


@given(arrays(shape_strategy))
def test_abs_and_relu_away_from_zero(x):
    assume(np.all(np.abs(x) > 1e-3))
    assert_vjp(tt.abs, x)
    assert_vjp(tt.relu, x)
    assert_vjp(lambda t: abs(t), x)


def test_relu_and_abs_at_zero_give_zero():
    x = tt.Tensor([0.0])
    for fn in (tt.relu, tt.abs):
        with tt.Tape() as tape:
            tape.watch(x)
            y = fn(x).sum()
        assert tape.gradient(y, x)[0] == 0.0


def test_sigmoid_forward_is_stable_and_exact():
    x = np.array([-1000.0, -40.0, -5.0, 0.0, 5.0, 40.0, 1000.0])
    with np.errstate(over="raise", under="ignore"):
        y = tt.sigmoid(x)
    expected = np.array([0.0, np.exp(-40) / (1 + np.exp(-40)), 1 / (1 + np.exp(5)), 0.5,
                         1 / (1 + np.exp(-5)), 1.0, 1.0])
    assert 0.0 <= y[0] < 2e-308          # the true value underflows float64 anyway
    np.testing.assert_allclose(y[1:], expected[1:], rtol=1e-15, atol=0)
    assert y[1] > 0  # no underflow to zero at −40: the small side keeps its digits
    assert_vjp(tt.sigmoid, np.array([-30.0, -3.0, 0.1, 30.0]))


def _tanh_test_points():
    rng = np.random.default_rng(0)
    tiny = np.geomspace(1e-320, 1.0, 3000)
    special = [0.0, -0.0, 19.99, 20.0, 20.01, -20.0, 1e308, -1e308, np.inf, -np.inf]
    return np.concatenate([np.linspace(-40, 40, 200_001), tiny, -tiny, rng.standard_normal(5000),
                           special])


def test_tanh_expm1_form_agrees_with_numpy_to_a_few_ulp(monkeypatch):
    # The expm1 form is what tinytape.tanh computes on large float64 arrays where
    # NumPy's tanh is scalar (x86 without AVX-512); force it so every CPU tests it.
    monkeypatch.setattr(tt.ops, "_SCALAR_F64_TANH", True)
    x = _tanh_test_points()
    with np.errstate(all="raise", under="ignore"):     # NumPy's default ignores underflow
        y = tt.tanh(x)
    expected = np.tanh(x)
    ulps = np.abs(y - expected) / np.spacing(np.abs(expected))
    assert ulps.max() <= 4, f"{ulps.max()} ulp at x = {x[np.argmax(ulps)]!r}"
    assert np.array_equal(np.signbit(y), np.signbit(expected))     # −0.0 stays −0.0
    assert np.isnan(tt.tanh(np.full(600, np.nan))).all()
    small = x[np.abs(x) < 1e-8]
    np.testing.assert_array_equal(tt.tanh(np.resize(small, 600)), np.resize(small, 600))


def test_tanh_uses_numpy_where_the_expm1_form_would_not_pay(monkeypatch):
    monkeypatch.setattr(tt.ops, "_SCALAR_F64_TANH", True)
    x = np.random.default_rng(1).standard_normal(5000) * 3
    np.testing.assert_array_equal(tt.tanh(x[:100]), np.tanh(x[:100]))           # small
    np.testing.assert_array_equal(tt.tanh(x.astype(np.float32)),                  # float32 is SIMD
                                  np.tanh(x.astype(np.float32)))
    monkeypatch.setattr(tt.ops, "_SCALAR_F64_TANH", False)
    np.testing.assert_array_equal(tt.tanh(x), np.tanh(x))                         # SIMD CPU


def test_tanh_gradient_on_a_large_array(monkeypatch):
    monkeypatch.setattr(tt.ops, "_SCALAR_F64_TANH", True)
    assert_vjp(tt.tanh, np.random.default_rng(2).uniform(-4, 4, (30, 20)))


# ------------------------------------------------------------------ matmul
@pytest.mark.parametrize("shape_a,shape_b", [
    ((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((1, 2, 3), (4, 3, 2)), ((3,), (5, 3, 2)),
    ((5, 2, 3), (3,)),
])
def test_matmul_shapes(shape_a, shape_b):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    assert_vjp(tt.matmul, a, b)
    assert_vjp(lambda x, y: x @ y, a, b)
    if len(shape_a) <= 2 and len(shape_b) <= 2:
        assert_vjp(tt.dot, a, b)


# ------------------------------------------------------------------ reductions
@st.composite
def array_and_axis(draw, lo=-2.0, hi=2.0):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    x = draw(arrays(shape, lo, hi))
    axis = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                          st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape),
                                   unique=True).map(tuple)))
    keepdims = draw(st.booleans())
    return x, axis, keepdims


@given(array_and_axis())
def test_sum_mean(case):
    x, axis, keepdims = case
    assert_vjp(lambda t: tt.sum(t, axis=axis, keepdims=keepdims), x)
    assert_vjp(lambda t: tt.mean(t, axis=axis, keepdims=keepdims), x)


@given(array_and_axis())
def test_max_without_ties(case):
    x, axis, keepdims = case
    assume(x.size < 2 or np.min(np.diff(np.sort(x.ravel()))) > 1e-3)  # no ties within the FD step
    assert_vjp(lambda t: tt.max(t, axis=axis, keepdims=keepdims), x)


def test_max_tie_rule_shares_equally():
    x = tt.Tensor([[3.0, 1.0, 3.0], [0.0, 2.0, 1.0]])
    with tt.Tape() as tape:
        tape.watch(x)
        y = x.max(axis=1).sum()
    np.testing.assert_array_equal(tape.gradient(y, x), [[0.5, 0, 0.5], [0, 1, 0]])


def test_reductions_of_0d_arrays():
    assert_vjp(tt.sum, np.array(1.5))
    assert_vjp(tt.mean, np.array(1.5))
    assert_vjp(tt.max, np.array(1.5))


# ------------------------------------------------------------------ shape ops
@given(arrays(hnp.array_shapes(min_dims=0, max_dims=4, max_side=3)), st.randoms(use_true_random=False))
def test_transpose_reshape(x, rnd):
    axes = list(range(x.ndim))
    rnd.shuffle(axes)
    assert_vjp(lambda t: tt.transpose(t, axes), x)
    assert_vjp(lambda t: tt.transpose(t), x)
    assert_vjp(lambda t: tt.reshape(t, (-1,)), x)
    if x.ndim >= 2:
        assert_vjp(lambda t: t.T, x)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_stack_split(axis):
    rng = np.random.default_rng(2)
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    assert_vjp(lambda x, y, z: tt.concatenate([x, y, z], axis=axis), a, b, c)
    assert_vjp(lambda x, y, z: tt.stack([x, y, z], axis=axis), a, b, c)
    square = rng.standard_normal((6, 6))
    assert_vjp(lambda x: tt.concatenate(tt.split(x, 3, axis=axis)[::-1], axis=axis) * 2.0, square)
    assert_vjp(lambda x: tt.concatenate(tt.split(x, [1, 4], axis=axis)[::-1], axis=axis), square)


def test_split_matches_numpy():
    x = np.arange(12.0).reshape(3, 4)
    for got, want in zip(tt.split(tt.Tensor(x), [1, 3], axis=1), np.split(x, [1, 3], axis=1)):
        np.testing.assert_array_equal(got.value, want)


def test_concatenate_lab_style_h_over_x():
    rng = np.random.default_rng(3)
    h, x = rng.standard_normal((4, 2)), rng.standard_normal((3, 2))
    assert_vjp(lambda p, q: tt.concatenate([p, q], axis=0), h, x)


# ------------------------------------------------------------------ indexing
INDICES = [
    np.s_[0], np.s_[1:3], np.s_[:, 1], np.s_[..., -1], np.s_[::2, 1:], np.s_[2:2],   # empty slice
    np.s_[[0, 0, 2]], np.s_[[1, 1], [2, 2]], np.s_[:, [0, 2, 0]], np.s_[None, 1],
]


@pytest.mark.parametrize("index", INDICES, ids=[str(i) for i in INDICES])
def test_getitem(index):
    x = np.random.default_rng(4).standard_normal((3, 4))
    assert_vjp(lambda t: t[index], x)


def test_getitem_boolean_mask():
    x = np.random.default_rng(5).standard_normal((3, 4))
    assert_vjp(lambda t: t[x > 0], x)


def test_repeated_indices_scatter_add():
    x = tt.Tensor([1.0, 2.0, 3.0])
    with tt.Tape() as tape:
        tape.watch(x)
        y = x[[0, 0, 0, 2]].sum()
    np.testing.assert_array_equal(tape.gradient(y, x), [3.0, 0.0, 1.0])


def test_take_embedding_rows_add_up():
    E = np.random.default_rng(6).standard_normal((5, 3))
    assert_vjp(lambda e: tt.take(e, [1, 3, 1, 1]), E)
    e = tt.Tensor(E)
    with tt.Tape() as tape:
        tape.watch(e)
        y = tt.take(e, [1, 3, 1]).sum()
    np.testing.assert_array_equal(tape.gradient(y, e).sum(axis=1), [0, 6, 0, 3, 0])


@pytest.mark.parametrize("index", [np.s_[0], np.s_[:, 1:3], np.s_[[0, 2]], np.s_[..., 0]])
def test_setitem_is_a_functional_update(index):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4))
    v = rng.standard_normal(np.zeros((3, 4))[index].shape)

    def fn(a, b):
        if not isinstance(a, tt.Tensor):
            out = np.array(a)
            out[index] = b
            return out * 2.0
        out = a * 1.0
        out[index] = b
        return out * 2.0
    assert_vjp(fn, x, v)


def test_setitem_keeps_old_version_on_the_tape():
    x = tt.Tensor([1.0, 2.0, 3.0])
    with tt.Tape() as tape:
        tape.watch(x)
        y = x * 1.0
        before = y * 3.0           # uses the old version of y
        old_key = y.key
        y[1] = 10.0                # y now names a new version
        loss = (before + y).sum()
    assert y.key != old_key
    assert tape.producer(old_key).op.name == "mul"
    assert tape.producer(y.key).op.name == "setitem"
    np.testing.assert_array_equal(tape.gradient(loss, x), [4.0, 3.0, 4.0])


def test_setitem_with_repeated_indices_is_refused():
    y = tt.Tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="repeated indices"):
        y[[0, 0]] = tt.Tensor([1.0, 2.0])


# ------------------------------------------------------------------ selection and softmax
@given(broadcast_pair())
def test_where(pair):
    a, b = pair
    cond = np.broadcast_to(np.add(a, b) > 0, np.broadcast_shapes(np.shape(a), np.shape(b)))
    assert_vjp(lambda x, y: tt.where(cond, x, y), a, b)


@given(arrays(shape_strategy, -3, 3))
def test_clip(x):
    assume(np.all(np.abs(np.abs(x) - 1.0) > 1e-3))
    assert_vjp(lambda t: tt.clip(t, -1.0, 1.0), x)
    if np.all(np.abs(x) > 1e-3):                      # away from the kink at 0
        assert_vjp(lambda t: tt.clip(t, lo=0.0), x)


def test_clip_with_tensor_bounds_treats_them_as_constants():
    x, hi = tt.Tensor([0.5, 2.0]), tt.Tensor(1.0)
    with tt.Tape() as tape:
        tape.watch(x, hi)
        y = (tt.clip(x, 0.0, hi) + np.clip(x, 0.0, hi)).sum()
    gx, ghi = tape.gradient(y, [x, hi])
    np.testing.assert_array_equal(gx, [2.0, 0.0])
    assert ghi == 0.0


@given(array_and_axis(-5, 5))
def test_softmax_and_log_softmax(case):
    x, axis, _ = case
    if isinstance(axis, tuple) or axis is None:
        axis = -1
    assert_vjp(lambda t: tt.softmax(t, axis=axis), x)
    assert_vjp(lambda t: tt.log_softmax(t, axis=axis), x)


def test_softmax_is_stable_for_large_inputs():
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -1000.0]])
    with np.errstate(over="raise"):
        s = tt.softmax(x, axis=1)
        ls = tt.log_softmax(x, axis=1)
    np.testing.assert_allclose(s[1], [1 / 3] * 3, rtol=1e-15)   # exp(−1000) underflows naively
    e = np.exp([1.0, 2.0, 0.0])
    np.testing.assert_allclose(s[0], e / e.sum(), rtol=1e-14)
    np.testing.assert_allclose(ls, np.log(s), rtol=1e-13)
    assert_vjp(lambda t: tt.softmax(t, axis=1), x)


# ------------------------------------------------------------------ polymorphism, dtypes
def test_functions_on_plain_arrays_return_plain_arrays():
    x = np.array([[0.5, -1.0]])
    for fn in (tt.tanh, tt.sigmoid, tt.exp, lambda a: tt.concatenate([a, a]), tt.softmax):
        out = fn(x)
        assert type(out) is np.ndarray


def test_integer_and_bool_inputs_become_float64():
    assert tt.Tensor([1, 2]).dtype == np.float64
    assert tt.Tensor([True, False]).dtype == np.float64
    assert tt.Tensor(np.float32([1.0])).dtype == np.float32


@pytest.mark.parametrize("fn", [tt.tanh, tt.sigmoid, tt.exp, lambda t: t * 2.0 + 1.0, lambda t: t @ t.T,
                                lambda t: tt.softmax(t)])
def test_float32_stays_float32(fn):
    x = tt.Tensor(np.random.default_rng(8).standard_normal((3, 3)), dtype=np.float32)
    with tt.Tape() as tape:
        tape.watch(x)
        y = fn(x)
        loss = y.sum()
    assert y.dtype == np.float32
    g = tape.gradient(loss, x)
    assert g.dtype == np.float32


def test_every_op_in_the_table_has_a_vjp_for_each_input():
    from tinytape import ops
    for op in ops.ALL:
        assert (op.vjps is not None) != (op.vjp_nth is not None), op.name
        assert op.symbol and op.name

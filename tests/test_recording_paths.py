"""The recording entry points (apply1, apply2, the n-ary apply) and the sweep's
pass-through shortcut: every path records the user's line, and a gradient handed on
without a VJP call is still summed and un-broadcast like any other."""
import inspect

import numpy as np
import pytest

import tinytape as tt
from tinytape import ops
from tinytape.check import numeric_gradient


def _line_after():
    return inspect.currentframe().f_back.f_lineno + 1


ENTRY_POINTS = {
    "operator": lambda x: x * 2.0,
    "reflected operator": lambda x: 2.0 - x,
    "unary function": lambda x: tt.tanh(x),
    "binary function": lambda x: tt.maximum(x, 0.5),
    "function with parameters": lambda x: tt.sum(x, axis=0),
    "method": lambda x: x.sum(),
    "property": lambda x: x.T,
    "op called directly": lambda x: ops.exp(x),
    "numpy ufunc on a tensor": lambda x: np.sin(x),
    "variadic op": lambda x: tt.concatenate([x, x], axis=0),
    "indexing": lambda x: x[0],
}


@pytest.mark.parametrize("name", list(ENTRY_POINTS))
def test_every_entry_point_records_the_users_line(name):
    x = tt.Tensor(np.arange(1.0, 7.0).reshape(2, 3))
    with tt.Tape() as tape:
        tape.watch(x)
        ENTRY_POINTS[name](x)
    # The op is called inside the lambda: its line is the ENTRY_POINTS entry, not the
    # call above nor a line inside tinytape.
    sites = {r.site for r in tape.records}
    assert len(sites) == 1
    (filename, lineno), = sites
    assert filename == __file__
    assert f'"{name}"' in open(__file__).read().splitlines()[lineno - 1]


def test_a_site_is_found_once_and_shared_by_nested_tracing_tapes():
    x = tt.Tensor(np.ones(3))
    with tt.Tape() as outer, tt.Tape(trace=False) as middle, tt.Tape() as inner:
        for tape in (outer, middle, inner):
            tape.watch(x)
        line = _line_after()
        tt.tanh(x) + x
    assert [r.site for r in middle.records] == [None, None]
    assert [r.site for r in outer.records] == [r.site for r in inner.records] == [(__file__, line)] * 2


def test_the_same_gradient_object_reaching_a_value_twice_is_summed():
    # s = a + b hands one g object to both a and b; a = x + 1 and b = x + 2 hand it on
    # again: x receives that object twice and its gradient is 2g, not g.
    x = tt.Tensor(np.array([1.0, -2.0, 3.0]))
    with tt.Tape() as tape:
        tape.watch(x)
        s = (x + 1.0) + (x + 2.0)
    g = tape.gradient(s, x, output_gradient=np.array([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(g, [2.0, 20.0, 200.0])


def test_a_value_added_to_itself_gets_both_terms():
    x = tt.Tensor(np.array([0.5, 4.0]))
    with tt.Tape() as tape:
        tape.watch(x)
        y = (x + x).sum()
    np.testing.assert_array_equal(tape.gradient(y, x), [2.0, 2.0])


@pytest.mark.parametrize("op", ["add", "sub"])
def test_passed_on_gradients_are_reduced_to_a_broadcast_inputs_shape(op):
    rng = np.random.default_rng(0)
    bias0, h0 = rng.standard_normal((1, 3)), rng.standard_normal((4, 3))
    weights = rng.standard_normal((4, 3))

    def f(bias, h):
        combined = bias + h if op == "add" else bias - h
        return (combined * weights).sum()

    dbias, dh = tt.grad(f, argnums=(0, 1))(bias0, h0)
    assert dbias.shape == (1, 3) and dh.shape == (4, 3)
    np.testing.assert_allclose(dbias, numeric_gradient(lambda b: f(b, h0), bias0), rtol=1e-8)
    np.testing.assert_allclose(dh, numeric_gradient(lambda h: f(bias0, h), h0), rtol=1e-8)


def test_the_pass_through_vjp_is_g_itself():
    g = np.ones(2)
    assert ops.passes_gradient(g, None, np.zeros(2), np.zeros(2)) is g
    assert ops.add.vjps == (ops.passes_gradient, ops.passes_gradient)
    assert ops.sub.vjps[0] is ops.passes_gradient and ops.sub.vjps[1] is not ops.passes_gradient


def test_replay_takes_the_same_shortcut_bit_for_bit():
    rng = np.random.default_rng(1)
    W0, x0 = rng.standard_normal((3, 3)), rng.standard_normal((3, 1))
    W = tt.Tensor(W0)
    with tt.Tape(persistent=True) as tape:
        tape.watch(W)
        h = tt.Tensor(x0)
        for _ in range(5):
            h = tt.tanh(W @ h + h) - 0.1
        loss = (h * h).sum()
    recorded = tape.gradient(loss, W)
    _, replayed = tape.replayer(loss, W)({W: W0})
    np.testing.assert_array_equal(replayed, recorded)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_outer_product_vjps_equal_matmuls_own_result(dtype):
    # A contracted dimension of 1 makes matmul's VJP an outer product, computed as a
    # broadcast multiply; it must give matmul's numbers (each is one product, exactly).
    rng = np.random.default_rng(2)
    W, h = rng.standard_normal((5, 7)).astype(dtype), rng.standard_normal((7, 1)).astype(dtype)
    row, M = rng.standard_normal((1, 4)).astype(dtype), rng.standard_normal((4, 3)).astype(dtype)
    for a, b in ((W, h), (row, M)):
        ans = a @ b
        g = rng.standard_normal(ans.shape).astype(dtype)
        da, db = ops.matmul.vjps[0](g, ans, a, b), ops.matmul.vjps[1](g, ans, a, b)
        assert da.dtype == db.dtype == dtype
        np.testing.assert_array_equal(da, g @ b.T)
        np.testing.assert_array_equal(db, a.T @ g)


def test_outer_product_vjps_against_central_differences():
    rng = np.random.default_rng(3)
    W0, h0, U0 = rng.standard_normal((6, 6)), rng.standard_normal((6, 1)), rng.standard_normal((1, 6))

    def f(W, h, U):
        return tt.tanh(U @ tt.tanh(W @ h)).sum()

    grads = tt.grad(f, argnums=(0, 1, 2))(W0, h0, U0)
    for i, (g, x0) in enumerate(zip(grads, (W0, h0, U0))):
        def f_i(x):
            args = [W0, h0, U0]
            args[i] = x
            return f(*args)
        np.testing.assert_allclose(g, numeric_gradient(f_i, x0), rtol=1e-7, atol=1e-9)

"""Tape semantics: tracking, persistence, nesting, scopes, fan-out, depth, records."""
import numpy as np
import pytest

import tinytape as tt
from _numeric import central_difference


def test_fan_out_accumulates():          # early tinygrad returned 3 for d(x·x)/dx at 3
    x = tt.Tensor(3.0)
    with tt.Tape() as tape:
        tape.watch(x)
        y = x * x
    assert tape.gradient(y, x) == pytest.approx(6.0)


@pytest.mark.parametrize("fn,expected", [
    (lambda x: (x + x) * x, lambda v: 4 * v),                               # (x+x)*x
    (lambda x: tt.sin(tt.sin(x) + tt.sin(x)), lambda v: np.cos(2 * np.sin(v)) * 2 * np.cos(v)),
])
def test_regression_graphs(fn, expected):
    v = 0.7
    x = tt.Tensor(v)
    with tt.Tape() as tape:
        tape.watch(x)
        y = fn(x)
    assert tape.gradient(y, x) == pytest.approx(expected(v), rel=1e-12)


def test_diamond():
    x = tt.Tensor(np.array([0.3, -0.2]))
    with tt.Tape() as tape:
        tape.watch(x)
        a = tt.tanh(x)
        b, c = a * 2.0, tt.exp(a)
        y = (b * c).sum()
    expected = central_difference(lambda v: float(np.sum(2 * np.tanh(v) * np.exp(np.tanh(v)))), x.value)
    np.testing.assert_allclose(tape.gradient(y, x), expected, rtol=1e-8)


def test_broadcast_2x3_plus_3_backward():   # 2020 tinygrad failed this
    a, b = tt.Tensor(np.ones((2, 3))), tt.Tensor(np.arange(3.0))
    with tt.Tape() as tape:
        tape.watch(a, b)
        y = ((a + b) * (a + b)).sum()
    ga, gb = tape.gradient(y, [a, b])
    np.testing.assert_allclose(ga, 2 * (1 + np.arange(3.0)) * np.ones((2, 3)))
    np.testing.assert_allclose(gb, 4 * (1 + np.arange(3.0)))


def test_non_persistent_allows_one_call():
    x = tt.Tensor(2.0)
    with tt.Tape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(tt.TapeError, match="persistent=True"):
        tape.gradient(y, x)


def test_persistent_allows_many_and_keeps_records():
    x = tt.Tensor(2.0)
    with tt.Tape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * x
    assert tape.gradient(y, x) == pytest.approx(4.0)
    assert tape.gradient(z, x) == pytest.approx(12.0)
    assert tape.gradient(z, y) == pytest.approx(2.0)       # w.r.t. an intermediate value
    assert len(tape.records) == 2


def test_nested_tapes_are_independent():
    x, w = tt.Tensor(2.0), tt.Tensor(5.0)
    with tt.Tape() as outer:
        outer.watch(x)
        with tt.Tape() as inner:
            inner.watch(w)
            y = x * w
        assert len(inner.records) == 1 and inner.gradient(y, w) == pytest.approx(2.0)
        z = y * 3.0
    assert len(outer.records) == 2
    gx, gw = outer.gradient(z, [x, w])
    assert gx == pytest.approx(15.0)
    assert gw == 0.0                        # the outer tape never watched w


def test_unused_source_gets_zeros():
    x, unused = tt.Tensor([1.0, 2.0]), tt.Tensor(np.ones((2, 2)))
    with tt.Tape() as tape:
        tape.watch(x, unused)
        y = (x * x).sum()
    gx, gu = tape.gradient(y, [x, unused])
    np.testing.assert_array_equal(gu, np.zeros((2, 2)))
    np.testing.assert_array_equal(gx, [2.0, 4.0])


def test_requires_grad_is_tracked_without_watch():
    x = tt.Tensor([1.0, 2.0], requires_grad=True)
    with tt.Tape() as tape:
        y = (x * 3.0).sum()
    np.testing.assert_array_equal(tape.gradient(y, x), [3.0, 3.0])


def test_requires_grad_bias_meeting_a_tracked_input_is_adopted():
    W = tt.Tensor(np.ones((2, 2)), requires_grad=True)
    b = tt.Tensor(np.ones((2, 1)), requires_grad=True)
    with tt.Tape() as tape:
        y = ((W @ np.ones((2, 1))) + b).sum()
    gW, gb = tape.gradient(y, [W, b])
    np.testing.assert_array_equal(gb, [[1.0], [1.0]])
    np.testing.assert_array_equal(gW, np.ones((2, 2)))


def test_names_of_untracked_inputs_are_kept():
    x = tt.Tensor(np.ones((2, 1)), name="x<3>")
    W = tt.Tensor(np.ones((2, 2)))
    with tt.Tape() as tape:
        tape.watch(W)
        W @ x
    assert tape.label(x.key) == "x<3>"


def test_untracked_tensor_is_a_constant():
    x, c = tt.Tensor(2.0), tt.Tensor(5.0)
    with tt.Tape() as tape:
        tape.watch(x)
        y = x * c
    assert tape.gradient(y, [x, c]) == [pytest.approx(5.0), 0.0]


def test_sources_as_dict_and_list():
    params = {"W": tt.Tensor(np.eye(2)), "b": tt.Tensor(np.zeros((2, 1)))}
    x = np.ones((2, 3))
    with tt.Tape(persistent=True) as tape:
        tape.watch(*params.values())
        y = (params["W"] @ x + params["b"]).sum()
    g = tape.gradient(y, params)
    assert set(g) == {"W", "b"}
    np.testing.assert_array_equal(g["b"], [[3.0], [3.0]])
    assert isinstance(tape.gradient(y, [params["W"]]), list)


def test_output_gradient_gives_the_vjp():
    x = tt.Tensor(np.array([1.0, 2.0, 3.0]))
    with tt.Tape() as tape:
        tape.watch(x)
        y = x * x
    np.testing.assert_array_equal(tape.gradient(y, x, output_gradient=[1.0, 0.0, 2.0]), [2.0, 0.0, 12.0])


def test_gradient_with_respect_to_the_target_itself():
    x = tt.Tensor(2.0)
    with tt.Tape() as tape:
        tape.watch(x)
    assert tape.gradient(x, x) == 1.0


def test_10000_step_chain_and_tanh_rnn_do_not_recurse():
    x = tt.Tensor(np.array([0.5]))
    with tt.Tape() as tape:
        tape.watch(x)
        h = x
        for _ in range(10_000):
            h = h * 0.9999 + 0.0001
        y = h.sum()
    assert tape.gradient(y, x)[0] == pytest.approx(0.9999 ** 10_000, rel=1e-9)

    rng = np.random.default_rng(0)
    W = tt.Tensor(rng.standard_normal((4, 4)) * 0.3, name="Wh")
    U = tt.Tensor(rng.standard_normal((4, 1)) * 0.3, name="Wx")
    xs = rng.standard_normal((10_000, 1, 1))
    with tt.Tape(trace=False) as tape:
        tape.watch(W, U)
        h = np.zeros((4, 1))
        for t in range(10_000):
            h = tt.tanh(W @ h + U @ xs[t])
        loss = (h * h).sum()
    gW, gU = tape.gradient(loss, [W, U])
    assert np.all(np.isfinite(gW)) and gW.shape == (4, 4)


def test_scopes_label_and_nest():
    x = tt.Tensor(1.0)
    with tt.Tape() as tape:
        tape.watch(x)
        with tt.scope("lstm"):
            with tape.scope("t=1"):
                a = x * 2.0
            b = a + 1.0
        c = b * b
    assert [r.scope for r in tape.records] == ["lstm/t=1", "lstm", ""]


def test_records_carry_everything_a_drawing_needs():
    W = tt.Tensor(np.ones((2, 2)), name="W")
    x = np.ones((2, 1))
    with tt.Tape() as tape:
        tape.watch(W)
        z = W @ x
        z.name = "z"
        h = tt.tanh(z)
    first, second = tape.records
    assert first.op.name == "matmul" and first.op.symbol == "@"
    assert first.inputs == (W.key, None) and first.output == z.key
    assert first.input_values[1] is x and first.value.shape == (2, 1)
    assert first.site[0] == __file__ and isinstance(first.site[1], int)
    assert tape.names[z.key] == "z" and tape.names[W.key] == "W"
    assert tape.producer(h.key) is second and tape.producer(W.key) is None
    assert W.key in tape.leaves


def test_printed_tape_is_a_wengert_list():
    W = tt.Tensor(np.ones((2, 2)), name="W")
    with tt.Tape() as tape:
        tape.watch(W)
        with tt.scope("rnn/t=1"):
            h = tt.tanh(W @ np.ones((2, 1)))
    text = str(tape)
    assert "matmul" in text and "tanh" in text and "rnn/t=1" in text
    assert "W" in text and "test_tape.py:" in text


def test_trace_off_records_no_site():
    x = tt.Tensor(1.0)
    with tt.Tape(trace=False) as tape:
        tape.watch(x)
        x * 2.0
    assert tape.records[0].site is None


def test_retain_all_keeps_every_value_gradient():
    x = tt.Tensor(np.array([1.0, 2.0]))
    with tt.Tape() as tape:
        tape.watch(x)
        a = x * 3.0
        y = (a * a).sum()
    tape.gradient(y, x, retain_all=True)
    np.testing.assert_array_equal(tape.value_grads[a.key], 2 * 3.0 * np.array([1.0, 2.0]))
    np.testing.assert_array_equal(tape.value_grads[x.key], 18.0 * np.array([1.0, 2.0]))


def test_values_are_protected_from_in_place_edits():
    x = tt.Tensor([1.0, 2.0])
    with pytest.raises(ValueError):
        x.value[0] = 5.0
    with pytest.raises(ValueError):
        np.asarray(x)[0] = 5.0


def test_intermediate_gradients_are_freed_during_the_sweep():
    # The sweep pops each gradient when its producer is processed: after a long chain
    # only the sources' gradients survive (retain_all is off).
    x = tt.Tensor(np.ones(3))
    with tt.Tape() as tape:
        tape.watch(x)
        h = x
        for _ in range(50):
            h = h * 1.01
        y = h.sum()
    kept = tape._sweep(y, [x.key], np.ones(()), retain_all=False)
    assert list(kept) == [x.key]


def test_keep_freed_memory_applies_on_glibc_linux_only():
    import platform
    import sys
    applied = tt.keep_freed_memory()
    on_glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert applied is on_glibc


def test_nested_tapes_with_different_trace_settings_each_keep_their_own():
    import inspect
    x = tt.Tensor(np.array([1.0, 2.0]))
    with tt.Tape(trace=False) as outer:
        outer.watch(x)
        with tt.Tape(trace=True) as inner:
            inner.watch(x)
            line = inspect.currentframe().f_lineno + 1
            y = tt.tanh(x) * 2.0
    assert [r.op.name for r in outer.records] == [r.op.name for r in inner.records] == ["tanh", "mul"]
    assert all(r.site is None for r in outer.records)
    assert all(r.site == (__file__, line) for r in inner.records)
    expected = 2.0 * (1 - np.tanh([1.0, 2.0]) ** 2)
    np.testing.assert_allclose(outer.gradient(y, x, output_gradient=np.ones(2)), expected)
    np.testing.assert_allclose(inner.gradient(y, x, output_gradient=np.ones(2)), expected)


def test_stop_gradient_cuts_the_gradient_and_stays_on_the_tape():
    rng = np.random.default_rng(5)
    W0, x0 = rng.standard_normal((3, 3)), rng.standard_normal((3, 2))

    def two_steps(W, cut):
        h1 = tt.tanh(W @ x0)
        h1 = tt.stop_gradient(h1) if cut else tt.Tensor(np.asarray(h1))   # the cut, or a constant
        return tt.sum(tt.tanh(W @ h1) ** 2)

    grads = []
    for cut in (True, False):
        W = tt.Tensor(W0)
        with tt.Tape(persistent=True) as tape:
            tape.watch(W)
            loss = two_steps(W, cut)
        grads.append(tape.gradient(loss, W))
        if cut:
            rec = next(r for r in tape.records if r.op.name == "stop_gradient")
            assert rec.grad_inputs == () and np.array_equal(rec.value, rec.input_values[0])
            replay, W_cut = tape.replayer(loss, W), W
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-14)       # the value, as a constant
    # a replay recomputes the cut value from the new W (a constant made with Tensor() would
    # stay frozen); gradient through the second step only, as a fresh recording gives
    W_new = W0 * 0.5
    value, grad = replay({W_cut: W_new})
    W2 = tt.Tensor(W_new)
    with tt.Tape() as fresh:
        fresh.watch(W2)
        loss2 = two_steps(W2, True)
    assert value == loss2.value
    np.testing.assert_array_equal(grad, fresh.gradient(loss2, W2))
    # plain arrays pass through; an untracked tensor stays off the tape
    assert isinstance(tt.stop_gradient(x0), np.ndarray)
    with tt.Tape() as tape:
        out = tt.stop_gradient(tt.Tensor(x0))
    assert tape.records == [] and np.array_equal(out.value, x0)

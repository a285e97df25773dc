"""Slices and rows (getitem, split, take) in the backward sweep.

Their gradients are added in place into one buffer per sliced array (Op.accumulate),
instead of a zero array per slice plus the sums. What must hold: the values are those
of the ops' own VJPs (zeros with the slice filled in, summed), every other gradient the
sweep hands out is left untouched, and a replay gives what the recording gives.
"""
import numpy as np
import pytest

import tinytape as tt
from _numeric import central_difference

RNG = np.random.default_rng(7)


def by_vjps(f, x0):
    """dL/dx from the ops' own VJP functions: each record's VJP, summed with `+` (no
    in-place accumulation), swept over the public records. The reference."""
    x = tt.Tensor(x0)
    with tt.Tape(persistent=True) as tape:
        tape.watch(x)
        loss = f(x)
    grads = {loss.key: np.ones(loss.shape)}
    for rec in reversed(tape.records):
        g = grads.pop(rec.output, None)
        if g is None:
            continue
        for i in rec.grad_inputs:
            gi = rec.op.vjp(i, g, rec.value, rec.input_values, rec.params)
            gi = tt.tape.unbroadcast(gi, np.shape(rec.input_values[i]))
            k = rec.inputs[i]
            grads[k] = gi if k not in grads else grads[k] + gi
    return grads[x.key]


def swept(f, x0, retain_all=False):
    x = tt.Tensor(x0)
    with tt.Tape(persistent=True) as tape:
        tape.watch(x)
        loss = f(x)
    return tape.gradient(loss, x, retain_all=retain_all) if not retain_all else (
        tape.gradient(loss, x), tape)


def overlapping_and_direct(x):
    # x is read whole (twice), by two overlapping slices, by a split and by a row
    a, b, c = tt.split(x, [1, 3], axis=0)
    return (tt.sum(tt.tanh(x[0:3]) * x[1:4]) + tt.sum(x * x) + tt.sum(a) * 2.0
            + tt.sum(b * c[0:2]) + tt.sum(x[2] ** 3))


def test_slice_gradients_equal_the_vjps_summed_and_central_differences():
    x0 = RNG.standard_normal((4, 3))
    grad = swept(overlapping_and_direct, x0)
    np.testing.assert_allclose(grad, by_vjps(overlapping_and_direct, x0), rtol=1e-14, atol=1e-15)
    numeric = central_difference(lambda v: float(overlapping_and_direct(v)), x0)
    np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-8)


def test_a_sum_before_the_slice_is_copied_not_written_into():
    # sum's VJP hands out a read-only broadcast view: the slice must not write into it
    def f(x):
        return tt.sum(x[1:] * 3.0) + tt.sum(x)
    x0 = RNG.standard_normal((3, 2))
    np.testing.assert_array_equal(swept(f, x0), [[1, 1], [4, 4], [4, 4]])


def test_gradients_handed_out_before_a_slice_are_not_changed_by_it():
    # `add` hands the same array to both its inputs, and retain_all keeps it as s's
    # gradient too. When y's slice (recorded before the add, so swept after it) adds
    # its gradient, that shared array must be copied, not written into: w's gradient
    # and the kept one for s would silently change.
    x = tt.Tensor(RNG.standard_normal(5))
    with tt.Tape(persistent=True) as tape:
        tape.watch(x)
        y = x * 2.0
        w = x * 3.0
        head = y[0:2]
        s = y + w
        loss = tt.sum(s * s) + tt.sum(head * 7.0)
    grad = tape.gradient(loss, x, retain_all=True)
    gs = 2 * s.value
    np.testing.assert_allclose(tape.value_grads[s.key], gs, rtol=1e-15)
    np.testing.assert_allclose(tape.value_grads[w.key], gs, rtol=1e-15)
    np.testing.assert_allclose(tape.value_grads[y.key], gs + np.array([7, 7, 0, 0, 0.0]), rtol=1e-15)
    np.testing.assert_allclose(grad, 5 * gs + np.array([14, 14, 0, 0, 0.0]), rtol=1e-14)
    kept = {k: np.array(v, copy=True) for k, v in tape.value_grads.items()}
    tape.gradient(loss, x, retain_all=True)             # a second sweep: the same numbers
    for k, v in kept.items():
        np.testing.assert_array_equal(tape.value_grads[k], v)


def test_repeated_integer_indices_and_rows_add_up():
    def f(x):
        rows = tt.take(x, [0, 2, 0])                    # row 0 twice
        return tt.sum(rows * rows) + tt.sum(x[[1, 1, 2]]) + tt.sum(x[0] * 5.0)
    x0 = RNG.standard_normal((3, 2))
    grad = swept(f, x0)
    expected = np.array([4 * x0[0] + 5.0, 2 + 0 * x0[1], 2 * x0[2] + 1])
    np.testing.assert_allclose(grad, expected, rtol=1e-15)
    np.testing.assert_allclose(grad, by_vjps(f, x0), rtol=1e-15)


def test_float32_slices_meeting_a_float64_constant_keep_the_wider_dtype_while_summing():
    def f(x):
        wide = x * np.full((4,), 1.0 + 2 ** -30)          # float64 path: gradients in float64
        return tt.sum(wide) + tt.sum(x[1:3] * np.float32(1 / 3))
    x0 = RNG.standard_normal(4).astype(np.float32)
    grad = swept(f, x0)
    assert grad.dtype == np.float32
    expected = np.full(4, 1.0 + 2 ** -30) + np.array([0, 1, 1, 0]) * np.float32(1 / 3)
    np.testing.assert_allclose(grad, expected.astype(np.float32), rtol=1e-7)


def test_a_zero_dimensional_array_indexed_whole_twice():
    def f(x):
        return x[()] * 3.0 + x * x + x[...] * 2.0
    x0 = np.array(1.5)
    assert float(swept(f, x0)) == pytest.approx(3.0 + 3.0 + 2.0)


def shared_then_sliced(x):
    y, w = x * 2.0, x * 3.0
    head = y[0:2]                       # swept after the add that shares its gradient
    s = y + w
    return tt.sum(s * s) + tt.sum(head * 7.0)


@pytest.mark.parametrize("program", [overlapping_and_direct, shared_then_sliced])
def test_replaying_slices_gives_what_recording_gives(program):
    shape = (4, 3) if program is overlapping_and_direct else (5,)
    x = tt.Tensor(RNG.standard_normal(shape))
    with tt.Tape(persistent=True) as tape:
        tape.watch(x)
        loss = program(x)
    replay = tape.replayer(loss, x)
    for _ in range(3):
        new = RNG.standard_normal(shape)
        value, grad = replay({x: new})
        np.testing.assert_allclose(grad, by_vjps(program, new), rtol=1e-14, atol=1e-15)
        x_new = tt.Tensor(new)
        with tt.Tape() as fresh:
            fresh.watch(x_new)
            loss_new = program(x_new)
        assert value == loss_new.value
        np.testing.assert_array_equal(grad, fresh.gradient(loss_new, x_new))

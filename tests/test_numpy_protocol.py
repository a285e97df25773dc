"""Plain NumPy code applied to Tensors records on the tape (what lets the tape check a
learner's own forward), and unsupported NumPy calls fail loudly."""
import numpy as np
import pytest

import tinytape as tt
from _numeric import central_difference


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lstm_cell_forward(xt, h_prev, c_prev, p):
    """A learner-style LSTM cell in plain NumPy (the thesis's (4-17)–(4-24))."""
    concat = np.concatenate((h_prev, xt), axis=0)
    ft = sigmoid(np.dot(p["Wf"], concat) + p["bf"])
    it = sigmoid(np.dot(p["Wu"], concat) + p["bu"])
    cct = np.tanh(np.dot(p["Wc"], concat) + p["bc"])
    c_next = np.multiply(ft, c_prev) + it * cct
    ot = sigmoid(np.dot(p["Wo"], concat) + p["bo"])
    h_next = ot * np.tanh(c_next)
    return h_next, c_next


def make_params(n_x, n_h, rng):
    p = {}
    for g in "fuco":
        p[f"W{g}"] = rng.standard_normal((n_h, n_h + n_x)) * 0.5
        p[f"b{g}"] = rng.standard_normal((n_h, 1)) * 0.1
    return p


def test_plain_numpy_lstm_cell_on_tensors_matches_finite_differences():
    rng = np.random.default_rng(0)
    n_x, n_h, m = 3, 4, 2
    xt, h, c = rng.standard_normal((n_x, m)), rng.standard_normal((n_h, m)), rng.standard_normal((n_h, m))
    params = make_params(n_x, n_h, rng)
    uh, uc = rng.standard_normal((n_h, m)), rng.standard_normal((n_h, m))

    def loss(xt, h, c, p):
        h_next, c_next = lstm_cell_forward(xt, h, c, p)
        return np.sum(h_next * uh) + np.sum(c_next * uc)

    T = {k: tt.Tensor(v, name=k) for k, v in params.items()}
    tx, th, tc = tt.Tensor(xt), tt.Tensor(h), tt.Tensor(c)
    with tt.Tape() as tape:
        tape.watch(tx, th, tc, *T.values())
        out = loss(tx, th, tc, T)
    assert isinstance(out, tt.Tensor)
    assert {r.op.name for r in tape.records} >= {"concatenate", "matmul", "exp", "div", "tanh", "mul"}
    grads = tape.gradient(out, {"xt": tx, "h": th, "c": tc, **T})
    for name, value in [("xt", xt), ("h", h), ("c", c)] + list(params.items()):
        def f(v, name=name):
            args = {"xt": xt, "h": h, "c": c, **params, name: v}
            return loss(args["xt"], args["h"], args["c"], {k: args[k] for k in params})
        np.testing.assert_allclose(grads[name], central_difference(f, value), rtol=1e-6, atol=1e-8,
                                   err_msg=name)


def test_ndarray_on_the_left_defers_to_the_tensor():
    x = tt.Tensor([1.0, 2.0])
    a = np.array([3.0, 4.0])
    with tt.Tape() as tape:
        tape.watch(x)
        y = (a * x + a - x).sum() + (a @ x)
    np.testing.assert_array_equal(tape.gradient(y, x), a - 1 + a)


@pytest.mark.parametrize("call", [
    lambda t: np.sum(t, axis=0), lambda t: np.mean(t), lambda t: np.max(t, axis=1), np.transpose,
    lambda t: np.reshape(t, (-1,)), lambda t: np.square(t), lambda t: np.sqrt(t * t + 1),
    lambda t: np.maximum(t, 0.1), lambda t: np.where(t.value > 0, t, 0.0), lambda t: np.clip(t, -0.6, 0.6),
    lambda t: np.stack([t, t]), lambda t: np.vstack([t, t]), lambda t: np.hstack([t, t]), np.exp,
    lambda t: np.log(t * t + 1), lambda t: np.outer(t[0], t[1]), lambda t: np.expand_dims(t, 0),
    lambda t: np.swapaxes(t, 0, 1), lambda t: np.power(t, 2), np.copy, np.abs, np.negative,
    lambda t: np.dot(t, t.T), lambda t: np.matmul(t, t.T), lambda t: np.split(t, 2, axis=0)[1],
    lambda t: np.add.reduce(t, axis=0), lambda t: 1.0 / t,
])
def test_numpy_calls_record_and_differentiate(call):
    x0 = np.array([[0.3, -0.7, 1.1], [0.5, 0.9, -1.3]])
    x = tt.Tensor(x0)
    with tt.Tape() as tape:
        tape.watch(x)
        y = call(x)
        assert isinstance(y, tt.Tensor)
        loss = (y * y).sum()
    expected = central_difference(lambda v: float(np.sum(np.asarray(call(tt.Tensor(v)).value) ** 2)), x0)
    np.testing.assert_allclose(tape.gradient(loss, x), expected, rtol=1e-6, atol=1e-8)


def test_zeros_like_then_fill_stays_on_the_tape():
    x0 = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = tt.Tensor(x0)
    with tt.Tape() as tape:
        tape.watch(x)
        h = np.zeros_like(x)
        for t in range(2):
            h[:, t] = np.tanh(x[:, t]) * (t + 1)
        y = h.sum()
    np.testing.assert_allclose(tape.gradient(y, x), (1 - np.tanh(x0) ** 2) * [1, 2])


def test_unsupported_numpy_function_raises_naming_it():
    x = tt.Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="np.cumsum is not supported"):
        np.cumsum(x)
    with pytest.raises(TypeError, match="arctan"):
        np.arctan(x)


def test_in_place_out_argument_is_refused():
    x = tt.Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="out="):
        np.add(x, 1.0, out=np.zeros(2))


def test_asarray_gives_the_value_and_comparisons_give_arrays():
    x = tt.Tensor([1.0, -2.0])
    np.testing.assert_array_equal(np.asarray(x), [1.0, -2.0])
    assert (x > 0).dtype == bool and np.all(np.greater(x, 0) == [True, False])


def test_strict_conversion_catches_a_value_leaving_the_tape():
    from tinytape import _state
    x = tt.Tensor([1.0, 2.0])
    buffer = np.zeros(2)
    with tt.Tape() as tape:
        tape.watch(x)
        _state.strict_conversion = True
        try:
            with pytest.raises(TypeError, match="leave the tape"):
                buffer[:] = x * 2.0
        finally:
            _state.strict_conversion = False

"""grad, value_and_grad and vjp, checked against central differences."""
import numpy as np
import pytest

import tinytape as tt
from _numeric import central_difference


def f(w, x):
    return tt.sum(tt.tanh(w @ x) ** 2)


def test_grad_argnums_int_and_tuple():
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((3, 2)), rng.standard_normal((2, 4))
    gw = tt.grad(f)(w, x)
    np.testing.assert_allclose(gw, central_difference(lambda v: float(f(v, x)), w), rtol=1e-6)
    gw2, gx = tt.grad(f, argnums=(0, 1))(w, x)
    np.testing.assert_allclose(gw2, gw)
    np.testing.assert_allclose(gx, central_difference(lambda v: float(f(w, v)), x), rtol=1e-6)


def test_value_and_grad_with_dict_arguments():
    params = {"W": np.eye(2) * 0.5, "b": np.zeros((2, 1))}
    x = np.ones((2, 3))
    value, g = tt.value_and_grad(lambda p: tt.sum(tt.sigmoid(p["W"] @ x + p["b"])))(params)
    assert value == pytest.approx(float(np.sum(1 / (1 + np.exp(-(0.5 * x))))))
    assert set(g) == {"W", "b"} and g["b"].shape == (2, 1)


def test_vjp_returns_value_and_a_reusable_function():
    x = np.array([1.0, 2.0])
    out, vjp_fn = tt.vjp(lambda v: v * v * 3.0, x)
    np.testing.assert_array_equal(out, 3 * x * x)
    np.testing.assert_array_equal(vjp_fn(np.array([1.0, 0.0]))[0], [6.0, 0.0])
    np.testing.assert_array_equal(vjp_fn(np.array([0.0, 1.0]))[0], [0.0, 12.0])


def test_grad_of_a_function_ignoring_its_argument_is_zero():
    np.testing.assert_array_equal(tt.grad(lambda v: 3.0)(np.ones(2)), np.zeros(2))


def test_bad_argnums():
    with pytest.raises(ValueError, match="argnums"):
        tt.grad(f, argnums=5)(np.ones((2, 2)), np.ones((2, 2)))

"""Our Adam (5-2) against keras.optimizers.Adam, step for step on identical gradients.

Keras adds eps to sqrt(s_t) after folding both bias corrections into the step size;
(5-2) adds it to sqrt(s^_t). So: Keras == our epsilon_placement="keras" for any eps,
Keras == (5-2) when eps = 0, and with eps > 0 they differ by a documented amount.
The learning rate is a power of two: Keras keeps it in a float32 variable. Keras also
rounds beta1, beta2 to float32 in its bias corrections (see cells.train.Adam).
"""
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="TensorFlow (tinytape[tf]) is needed to compare with Keras's Adam")
keras = pytest.importorskip("keras", reason="Keras 3 comes with TensorFlow")

from cells.train import Adam  # noqa: E402

LR = 2.0 ** -10          # exactly representable in float32 (Keras's learning-rate variable)


def _gradient_stream(steps=8, seed=0):
    rng = np.random.default_rng(seed)
    # mixed scales, including tiny gradients where eps matters
    scales = np.array([[1.0, 1e-3], [1e-6, 10.0], [0.5, 1e-9]])
    return [rng.standard_normal((3, 2)) * scales for _ in range(steps)]


def _keras_trajectory(grads, eps, beta1=0.9, beta2=0.999):
    var = tf.Variable(np.ones((3, 2)), dtype=tf.float64)
    opt = keras.optimizers.Adam(learning_rate=LR, beta_1=beta1, beta_2=beta2, epsilon=eps)
    out = []
    for g in grads:
        opt.apply_gradients([(tf.constant(g, dtype=tf.float64), var)])
        out.append(var.numpy().copy())
    return out


def _our_trajectory(grads, eps, placement, beta1=0.9, beta2=0.999):
    opt = Adam(lr=LR, beta1=beta1, beta2=beta2, eps=eps, epsilon_placement=placement)
    params, out = {"W": np.ones((3, 2))}, []
    for g in grads:
        params = opt.step(params, {"dW": g})
        out.append(params["W"].copy())
    return out


@pytest.mark.parametrize("eps", [1e-7, 1e-8])
def test_keras_placement_matches_keras_step_for_step(eps):
    grads = _gradient_stream()
    for ours, theirs in zip(_our_trajectory(grads, eps, "keras"), _keras_trajectory(grads, eps)):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_thesis_adam_matches_keras_when_eps_is_zero():
    # Keras rounds beta1, beta2 to float32 in its bias corrections; betas exact in float32
    # (1 - 2^-3, 1 - 2^-10) take that quirk out, leaving only the eps placement.
    grads = _gradient_stream(seed=1)
    betas = dict(beta1=0.875, beta2=1 - 2.0 ** -10)
    ours = _our_trajectory(grads, 0.0, "thesis", **betas)
    for mine, theirs in zip(ours, _keras_trajectory(grads, 0.0, **betas)):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12)


def test_thesis_adam_differs_from_keras_where_eps_matters():
    grads = _gradient_stream(seed=2)
    betas = dict(beta1=0.875, beta2=1 - 2.0 ** -10)      # exact in float32, as above
    ours = _our_trajectory(grads, 1e-8, "thesis", **betas)[-1]
    theirs = _keras_trajectory(grads, 1e-8, **betas)[-1]
    diff = np.abs(ours - theirs)
    # the 1e-9-scale gradients sit near eps: the two placements move them differently
    assert diff[2, 1] > 1e-6
    # large gradients barely notice eps
    assert diff[1, 1] < 1e-10


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_keras_model_fit_follows_our_trainer_exactly(kind):
    # Same start, full batch (no shuffling to differ), eps = 0 (so Keras's 1/m loss and our
    # 1/(2m) give the same Adam step), Keras's beta rounding reproduced: the two trainers
    # must walk the same path, which checks the Keras model, the weight conversion and fit.
    from cells import train
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((1, 16, 5)), rng.standard_normal((1, 16))
    init = train.cell_module(kind).init_params(1, 4, 1, seed=3)
    common = dict(epochs=4, batch_size=16, lr=LR, eps=0.0, shuffle=False)
    ours, _ = train.fit(kind, X, Y, 4, params=init, epsilon_placement="keras", progress=False, **common)
    theirs, history = train.fit_keras(kind, X, Y, init, **common)
    # Gradients agree to ~1e-15; Adam divides v_t by sqrt(s_t), and where a gradient element
    # changes sign between steps v_t nearly cancels, so an occasional element can move 1e-9
    # apart. A wrong conversion or trainer would put them 1e-3 apart (the step size).
    for key in init:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=0, atol=1e-8)
    assert max(np.max(np.abs(ours[k] - init[k])) for k in init) > 1e-3
    np.testing.assert_allclose(history["loss"], np.array(history["loss_keras"]) / 2)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_keras_float32_model_fit_follows_our_float32_trainer(kind):
    # dtype="float32" on both sides (Keras's own default precision): the model, the
    # weights it hands back and our trainer all stay float32 and walk the same path, to
    # float32's rounding instead of float64's.
    from cells import train
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((1, 16, 5)), rng.standard_normal((1, 16))
    init = train.cell_module(kind).init_params(1, 4, 1, seed=3)
    common = dict(epochs=4, batch_size=16, lr=LR, eps=0.0, shuffle=False, dtype="float32")
    ours, _ = train.fit(kind, X, Y, 4, params=init, epsilon_placement="keras", progress=False, **common)
    theirs, history = train.fit_keras(kind, X, Y, init, **common)
    model, _ = train.keras_model(kind, init, 5, dtype="float32")
    assert {w.dtype for w in model.get_weights()} == {np.dtype(np.float32)}
    assert history["config"]["dtype"] == "float32"
    for key in init:
        assert ours[key].dtype == theirs[key].dtype == np.float32
        np.testing.assert_allclose(ours[key], theirs[key], rtol=0, atol=2e-5, err_msg=key)
    assert max(np.max(np.abs(ours[k] - init[k])) for k in init) > 1e-3

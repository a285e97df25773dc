"""Each plot draws the lines it promises (counted as Line2D objects), under Agg, without pyplot."""
from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib", reason="the plots need matplotlib")
matplotlib.use("Agg")

from matplotlib.collections import PathCollection, PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from visuals.plots import (hidden_grad_norms, plot_forecast, plot_grad_norms, plot_grad_scatter,  # noqa: E402
                           plot_losses)


def test_plot_losses_one_line_per_model_log_scale():
    histories = {"RNN": [1.0, 0.5, 0.3], "LSTM": [0.9, 0.2, 0.05, 0.01], "GRU": np.linspace(1, 0.1, 6)}
    ax = plot_losses(histories)
    assert len(ax.get_lines()) == 3
    assert [line.get_label() for line in ax.get_lines()] == ["RNN", "LSTM", "GRU"]
    assert ax.get_yscale() == "log"
    np.testing.assert_array_equal(ax.get_lines()[1].get_xdata(), [1, 2, 3, 4])
    assert plot_losses({"a": [0.0, 1.0]}).get_yscale() == "linear"  # a zero has no logarithm
    with pytest.raises(ValueError, match="no histories"):
        plot_losses({})


def test_plots_draw_on_a_given_axes_and_in_spanish():
    ax = Figure().add_subplot()
    assert plot_losses({"a": [1, 2]}, ax=ax, log=False, lang="es") is ax
    assert ax.get_xlabel() == "época" and ax.get_yscale() == "linear"


def test_plot_forecast_lines_and_interval():
    t = np.arange(20)
    y = np.sin(t / 3)
    ax = plot_forecast(t[:15], y[:15], t[15:], y[15:], y[15:] + 0.1)
    assert len(ax.get_lines()) == 4  # train truth, test truth, prediction, split marker
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]

    future = np.arange(20, 26)
    ax = plot_forecast(t[:15], y[:15], t[15:], y[15:], y[15:], t_future=future, forecast=np.zeros(6),
                       lower=-np.ones(6), upper=np.ones(6))
    assert len(ax.get_lines()) == 5  # ... and the forecast
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1
    np.testing.assert_array_equal(ax.get_lines()[3].get_xdata(), future)
    with pytest.raises(ValueError, match="y_pred has 4"):
        plot_forecast(t[:15], y[:15], t[15:], y[15:], y[15:19])
    with pytest.raises(ValueError, match="both lower and upper"):
        plot_forecast(t[:15], y[:15], t[15:], y[15:], y[15:], lower=y[15:])


def test_plot_grad_norms_log_scale_and_zero_entries_left_out():
    norms = {"RNN": [1e-6, 1e-4, 1e-2, 1.0], "LSTM": [0.0, 0.1, 0.2, 0.3], "GRU": [0.5, 0.5, 0.6, 0.7]}
    ax = plot_grad_norms(norms)
    lines = ax.get_lines()
    assert len(lines) == 3 and ax.get_yscale() == "log"
    np.testing.assert_array_equal(lines[1].get_xdata(), [2, 3, 4])  # t = 1 had a zero norm
    np.testing.assert_array_equal(lines[0].get_ydata(), norms["RNN"])


def test_plot_grad_scatter_points_per_parameter_and_the_diagonal():
    rng = np.random.default_rng(0)
    hand = {"dWf": rng.normal(size=(3, 4)), "dbf": rng.normal(size=(3, 1))}
    tape = {key: value + 1e-9 for key, value in hand.items()}
    ax = plot_grad_scatter(hand, tape)
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 2 and [len(s.get_offsets()) for s in scatters] == [12, 3]
    assert len(ax.get_lines()) == 1  # y = x
    with pytest.raises(ValueError, match="share no keys"):
        plot_grad_scatter({"a": 1}, {"b": 1})


def test_hidden_grad_norms_match_finite_differences_on_h():
    """‖∂L/∂h⟨t⟩‖ from the tape against central differences of a NumPy RNN written here."""
    import cells

    T, n_h, m, seed = 5, 4, 3, 2
    got = hidden_grad_norms("rnn", T, seed=seed, n_h=n_h, m=m)
    p = cells.get("rnn").init_params(1, n_h, 1, seed=seed)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((1, m, T))
    Y = rng.standard_normal((1, m))

    def loss_from(t, h):  # run steps t+1..T from h = h⟨t⟩, then the seq-to-one loss (5-1)
        for s in range(t, T):
            h = np.tanh(p["Wh"] @ h + p["Wx"] @ X[:, :, s] + p["bh"])
        return np.sum((p["Wy"] @ h + p["by"] - Y) ** 2) / (2 * m)

    h = np.zeros((n_h, m))
    expected = []
    for t in range(1, T + 1):
        h = np.tanh(p["Wh"] @ h + p["Wx"] @ X[:, :, t - 1] + p["bh"])
        grad = np.zeros_like(h)
        for idx in np.ndindex(h.shape):
            up, down = h.copy(), h.copy()
            up[idx] += 1e-6
            down[idx] -= 1e-6
            grad[idx] = (loss_from(t, up) - loss_from(t, down)) / 2e-6
        expected.append(np.linalg.norm(grad))
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_hidden_grad_norms_vanish_for_small_weights():
    small = hidden_grad_norms("rnn", 12, scale=0.3)
    assert small.shape == (12,) and small[0] < 1e-4 * small[-1]


def test_scale_multiplies_only_the_recurrent_weights():
    import cells
    from visuals.problems import scale_recurrent

    n_x, n_h = 2, 3
    for kind in ("rnn", "lstm", "peephole", "gru", "gru_keras"):
        params = cells.get(kind).init_params(n_x, n_h, 1, seed=0)
        scaled = scale_recurrent(params, 2.0, n_h)
        for key, value in params.items():
            value, new = np.asarray(value), np.asarray(scaled[key])
            if key in ("Wh", "recurrent_kernel") and kind in ("rnn", "gru_keras"):
                np.testing.assert_array_equal(new, 2 * value)
            elif key.startswith("W") and key != "Wy" and kind in ("lstm", "peephole", "gru"):
                np.testing.assert_array_equal(new[:, :n_h], 2 * value[:, :n_h])  # the h⟨t−1⟩ block
                np.testing.assert_array_equal(new[:, n_h:], value[:, n_h:])  # the x⟨t⟩ block
            else:
                np.testing.assert_array_equal(new, value)
        assert scaled is not params and all(np.shares_memory(params[k], scaled[k]) is False
                                            for k in params if not np.array_equal(params[k], scaled[k]))


def test_an_identity_rnn_explodes_for_large_recurrent_weights():
    big = hidden_grad_norms("rnn", 12, scale=2.5, activation="identity")
    assert big[0] > 1e3 * big[-1]

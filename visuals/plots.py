"""Plots for lessons and the demo (matplotlib, safe under the Agg backend).

Every function takes `ax=None` (a new figure is made) and returns the axes; none calls
`plt.show()`. `lang="es"` gives Spanish axis labels.
"""
from __future__ import annotations

import numpy as np

from visuals.notation import check_lang, split_name

_TEXT = {
    "en": {"epoch": "epoch", "loss": "loss", "time": "time", "value": "value", "train": "train (truth)",
           "test": "test (truth)", "pred": "prediction", "forecast": "forecast", "interval": "interval",
           "split": "train | test", "step": "time step t", "grad_h": "‖∂L/∂h⟨t⟩‖",
           "hand": "hand-derived gradient", "tape": "tape gradient", "agree": "y = x (agreement)",
           "grad_title": "Gradient reaching each step", "scatter_title": "Hand BPTT vs tape"},
    "es": {"epoch": "época", "loss": "pérdida", "time": "tiempo", "value": "valor", "train": "entrenamiento (real)",
           "test": "prueba (real)", "pred": "predicción", "forecast": "pronóstico", "interval": "intervalo",
           "split": "entrenamiento | prueba", "step": "paso t", "grad_h": "‖∂L/∂h⟨t⟩‖",
           "hand": "gradiente a mano", "tape": "gradiente de la cinta", "agree": "y = x (acuerdo)",
           "grad_title": "Gradiente que llega a cada paso", "scatter_title": "BPTT a mano vs cinta"},
}


def _axes(ax):
    if ax is not None:
        return ax
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend needed

    return Figure(figsize=(7, 4), layout="constrained").add_subplot()


def _vector(name: str, function: str, values) -> np.ndarray:
    array = np.asarray(values, dtype=float).reshape(-1)
    if array.size == 0:
        raise ValueError(f"visuals.plots.{function}: {name} is empty")
    return array


def plot_losses(histories: dict, ax=None, log: bool = True, lang: str = "en"):
    """One loss curve per model: `{"LSTM": [0.9, 0.5, ...], "GRU": [...]}`."""
    text = _TEXT[check_lang(lang)]
    if not histories:
        raise ValueError("visuals.plots.plot_losses: no histories given; pass {model name: list of losses}")
    ax = _axes(ax)
    positive = True
    for label, history in histories.items():
        losses = _vector(f"the history of {label!r}", "plot_losses", history)
        positive &= bool(np.all(losses > 0))
        ax.plot(np.arange(1, losses.size + 1), losses, label=str(label), linewidth=1.6)
    if log and positive:
        ax.set_yscale("log")
    ax.set_xlabel(text["epoch"])
    ax.set_ylabel(text["loss"] + (" (log)" if log and positive else ""))
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax


def plot_forecast(t_train, y_train, t_test, y_test, y_pred, t_future=None, forecast=None, lower=None, upper=None,
                  ax=None, lang: str = "en"):
    """Truth (train and test), the model's prediction over the test span, optionally a forecast
    beyond it with an interval (`lower`/`upper`, over `t_future`, or over `t_test` when no
    forecast is given), and a dashed line at the train/test split.
    """
    text = _TEXT[check_lang(lang)]
    fn = "plot_forecast"
    t_train, y_train = _vector("t_train", fn, t_train), _vector("y_train", fn, y_train)
    t_test, y_test, y_pred = _vector("t_test", fn, t_test), _vector("y_test", fn, y_test), _vector("y_pred", fn, y_pred)
    _same_length(fn, ("t_train", t_train), ("y_train", y_train))
    _same_length(fn, ("t_test", t_test), ("y_test", y_test), ("y_pred", y_pred))
    ax = _axes(ax)
    ax.plot(t_train, y_train, color="#555555", linewidth=1.2, label=text["train"])
    ax.plot(t_test, y_test, color="black", linewidth=1.4, label=text["test"])
    ax.plot(t_test, y_pred, color="#d62728", linewidth=1.6, label=text["pred"])
    band_t = t_test
    if forecast is not None:
        if t_future is None:
            raise ValueError("visuals.plots.plot_forecast: forecast given without t_future (its time axis)")
        band_t = _vector("t_future", fn, t_future)
        forecast = _vector("forecast", fn, forecast)
        _same_length(fn, ("t_future", band_t), ("forecast", forecast))
        ax.plot(band_t, forecast, color="#1f77b4", linewidth=1.6, linestyle="--", label=text["forecast"])
    if (lower is None) != (upper is None):
        raise ValueError("visuals.plots.plot_forecast: give both lower and upper for an interval, or neither")
    if lower is not None:
        lower, upper = _vector("lower", fn, lower), _vector("upper", fn, upper)
        _same_length(fn, ("the interval's time axis", band_t), ("lower", lower), ("upper", upper))
        ax.fill_between(band_t, lower, upper, color="#1f77b4" if forecast is not None else "#d62728",
                        alpha=0.18, linewidth=0, label=text["interval"])
    ax.axvline(t_train[-1], color="#999999", linestyle=":", linewidth=1.0, label=text["split"])
    ax.set_xlabel(text["time"])
    ax.set_ylabel(text["value"])
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_grad_norms(norms_by_model: dict, ax=None, lang: str = "en"):
    """‖∂L/∂h⟨t⟩‖ against t = 1..T for each model, log scale: vanishing gradients fall
    towards t = 1, exploding ones rise. Zeros are left out (they have no logarithm)."""
    text = _TEXT[check_lang(lang)]
    if not norms_by_model:
        raise ValueError("visuals.plots.plot_grad_norms: nothing to plot; pass {model name: norms over t}")
    ax = _axes(ax)
    for label, norms in norms_by_model.items():
        norms = _vector(f"the norms of {label!r}", "plot_grad_norms", norms)
        t = np.arange(1, norms.size + 1)
        shown = norms > 0
        ax.plot(t[shown], norms[shown], marker="o", markersize=3, linewidth=1.6, label=str(label))
    ax.set_yscale("log")
    ax.set_xlabel(text["step"])
    ax.set_ylabel(text["grad_h"])
    ax.set_title(text["grad_title"])
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return ax


def plot_grad_scatter(hand: dict, tape: dict, ax=None, lang: str = "en"):
    """Each gradient entry's hand-derived value against the tape's, one colour per parameter,
    with the y = x line: agreement puts every point on it."""
    text = _TEXT[check_lang(lang)]
    common = [key for key in hand if key in tape]
    if not common:
        raise ValueError(f"visuals.plots.plot_grad_scatter: hand and tape share no keys "
                         f"(hand: {sorted(hand)}, tape: {sorted(tape)})")
    ax = _axes(ax)
    low, high = np.inf, -np.inf
    for key in common:
        a = np.asarray(hand[key], dtype=float).reshape(-1)
        b = np.asarray(tape[key], dtype=float).reshape(-1)
        if a.shape != b.shape:
            raise ValueError(f"visuals.plots.plot_grad_scatter: {key!r} has {a.size} hand entries but {b.size} tape entries")
        ax.scatter(a, b, s=14, alpha=0.8, label=str(key))
        if a.size:
            low, high = min(low, a.min(), b.min()), max(high, a.max(), b.max())
    if not np.isfinite(low):
        low, high = -1.0, 1.0
    pad = 0.05 * (high - low or 1.0)
    ax.plot([low - pad, high + pad], [low - pad, high + pad], color="#888888", linewidth=1.0, linestyle="--",
            label=text["agree"])
    ax.set_xlabel(text["hand"])
    ax.set_ylabel(text["tape"])
    ax.set_title(text["scatter_title"])
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    return ax


def hidden_grad_norms(kind: str, T: int, scale: float = 1.0, seed: int = 0, n_x: int = 1, n_h: int = 8,
                      m: int = 4, **cell_kwargs) -> np.ndarray:
    """‖∂L/∂h⟨t⟩‖ for t = 1..T (shape (T,)), from the tape: `kind` unrolled T steps on seeded
    random data, seq-to-one loss, the recurrent weights multiplied by `scale`
    (visuals.problems.scale_recurrent).
    `cell_kwargs` go to the cell (e.g. the RNN's activation="identity", which explodes for scale > 1)."""
    from visuals.problems import small_problem

    tape, _, _ = small_problem(kind, T, n_x=n_x, n_h=n_h, n_y=1, m=m, seed=seed, scale=scale, **cell_kwargs)
    norms = np.full(T, np.nan)
    for key, name in tape.names.items():
        symbol, sub, time = split_name(name)
        if symbol == "h" and not sub and time.isdigit() and 1 <= int(time) <= T:
            grad = tape.value_grads.get(key)
            norms[int(time) - 1] = 0.0 if grad is None else float(np.linalg.norm(grad))
    if np.isnan(norms).any():
        missing = [t + 1 for t in np.flatnonzero(np.isnan(norms))]
        raise RuntimeError(f"visuals.plots.hidden_grad_norms: the {kind} tape names no h⟨t⟩ for t = {missing}")
    return norms


def _same_length(function: str, *named):
    sizes = {name: array.size for name, array in named}
    if len(set(sizes.values())) > 1:
        detail = ", ".join(f"{name} has {size}" for name, size in sizes.items())
        raise ValueError(f"visuals.plots.{function}: lengths differ ({detail}); they must match")

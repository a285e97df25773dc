"""Small recorded problems for drawings and plots: one cell unrolled over a few steps.

Used by `draw_cell` (the `tinytape draw` command, the demo, the lessons) and by
`visuals.plots.hidden_grad_norms`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from visuals.draw import draw
from visuals.drawing import Drawing
from visuals.notation import KIND_NAMES, caption

def scale_recurrent(params: dict, scale: float, n_h: int) -> dict:
    """A copy of `params` with the recurrent weights (what multiplies h⟨t−1⟩) times `scale`.

    rnn: Wh. lstm, peephole, gru: the first n_h columns of every gate matrix W* acting on
    [h⟨t−1⟩; x⟨t⟩] (CONVENTIONS.md: hidden rows first). gru_keras: recurrent_kernel.
    Input weights, biases, peepholes and the head stay as they are: the product of the
    Jacobians ∂h⟨k+1⟩/∂h⟨k⟩ is what scale < 1 makes vanish and scale > 1 explode.
    """
    scaled = dict(params)
    for key, value in params.items():
        if key == "Wh" and "Wx" in params:  # the vanilla RNN keeps its two blocks apart
            scaled[key] = value * scale
        elif key == "recurrent_kernel":
            scaled[key] = value * scale
        elif key.startswith("W") and key != "Wy" and "Wx" not in params and "kernel" not in params:
            block = np.array(value, dtype=float)
            block[:, :n_h] *= scale  # (n_h, n_h + n_x): the h⟨t−1⟩ columns
            scaled[key] = block
    return scaled


def small_problem(kind: str, steps: int, n_x: int = 1, n_h: int = 3, n_y: int = 1, m: int = 1, seed: int = 0,
                  scale: float = 1.0, grads: bool = True, **cell_kwargs):
    """(tape, loss, params) for `kind` unrolled `steps` times on seeded random data;
    `scale` multiplies the recurrent weights (see `scale_recurrent`).

    With grads=True the gradient is already taken with `retain_all=True`, so
    `tape.value_grads` holds ∂L/∂v for every value v (what grads=True drawings show).
    """
    import cells
    from cells.record import record

    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"visuals: steps must be a whole number ≥ 1, got {steps!r}")
    module = cells.get(kind)
    params = module.init_params(n_x, n_h, n_y, seed=seed)
    if scale != 1.0:
        params = scale_recurrent(params, scale, n_h)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m, int(steps)))  # (n_x, m, T)
    Y = rng.standard_normal((n_y, m))  # (n_y, m): seq-to-one target
    tape, loss, tensors = record(kind, params, X, Y, persistent=True, **cell_kwargs)
    if grads:
        tape.gradient(loss, tensors, retain_all=True)
    return tape, loss, tensors


def draw_cell(kind: str, steps: int = 4, level: str = "cell", grads: bool = False, lang: str = "en",
              n_x: int = 1, n_h: int = 3, n_y: int = 1, m: int = 1, seed: int = 0, title: str | None = None,
              **draw_kwargs) -> Drawing:
    """Draw cell `kind` unrolled over `steps` steps on a small seeded problem (n_h = 3 by default).

    `draw_kwargs` go to `visuals.draw` (highlight, rankdir, backward, params, values, ...).
    """
    tape, _, _ = small_problem(kind, steps, n_x, n_h, n_y, m, seed, grads=grads)
    if title is None:
        name = KIND_NAMES.get(kind, kind)
        title = caption("unrolled_one", lang, kind=name) if steps == 1 else caption("unrolled", lang, kind=name, steps=steps)
    return draw(tape, level=level, grads=grads, lang=lang, title=title, **draw_kwargs)


def write_demo_drawings(folder, lang: str = "en", timeout: float | None = 60.0) -> list[Path]:
    """The demo's drawings: the unrolled LSTM at cell level (4 steps, gradients) and one LSTM
    step at op level with gradients, as SVG (or DOT when no renderer is installed).

    Returns the paths written. Renderer errors other than "no renderer" propagate.
    """
    from visuals.render import RendererUnavailable, find_renderer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".svg" if find_renderer() else ".dot"
    drawings = {
        "lstm_unrolled_cells": draw_cell("lstm", steps=4, level="cell", grads=True, lang=lang),
        "lstm_one_step_ops": draw_cell("lstm", steps=1, level="op", grads=True, lang=lang),
    }
    written = []
    for stem, drawing in drawings.items():
        try:
            written.append(drawing.save(folder / (stem + suffix), timeout=timeout))
        except RendererUnavailable:
            written.append(drawing.save(folder / (stem + ".dot")))
    return written

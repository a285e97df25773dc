"""Labels in the lab's notation (Γf, Γu, Γo, c̃, h⟨t⟩, ŷ) and captions in English or Spanish.

Tape names follow ../shared/CONVENTIONS.md: parameters by key (`Wf`, `bf`, ...), states
`h<3>`, `c<3>`, inputs `x<3>`, the head's `y_hat` and `loss`. A drawing shows them the
way the thesis writes them: W_f with a subscript, h⟨3⟩, ŷ, L. Unknown names are shown
as they are (escaped), so any tape can be drawn.
"""
from __future__ import annotations

import functools
import re

from visuals.dot import html_escape

LANGS = ("en", "es")

CAPTIONS = {
    "en": {
        "step": "step",
        "loss": "loss",
        "output": "output layer",
        "gradient": "gradient",
        "grad_legend": "‖∂L/∂·‖ (log scale)",
        "zero": "zero",
        "not_finite": "inf / nan",
        "no_grad": "no gradient",
        "shared": "Shared by every step",
        "highlight": "highlighted: path to the loss",
        "highlight_report": "thick red: where your gradient disagrees with the tape; red: its path to the output",
        "unrolled": "{kind} unrolled over {steps} steps",
        "unrolled_one": "{kind}, one step",
        "op_level": "operations",
        "cell_level": "cells",
        "input": "input",
        "const": "const",
        "layer": "layer",
        "forward": "forward",
        "backward": "backward",
    },
    "es": {
        "step": "paso",
        "loss": "pérdida",
        "output": "capa de salida",
        "gradient": "gradiente",
        "grad_legend": "‖∂L/∂·‖ (escala logarítmica)",
        "zero": "cero",
        "not_finite": "inf / nan",
        "no_grad": "sin gradiente",
        "shared": "Compartidos por todos los pasos",
        "highlight": "resaltado: camino hasta la pérdida",
        "highlight_report": "rojo grueso: donde tu gradiente no coincide con la cinta; rojo: su camino hasta la salida",
        "unrolled": "{kind} desenrollada en {steps} pasos",
        "unrolled_one": "{kind}, un paso",
        "op_level": "operaciones",
        "cell_level": "celdas",
        "input": "entrada",
        "const": "const",
        "layer": "capa",
        "forward": "hacia adelante",
        "backward": "hacia atrás",
    },
}

# Display names of the cells (the command's `kind` argument).
KIND_NAMES = {
    "rnn": "RNN",
    "lstm": "LSTM",
    "peephole": "LSTM (peephole)",
    "gru": "GRU",
    "gru_keras": "GRU (Keras)",
}


def check_lang(lang: str) -> str:
    if lang not in CAPTIONS:
        raise ValueError(f"visuals: lang={lang!r} is not supported; use one of {', '.join(LANGS)}")
    return lang


def caption(key: str, lang: str = "en", **fields) -> str:
    text = CAPTIONS[check_lang(lang)][key]
    return text.format(**fields) if fields else text


# Base names -> (symbol, subscript). Gates follow CONVENTIONS.md (u = update, not i).
_SYMBOLS = {
    "y_hat": ("ŷ", ""), "yhat": ("ŷ", ""), "ŷ": ("ŷ", ""),
    "loss": ("L", ""), "L": ("L", ""),
    "c_tilde": ("c̃", ""), "cc": ("c̃", ""), "c̃": ("c̃", ""), "c_hat": ("c̃", ""),
    "h_tilde": ("h̃", ""), "hh": ("h̃", ""), "h̃": ("h̃", ""), "h_hat": ("h̃", ""),
}
for _g in "furoz":
    for _alias in (f"gamma_{_g}", f"Gamma_{_g}", f"G{_g}", f"Γ{_g}", f"Γ_{_g}", f"gate_{_g}"):
        _SYMBOLS[_alias] = ("Γ", _g)

# A time index: `h<3>`, `h⟨3⟩`, or digits after a per-step symbol (`h3`, `Γf3`, `c̃3`: cells.record's names).
_TIME_SUFFIX = re.compile(r"^(?P<base>.+?)\s*(?:<|⟨)(?P<t>[^<>⟨⟩]+)(?:>|⟩)$")
_TRAILING_DIGITS = re.compile(r"^(?P<base>\D+?)_?(?P<t>\d+)$")
# Symbols that carry a time index (states, inputs, gates, pre-activations). Parameters never do.
TIME_BASES = {"h", "c", "x", "y", "ŷ", "z", "r", "a", "s", "c̃", "h̃", "y_hat"} | {f"Γ{g}" for g in "furoz"}
# Parameters and pre-activations: W, b, U, p (peepholes) or z followed by a short lowercase tag: Wf, b_u, pf.
_SUBSCRIPTED = re.compile(r"^(?P<letter>[WbUVpz])_?(?P<sub>[a-z]{1,2})$")


# Deep networks (cells.stacked, cells.bidirectional) prefix names with the layer: `l2.h<3>`, `bw.Wh`.
_LAYER_PREFIX = re.compile(r"^(?P<layer>l\d+|fw|bw)\.(?P<rest>.+)$")
_LAYER_MARKS = {"fw": "→", "bw": "←"}


def split_layer(name: str) -> tuple[str, str]:
    """`"l2.h<3>"` -> `("[2]", "h<3>")`, `"bw.Wh"` -> `("←", "Wh")`, `"h<3>"` -> `("", "h<3>")`.

    The mark is the thesis-style superscript: h^[2]⟨3⟩ for layer 2, → / ← for the two directions.
    """
    match = _LAYER_PREFIX.match(name)
    if not match:
        return "", name
    layer = match.group("layer")
    return _LAYER_MARKS.get(layer, f"[{layer[1:]}]"), match.group("rest")


def layer_mark(component: str) -> str:
    """The superscript of a scope component: `l2` -> `[2]`, `fw` -> `→`; others ''."""
    return split_layer(component + ".x")[0]


def split_name(name: str) -> tuple[str, str, str]:
    """`"Gf<3>"` -> `("Γ", "f", "3")`; `"Wf"` -> `("W", "f", "")`; unknown -> `(name, "", "")`.
    A layer prefix (`l2.`, `fw.`) is set aside: see `split_layer`."""
    name = split_layer(name)[1]
    time = ""
    match = _TIME_SUFFIX.match(name) or _time_digits(name)
    if match:
        name, time = match.group("base"), match.group("t")
    if name in _SYMBOLS:
        symbol, sub = _SYMBOLS[name]
        return symbol, sub, time
    match = _SUBSCRIPTED.match(name)
    if match:
        return match.group("letter"), match.group("sub"), time
    return name, "", time


def _time_digits(name: str):
    match = _TRAILING_DIGITS.match(name)
    if match and _canonical(match.group("base")) in TIME_BASES:
        return match
    return None


def _canonical(base: str) -> str:
    if base in _SYMBOLS:
        symbol, sub = _SYMBOLS[base]
        return symbol + sub
    return base


def is_time_indexed(name: str | None) -> bool:
    """True for per-step values (`x3`, `h<0>`, `Γf2`), false for parameters (`Wf`, `by`, `kernel`)."""
    return bool(name) and split_name(name)[2] != ""


STATE_SYMBOLS = {"h", "c", "ŷ", "y", "a", "s"}


def is_state_name(name: str | None) -> bool:
    """h⟨t⟩, c⟨t⟩, ŷ⟨t⟩: what one step hands to the next (or to the output)."""
    if not name:
        return False
    symbol, sub, time = split_name(name)
    return bool(time) and not sub and symbol in STATE_SYMBOLS


def name_html(name: str) -> str:
    """An HTML-label fragment for a tape name: W<SUB>f</SUB>, h⟨3⟩, Γ<SUB>f</SUB>⟨3⟩, ŷ, h<SUP>[2]</SUP>⟨3⟩."""
    symbol, sub, time = split_name(name)
    mark = split_layer(name)[0]
    text = html_escape(symbol)
    if sub:
        text += f"<SUB>{html_escape(sub)}</SUB>"
    if mark:
        text += f"<SUP>{html_escape(mark)}</SUP>"
    if time:
        text += f"⟨{html_escape(time)}⟩"
    return text


def name_text(name: str) -> str:
    """The same in plain text (cluster titles, captions): Wf, h⟨3⟩, Γf⟨3⟩, ŷ, h[2]⟨3⟩."""
    symbol, sub, time = split_name(name)
    return symbol + sub + split_layer(name)[0] + (f"⟨{time}⟩" if time else "")


_STEP_COMPONENT = re.compile(r"^t\s*=\s*(?P<t>\d+)$")


@functools.lru_cache(maxsize=4096)
def step_of(component: str) -> int | None:
    """The time index of a scope component `t=3`, else None."""
    match = _STEP_COMPONENT.match(component)
    return int(match.group("t")) if match else None


def scope_title(component: str, lang: str = "en") -> str:
    """Cluster title of one scope component: `t=3` -> `step 3` / `paso 3`; `lstm` -> `LSTM`."""
    t = step_of(component)
    if t is not None:
        return f"{caption('step', lang)} {t}"
    if component == "head":
        return caption("output", lang)
    if component == "loss":
        return caption("loss", lang)
    if component in ("fw", "bw"):
        return caption("forward" if component == "fw" else "backward", lang)
    if re.fullmatch(r"l\d+", component):
        return f"{caption('layer', lang)} {component[1:]}"
    return KIND_NAMES.get(component, component)


def format_norm(norm: float) -> str:
    """A gradient norm for a label: 3 significant digits, unicode minus, `0` for exact zero."""
    if norm == 0:
        return "0"
    if norm != norm or norm in (float("inf"), float("-inf")):
        return str(norm)
    text = f"{norm:.2e}" if (norm < 1e-2 or norm >= 1e3) else f"{norm:.3g}"
    return text.replace("e-0", "e−").replace("e-", "e−").replace("e+0", "e").replace("e+", "e")

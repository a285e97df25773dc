"""The gradient colour scale: log10 of a gradient norm mapped onto a sequential palette.

Pale yellow for the smallest norm in the drawing, deep red for the largest, so a gradient
that vanishes back through time shows as colour fading from the loss towards step 1.
Exact zeros are light grey; inf/nan are purple (an exploding or broken gradient).
"""
from __future__ import annotations

import functools
import math

from visuals.dot import html_escape
from visuals.notation import caption, format_norm

# ColorBrewer YlOrRd (9 classes): readable on slides and in greyscale print.
PALETTE = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026")
ZERO_COLOR = "#eeeeee"
NOT_FINITE_COLOR = "#9e4fc4"


def _hex_to_rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


_PALETTE_RGB = [_hex_to_rgb(color) for color in PALETTE]


_STEPS = 512  # colour resolution: far finer than the eye (or a projector) can tell


@functools.lru_cache(maxsize=_STEPS + 1)
def _palette_step(step: int) -> str:
    return palette_color(step / _STEPS)


def palette_color(position: float) -> str:
    """Linear interpolation on the palette, `position` in [0, 1]."""
    position = min(max(position, 0.0), 1.0) * (len(PALETTE) - 1)
    low = min(int(position), len(PALETTE) - 2)
    frac = position - low
    a, b = _PALETTE_RGB[low], _PALETTE_RGB[low + 1]
    return "#" + "".join(f"{round(x + (y - x) * frac):02x}" for x, y in zip(a, b))


def luminance(color: str) -> float:
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _hex_to_rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


class GradientScale:
    """Maps norms to colours by log-norm between the smallest and largest positive finite norm."""

    def __init__(self, norms):
        finite = [n for n in norms if n > 0 and math.isfinite(n)]
        self.low = min(finite) if finite else 1.0
        self.high = max(finite) if finite else 1.0
        self._log_low = math.log10(self.low)
        self._span = math.log10(self.high) - self._log_low

    def position(self, norm: float) -> float:
        if self._span == 0:
            return 1.0
        return (math.log10(norm) - self._log_low) / self._span

    def fill(self, norm: float) -> str:
        if not math.isfinite(norm):
            return NOT_FINITE_COLOR
        if norm <= 0:
            return ZERO_COLOR
        return _palette_step(round(min(max(self.position(norm), 0.0), 1.0) * _STEPS))

    def font_color(self, norm: float) -> str:
        """Black on light fills, white on dark ones (by relative luminance, WCAG's formula)."""
        return "white" if luminance(self.fill(norm)) < 0.4 else "black"

    def legend_html(self, lang: str = "en", cells: int = 9, face: str = "") -> str:
        """An HTML table (for the graph label): title, a colour bar from low to high norm, the ends."""
        bar = "".join(
            f'<TD BGCOLOR="{palette_color(i / (cells - 1))}" WIDTH="18" HEIGHT="12"></TD>' for i in range(cells)
        )
        title = html_escape(caption("grad_legend", lang))
        font = f'<FONT FACE="{face}" POINT-SIZE="{{size}}">' if face else '<FONT POINT-SIZE="{size}">'
        low, high = html_escape(format_norm(self.low)), html_escape(format_norm(self.high))
        return (
            '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
            f'<TR><TD COLSPAN="{cells + 2}">{font.format(size=11)}{title}</FONT></TD></TR>'
            f'<TR><TD>{font.format(size=10)}{low}</FONT></TD>{bar}<TD>{font.format(size=10)}{high}</FONT></TD></TR>'
            "</TABLE>"
        )

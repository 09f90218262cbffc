"""Short labels (tick values, names, titles) drawn from cached bitmaps.

Matplotlib 3.11's Agg draws a ``Text`` by shaping it anew (HarfBuzz layout, font fallback) at
every drawing: ~1 ms per label on a loaded machine, and the dashboard has ~100 of them, which
made text the largest cost of a refresh. A :class:`Label` rasterises its string once per (text,
size, angle, dpi) with FreeType's plain layout (kerned, no complex shaping: enough for numbers
and parameter names), keeps the alpha mask in a bounded cache, and stamps it coloured as an
image. The public ``sweepnb.plots`` figures keep matplotlib's ``Text``.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import get_hinting_flag
from matplotlib.colors import to_rgba
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.transforms import Transform

CACHE_SIZE = 4096  # masks kept (a dashboard uses ~150 distinct strings)
_CACHE: OrderedDict[tuple, tuple[np.ndarray, float]] = OrderedDict()
_LOCK = threading.Lock()  # FT2Font objects are shared and stateful


def _mask(text: str, size: float, angle: float, dpi: float) -> tuple[np.ndarray, float]:
    """The string's alpha mask (rows top to bottom) and its descent in pixels (unrotated)."""
    key = (text, size, angle, dpi)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
        font = get_font(findfont(FontProperties(size=size)))
        font.set_size(size, dpi)
        font.set_text(text, angle, flags=get_hinting_flag())
        font.draw_glyphs_to_bitmap(antialiased=True)
        entry = (np.asarray(font.get_image()).copy(), font.get_descent() / 64.0)
        _CACHE[key] = entry
        if len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
        return entry


@functools.cache
def _charmap() -> frozenset[int]:
    return frozenset(get_font(findfont(FontProperties())).get_charmap())


def supported(text: str) -> bool:
    """True when the default font has every character of ``text`` on one line (else matplotlib's
    ``Text``, with its font fallback, should draw it)."""
    codes = _charmap()
    return "\n" not in text and all(ord(c) in codes for c in text)


class Label(Artist):
    """A one-line text at (x, y) in ``transform`` coordinates, aligned by its box like ``Text``
    (``ha`` left/center/right, ``va`` top/center/bottom/baseline), drawn as a cached bitmap."""

    zorder = 3

    def __init__(
        self,
        x: float,
        y: float,
        text: str,
        *,
        transform: Transform,
        size: float = 7,
        color: str = "black",
        ha: str = "left",
        va: str = "baseline",
        rotation: float = 0,
        zorder: float | None = None,
    ):
        super().__init__()
        if ha not in ("left", "center", "right") or va not in (
            "top",
            "center",
            "bottom",
            "baseline",
        ):
            raise ValueError(f"ha/va: unknown alignment {ha!r}/{va!r}")
        self.x, self.y, self.text = float(x), float(y), str(text)
        self.size, self.rotation = float(size), float(rotation)
        self.rgba = np.array(to_rgba(color))
        self.ha, self.va = ha, va
        self.set_transform(transform)
        if zorder is not None:
            self.set_zorder(zorder)

    def _corner(self, mask: np.ndarray, descent: float, px: float, py: float) -> tuple[int, int]:
        """The lower-left pixel of the bitmap for the anchor point (px, py)."""
        h, w = mask.shape
        x0 = px - {"left": 0.0, "center": w / 2, "right": float(w)}[self.ha]
        below = descent if self.rotation == 0 else 0.0  # a rotated box aligns by its corners
        y0 = py - {"bottom": 0.0, "center": h / 2, "top": float(h), "baseline": below}[self.va]
        return round(x0), round(y0)

    def draw(self, renderer: RendererBase) -> None:
        if not self.get_visible() or not self.text:
            return
        mask, descent = _mask(self.text, self.size, self.rotation, renderer.dpi)
        if not mask.size:
            return
        px, py = self.get_transform().transform((self.x, self.y))
        x0, y0 = self._corner(mask, descent, px, py)
        image = np.empty((*mask.shape, 4), dtype=np.uint8)
        image[..., :3] = np.round(self.rgba[:3] * 255).astype(np.uint8)
        image[..., 3] = (mask * self.rgba[3]).astype(np.uint8)
        gc = renderer.new_gc()
        renderer.draw_image(gc, x0, y0, image[::-1])
        gc.restore()
        self.stale = False

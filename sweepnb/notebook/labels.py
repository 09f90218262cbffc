"""Short labels (tick values, names, titles) drawn from cached glyph outlines.

Matplotlib 3.11's Agg draws a ``Text`` by shaping it anew (HarfBuzz layout, font fallback) at
every drawing: ~1 ms per label on a loaded machine, and the dashboard has ~100 of them, which
made text the largest cost of a refresh. A :class:`Label` lays its string out once per (text,
size) as a public ``matplotlib.textpath.TextPath`` (the glyph outlines in points, baseline at
y=0), keeps it in a bounded cache, and fills it as one path at each drawing, scaled to the
figure's dpi and rotated. Only public matplotlib API is used, so a matplotlib upgrade cannot
break it. The public ``sweepnb.plots`` figures keep matplotlib's ``Text``.
"""

from __future__ import annotations

import functools
import threading

from fontTools.ttLib import TTFont
from matplotlib.artist import Artist
from matplotlib.backend_bases import RendererBase
from matplotlib.colors import to_rgba
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.path import Path
from matplotlib.textpath import TextPath, text_to_path
from matplotlib.transforms import Affine2D, Bbox, Transform

CACHE_SIZE = 4096  # outlines kept (a dashboard uses ~150 distinct strings)
_LOCK = threading.Lock()  # text layout shares font objects between threads


@functools.lru_cache(maxsize=CACHE_SIZE)
def _outline(text: str, size: float) -> tuple[Path, Bbox]:
    """The string's glyph outlines in points (baseline at y=0) and its layout box: the advance
    width by ascent and descent, as ``Text`` aligns by (the ink alone would let a right-aligned
    label touch what it labels)."""
    prop = FontProperties(size=size)
    with _LOCK:
        path = TextPath((0, 0), text, size=size, prop=prop)
        width, height, descent = text_to_path.get_text_width_height_descent(text, prop, False)
    return path, Bbox([[0.0, -descent], [width, height - descent]])


@functools.cache
def _charmap() -> frozenset[int]:
    # fontTools ships with matplotlib (a dependency): its cmap is the public way to ask a font
    # which characters it has
    with TTFont(findfont(FontProperties()), lazy=True) as font:
        return frozenset(font.getBestCmap())


def supported(text: str) -> bool:
    """True when the default font has every character of ``text`` on one line (else matplotlib's
    ``Text``, with its font fallback, should draw it)."""
    codes = _charmap()
    return "\n" not in text and all(ord(c) in codes for c in text)


def width(text: str, size: float) -> float:
    """The layout width of one line of ``text`` at ``size``, in points."""
    return _outline(text, size)[1].width


def height(text: str, size: float) -> float:
    """The layout height (ascent and descent) of one line of ``text`` at ``size``, in points."""
    return _outline(text, size)[1].height


class Label(Artist):
    """A one-line text at (x, y) in ``transform`` coordinates, aligned by its box like ``Text``
    (``ha`` left/center/right, ``va`` top/center/bottom/baseline), drawn from a cached outline.

    ``halo``: a colour (the background's) filling the layout box grown by ``halo_pad`` points
    under the text, so lines drawn below the label stop that far short of it (a tick label on
    a parallel-coordinates axis, which runs' lines cross)."""

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
        halo: str | tuple | None = None,
        halo_pad: float = 2.0,
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
        self.rgba = to_rgba(color)
        self.ha, self.va = ha, va
        self.halo = None if halo is None else to_rgba(halo)
        self.halo_pad = float(halo_pad)
        self.set_transform(transform)
        if zorder is not None:
            self.set_zorder(zorder)

    def _placed(self, box: Bbox, px: float, py: float) -> tuple[float, float]:
        """The offset that puts the outline's box (in pixels) at the anchor point (px, py)."""
        dx = px - {"left": box.x0, "center": (box.x0 + box.x1) / 2, "right": box.x1}[self.ha]
        # a rotated box aligns by its corners, so its "baseline" is its bottom
        baseline = 0.0 if self.rotation == 0 else box.y0
        dy = py - {"bottom": box.y0, "center": (box.y0 + box.y1) / 2, "top": box.y1}.get(
            self.va, baseline
        )
        return round(dx), round(dy)  # whole pixels, so a label does not blur between refreshes

    def _layout(self, renderer: RendererBase) -> tuple[Path, Affine2D, Bbox]:
        """The outline, its transform to display pixels, and its placed box in pixels."""
        path, box = _outline(self.text, self.size)
        shape = Affine2D().scale(renderer.points_to_pixels(1.0)).rotate_deg(self.rotation)
        corners = shape.transform(box.corners())
        bounds = Bbox([corners.min(axis=0), corners.max(axis=0)])
        px, py = self.get_transform().transform((self.x, self.y))
        dx, dy = self._placed(bounds, px, py)
        return path, shape.translate(dx, dy), bounds.translated(dx, dy)

    def get_window_extent(self, renderer: RendererBase | None = None) -> Bbox:
        """The label's layout box in display pixels (where ``draw`` puts it)."""
        if renderer is None:
            renderer = self.figure.canvas.get_renderer()  # an Agg canvas, as the dashboard uses
        return self._layout(renderer)[2]

    def draw(self, renderer: RendererBase) -> None:
        if not self.get_visible() or not self.text:
            return
        path, shape, bounds = self._layout(renderer)
        if not len(path.vertices):
            return  # blanks only
        gc = renderer.new_gc()
        gc.set_linewidth(0)
        gc.set_antialiased(True)
        if self.halo is not None:
            box = bounds.padded(renderer.points_to_pixels(self.halo_pad))
            place = Affine2D().scale(box.width, box.height).translate(box.x0, box.y0)
            renderer.draw_path(gc, Path.unit_rectangle(), place, self.halo)
        renderer.draw_path(gc, path, shape, self.rgba)
        gc.restore()
        self.stale = False

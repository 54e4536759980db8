"""Drawing helpers shared by the task families.

Every task draws on a 224×224 *design grid*: coordinates and font sizes are given as if the image
were 224 pixels wide, and :class:`Canvas` scales them to the requested ``image_size``. Drawing is
done at twice the final size and downsampled, so thin lines and small shapes stay smooth at 224 px
(PIL's shape primitives are not antialiased), and text uses Pillow's embedded scalable font, so
the output depends on Pillow alone (no system fonts) and is byte-identical for a seed.
"""

from __future__ import annotations

import math
import random
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

DESIGN = 224
"""Width and height of the design grid that task code draws on."""

SUPERSAMPLE = 2
"""Draw at this multiple of the final size, then downsample (antialiasing for shapes and lines)."""

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 38, 38),
    "blue": (37, 99, 235),
    "green": (22, 150, 60),
    "orange": (240, 140, 10),
    "purple": (140, 50, 200),
    "black": (25, 25, 25),
}
"""Named colours, chosen to be told apart easily at 224 px (no yellow on white, no near-greys)."""

SHAPES = ("circle", "square", "triangle")
PLURAL = {"circle": "circles", "square": "squares", "triangle": "triangles"}
INK = (25, 25, 25)
GRID = (205, 205, 205)


@lru_cache(maxsize=64)
def font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's embedded font at ``px`` pixels (falls back to the fixed bitmap font without FreeType)."""
    try:
        return ImageFont.load_default(size=max(px, 6))
    except (TypeError, ImportError, OSError):  # Pillow < 10.1 or no FreeType: fixed-size bitmap font
        return ImageFont.load_default()


class Canvas:
    """A white square image addressed in design-grid coordinates.

    Example:
        >>> c = Canvas(112)
        >>> c.shape("circle", 112, 112, 20, "red")
        >>> c.finish().size
        (112, 112)
    """

    def __init__(self, size: int, background: tuple[int, int, int] = (255, 255, 255)):
        self.size = size
        self.k = size * SUPERSAMPLE / DESIGN
        self.image = Image.new("RGB", (size * SUPERSAMPLE, size * SUPERSAMPLE), background)
        self.draw = ImageDraw.Draw(self.image)

    def _xy(self, x: float, y: float) -> tuple[float, float]:
        return (x * self.k, y * self.k)

    def _w(self, width: float) -> int:
        return max(1, round(width * self.k))

    def shape(self, kind: str, cx: float, cy: float, r: float, colour: str) -> None:
        """A filled circle, square or upward triangle of 'radius' ``r`` centred at (cx, cy)."""
        fill = COLOURS[colour]
        if kind == "circle":
            self.draw.ellipse([*self._xy(cx - r, cy - r), *self._xy(cx + r, cy + r)], fill=fill)
        elif kind == "square":
            s = r * 0.9
            self.draw.rectangle([*self._xy(cx - s, cy - s), *self._xy(cx + s, cy + s)], fill=fill)
        elif kind == "triangle":
            h = r * 1.05
            pts = [(cx, cy - h), (cx + h * math.sqrt(3) / 2, cy + h / 2), (cx - h * math.sqrt(3) / 2, cy + h / 2)]
            self.draw.polygon([self._xy(*p) for p in pts], fill=fill)
        else:
            raise ValueError(f"unknown shape {kind!r}")

    def line(self, p: tuple[float, float], q: tuple[float, float], width: float = 2, colour=INK) -> None:
        fill = COLOURS[colour] if isinstance(colour, str) else colour
        self.draw.line([self._xy(*p), self._xy(*q)], fill=fill, width=self._w(width))

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill, outline=None, width: float = 1) -> None:
        fill = COLOURS[fill] if isinstance(fill, str) else fill
        self.draw.rectangle([*self._xy(x0, y0), *self._xy(x1, y1)], fill=fill, outline=outline, width=self._w(width))

    def arc(self, cx: float, cy: float, r: float, start: float, end: float, width: float = 1.5, colour=INK) -> None:
        """An arc of radius ``r``; angles in degrees, clockwise from +x as PIL draws them (y down)."""
        box = [*self._xy(cx - r, cy - r), *self._xy(cx + r, cy + r)]
        self.draw.arc(box, start, end, fill=colour, width=self._w(width))

    def text(self, x: float, y: float, s: str, px: float = 16, colour=INK) -> None:
        """Text centred on (x, y), ``px`` design pixels tall."""
        fill = COLOURS[colour] if isinstance(colour, str) else colour
        f = font(round(px * self.k))
        x0, y0, x1, y1 = self.draw.textbbox((0, 0), s, font=f)
        X, Y = self._xy(x, y)
        self.draw.text((X - (x0 + x1) / 2, Y - (y0 + y1) / 2), s, font=f, fill=fill)

    def finish(self) -> Image.Image:
        """The final ``size``×``size`` image."""
        return self.image.resize((self.size, self.size), Image.Resampling.LANCZOS)


def grid_slots(rng: random.Random, n: int, cells: int, r: float, margin: float = 8) -> list[tuple[float, float]]:
    """Centres of ``n`` non-overlapping objects of radius ``r``: distinct cells of a ``cells``×``cells``
    grid over the design area, each jittered inside its cell, in row-major (reading) order."""
    if n > cells * cells:
        raise ValueError(f"{n} objects do not fit a {cells}x{cells} grid")
    step = (DESIGN - 2 * margin) / cells
    slack = max(0.0, step / 2 - r - 2)
    chosen = sorted(rng.sample(range(cells * cells), n))
    out = []
    for c in chosen:
        row, col = divmod(c, cells)
        cx = margin + (col + 0.5) * step + rng.uniform(-slack, slack)
        cy = margin + (row + 0.5) * step + rng.uniform(-slack, slack)
        out.append((cx, cy))
    return out


def counted(counts: dict[str, int], noun: str = "") -> str:
    """``{"red": 2, "blue": 1}`` -> ``"2 red, 1 blue"`` (with ``noun`` appended to each part)."""
    parts = [f"{v} {k}{(' ' + noun) if noun else ''}" for k, v in counts.items() if v]
    return join(parts)


def join(parts: list[str]) -> str:
    """English list: ``a``, ``a and b``, ``a, b and c``."""
    if not parts:
        return "nothing"
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]

"""Product photos for the demo, drawn with Pillow (the demo downloads nothing).

Each piece is drawn at twice the output size on a transparent layer and scaled
down, which gives smooth (antialiased) edges that ImageDraw alone does not. The
layer then sits on a soft studio gradient with a blurred shadow of itself. The
second photo of a product is a closer crop of the same piece on another ground.
"""

import io
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter

SIZE = 900  # the original's side; renditions are made from it
S = SIZE * 2  # the drawing canvas

RGB = tuple[int, int, int]

# Studio grounds: (top-left, bottom-right, glow behind the piece).
GROUNDS: dict[str, tuple[RGB, RGB, RGB]] = {
    "cream": ((252, 248, 240), (233, 222, 203), (255, 253, 247)),
    "champagne": ((246, 236, 216), (214, 193, 158), (252, 245, 230)),
    "blush": ((251, 238, 234), (226, 196, 190), (255, 246, 243)),
    "slate": ((222, 227, 233), (140, 153, 168), (240, 243, 246)),
    "sage": ((236, 240, 230), (184, 196, 176), (246, 248, 242)),
}

# Metal tones: shadow, body, light, specular.
METALS: dict[str, tuple[RGB, RGB, RGB, RGB]] = {
    "gold": ((132, 96, 22), (201, 162, 39), (233, 200, 98), (255, 246, 206)),
    "rose": ((146, 88, 70), (205, 140, 118), (234, 183, 162), (255, 234, 224)),
    "white": ((112, 117, 126), (178, 184, 192), (219, 223, 229), (255, 255, 255)),
}

# Stones: shadow, body, light, specular.
STONES: dict[str, tuple[RGB, RGB, RGB, RGB]] = {
    "diamond": ((168, 184, 204), (214, 225, 238), (240, 246, 252), (255, 255, 255)),
    "ruby": ((110, 10, 32), (186, 26, 58), (230, 92, 118), (255, 214, 222)),
    "sapphire": ((14, 30, 96), (34, 68, 170), (96, 132, 220), (220, 232, 255)),
    "emerald": ((8, 82, 50), (22, 138, 86), (86, 196, 142), (214, 250, 230)),
    "jade_green": ((34, 100, 62), (74, 152, 102), (148, 206, 158), (226, 248, 228)),
    "jade_white": ((186, 180, 154), (230, 226, 206), (246, 244, 234), (255, 255, 252)),
    "pearl_white": ((196, 190, 186), (236, 232, 228), (250, 248, 246), (255, 255, 255)),
    "pearl_gold": ((178, 138, 62), (222, 186, 110), (244, 220, 162), (255, 248, 226)),
    "pearl_black": ((34, 36, 44), (76, 80, 96), (140, 146, 170), (226, 230, 244)),
}


@dataclass(frozen=True)
class Look:
    """How a product is drawn: its shape, metal tone, stone and pendant motif."""

    shape: str  # ring, bands, necklace, chain, studs, drops, hoops, bangle, bracelet, pendant
    metal: str = "gold"  # gold, rose, white
    stone: str = ""  # a key of STONES, or ""
    motif: str = ""  # pendant/drop shape: heart, drop, disc, gourd, clover, medallion, oval, plaque


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _ground(name: str, size: int) -> Image.Image:
    """A diagonal two-tone gradient with a soft glow in the middle."""
    top, bottom, glow = GROUNDS[name]
    # Made small and scaled up: a gradient survives scaling, and it costs nothing.
    # Exact transposes (no rotation) keep the corners free of fill artefacts.
    vertical = Image.linear_gradient("L")
    ramp = Image.blend(vertical, vertical.transpose(Image.Transpose.ROTATE_90), 0.5)
    ramp = ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    small = ramp.size
    base = Image.composite(Image.new("RGB", small, bottom), Image.new("RGB", small, top), ramp)
    halo = Image.radial_gradient("L").point(lambda v: max(0, 255 - int(v * 1.5)))
    base = Image.composite(Image.new("RGB", small, glow), base, halo)
    return base.resize((size, size), Image.Resampling.BICUBIC).convert("RGBA")


def _shadow(layer: Image.Image, *, strength: float = 0.32) -> Image.Image:
    """A soft shadow cast by whatever is drawn on ``layer`` (same size as the layer)."""
    width, height = layer.size
    alpha = layer.getchannel("A").resize((width // 8, height // 8), Image.Resampling.BILINEAR)
    alpha = alpha.filter(ImageFilter.GaussianBlur(3)).resize((width, height),
                                                             Image.Resampling.BILINEAR)
    alpha = alpha.point(lambda v: int(v * strength))
    shadow = Image.new("RGBA", (width, height), (70, 52, 36, 0))
    shadow.putalpha(alpha)
    return shadow


# --- drawing primitives (canvas coordinates) -------------------------------------


def _band(d: ImageDraw.ImageDraw, cx: float, cy: float, rx: float, ry: float, t: float,
          metal: str) -> None:
    """A ring band seen from slightly above: body, hole, inner wall, two highlights."""
    shadow, body, light, spec = METALS[metal]
    d.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=body + (255,))
    # The front wall hides more of the hole than the back one: perspective.
    hole = (cx - rx + t, cy - ry + t * 0.55, cx + rx - t, cy + ry - t * 1.25)
    d.ellipse(hole, fill=(0, 0, 0, 0))
    d.arc(hole, 180, 360, fill=shadow + (255,), width=max(2, int(t * 0.45)))
    d.arc((cx - rx + t * 0.25, cy - ry + t * 0.2, cx + rx - t * 0.25, cy + ry - t * 0.25),
          25, 155, fill=light + (255,), width=max(2, int(t * 0.28)))
    d.arc((cx - rx + t * 0.35, cy - ry + t * 0.3, cx + rx - t * 0.35, cy + ry - t * 0.35),
          70, 110, fill=spec + (255,), width=max(2, int(t * 0.12)))
    d.arc((cx - rx + 4, cy - ry + 4, cx + rx - 4, cy + ry - 4), 200, 245,
          fill=spec + (255,), width=max(2, int(t * 0.12)))


def _gem_side(d: ImageDraw.ImageDraw, cx: float, cy: float, w: float, stone: str) -> None:
    """A brilliant-cut stone in profile: crown facets over a pointed pavilion."""
    shadow, body, light, spec = STONES[stone]
    tones = [light, body, spec, shadow, light, body]
    girdle, table_y, point_y = cy, cy - 0.3 * w, cy + 0.6 * w
    xs = [cx - w / 2 + k * w / 4 for k in range(5)]
    crown_top = [cx - 0.28 * w, cx - 0.09 * w, cx + 0.09 * w, cx + 0.28 * w]
    # Crown: five facets from the girdle up to the table.
    crown = [
        [(xs[0], girdle), (crown_top[0], table_y), (xs[1], girdle)],
        [(xs[1], girdle), (crown_top[0], table_y), (crown_top[1], table_y), (xs[2], girdle)],
        [(xs[2], girdle), (crown_top[1], table_y), (crown_top[2], table_y)],
        [(xs[2], girdle), (crown_top[2], table_y), (crown_top[3], table_y), (xs[3], girdle)],
        [(xs[3], girdle), (crown_top[3], table_y), (xs[4], girdle)],
    ]
    for i, facet in enumerate(crown):
        d.polygon(facet, fill=tones[i % len(tones)] + (255,), outline=shadow + (255,))
    for k in range(4):
        d.polygon([(xs[k], girdle), (xs[k + 1], girdle), (cx, point_y)],
                  fill=tones[(k + 3) % len(tones)] + (255,), outline=shadow + (255,))
    d.line([(xs[0], girdle), (xs[4], girdle)], fill=shadow + (255,), width=3)
    _sparkle(d, cx - 0.12 * w, table_y + 0.06 * w, 0.28 * w)


def _gem_top(d: ImageDraw.ImageDraw, cx: float, cy: float, r: float, stone: str) -> None:
    """A round brilliant seen from above: eight kite facets round an octagonal table."""
    shadow, body, light, spec = STONES[stone]
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=body + (255,), outline=shadow + (255,),
              width=max(2, int(r * 0.05)))
    table = [(cx + 0.55 * r * math.cos(math.pi / 8 + i * math.pi / 4),
              cy + 0.55 * r * math.sin(math.pi / 8 + i * math.pi / 4)) for i in range(8)]
    for i in range(8):
        a = i * math.pi / 4
        outer = (cx + r * math.cos(a + math.pi / 8), cy + r * math.sin(a + math.pi / 8))
        tone = (light, shadow, spec, body)[i % 4]
        d.polygon([table[i - 1], outer, table[i]], fill=tone + (255,))
    d.polygon(table, fill=light + (255,), outline=shadow + (255,))
    _sparkle(d, cx - 0.25 * r, cy - 0.25 * r, 0.7 * r)


def _sparkle(d: ImageDraw.ImageDraw, x: float, y: float, size: float) -> None:
    width = max(2, int(size * 0.06))
    d.line([(x - size / 2, y), (x + size / 2, y)], fill=(255, 255, 255, 255), width=width)
    d.line([(x, y - size / 2), (x, y + size / 2)], fill=(255, 255, 255, 255), width=width)


def _sphere(d: ImageDraw.ImageDraw, cx: float, cy: float, r: float, tones: tuple) -> None:
    """A shaded ball (pearl, bead): rings of colour drifting towards the light."""
    shadow, body, light, spec = tones
    steps = 14
    for i in range(steps):
        t = i / (steps - 1)
        radius = r * (1 - 0.82 * t)
        ox, oy = cx - 0.32 * r * t, cy - 0.34 * r * t
        colour = _mix(shadow, body, min(1, t * 2.2)) if t < 0.45 else _mix(body, light, (t - 0.45) / 0.55)
        d.ellipse((ox - radius, oy - radius, ox + radius, oy + radius), fill=colour + (255,))
    hr = r * 0.16
    hx, hy = cx - 0.38 * r, cy - 0.4 * r
    d.ellipse((hx - hr, hy - hr * 0.8, hx + hr, hy + hr * 0.8), fill=spec + (255,))


def _path_points(fn, t0: float, t1: float, step: float) -> list[tuple[float, float]]:
    """Points along a parametric curve ``fn(t)``, evenly spaced by arc length."""
    fine = [fn(t0 + (t1 - t0) * i / 2000) for i in range(2001)]
    points, travelled = [fine[0]], 0.0
    for (x0, y0), (x1, y1) in zip(fine, fine[1:], strict=False):
        travelled += math.hypot(x1 - x0, y1 - y0)
        if travelled >= step:
            points.append((x1, y1))
            travelled = 0.0
    return points


def _chain(d: ImageDraw.ImageDraw, points: Iterable[tuple[float, float]], metal: str,
           link: float) -> None:
    """Links along a path: round links alternating with edge-on ones, each lit."""
    shadow, body, light, spec = METALS[metal]
    for i, (x, y) in enumerate(points):
        if i % 2:
            d.ellipse((x - link, y - link * 0.45, x + link, y + link * 0.45),
                      outline=shadow + (255,), width=max(2, int(link * 0.45)))
        else:
            d.ellipse((x - link, y - link, x + link, y + link), outline=body + (255,),
                      width=max(2, int(link * 0.42)))
            d.arc((x - link, y - link, x + link, y + link), 200, 260, fill=spec + (255,),
                  width=max(1, int(link * 0.2)))


def _catenary(x_left: float, x_right: float, top: float, bottom: float):
    """The curve of a chain hanging from two points: returns fn(x) -> (x, y)."""
    half, sag = (x_right - x_left) / 2, bottom - top
    lo, hi = 1.0, 1e5
    for _ in range(60):  # solve a * (cosh(half / a) - 1) = sag for a
        a = (lo + hi) / 2
        if a * (math.cosh(half / a) - 1) > sag:
            lo = a
        else:
            hi = a
    cx = (x_left + x_right) / 2
    return lambda x: (x, bottom - a * (math.cosh((x - cx) / a) - 1))


def _charm(d: ImageDraw.ImageDraw, cx: float, cy: float, size: float, look: Look) -> None:
    """The pendant itself, hanging with its top at (cx, cy)."""
    shadow, body, light, spec = METALS[look.metal]
    stone = look.stone
    r = size / 2
    # The bail: a small loop the chain runs through.
    d.ellipse((cx - r * 0.16, cy - r * 0.2, cx + r * 0.16, cy + r * 0.2),
              outline=body + (255,), width=max(3, int(r * 0.08)))
    top = cy + r * 0.18
    motif = look.motif or ("drop" if stone else "heart")
    if motif == "heart":
        c = cy + r * 0.9
        lobe = r * 0.52
        fill = STONES[stone][1] if stone and not stone.startswith("pearl") else body
        outline = shadow
        d.ellipse((cx - 2 * lobe, top, cx, top + 2 * lobe), fill=fill + (255,))
        d.ellipse((cx, top, cx + 2 * lobe, top + 2 * lobe), fill=fill + (255,))
        d.polygon([(cx - 1.95 * lobe, top + 1.25 * lobe), (cx + 1.95 * lobe, top + 1.25 * lobe),
                   (cx, c + r * 0.95)], fill=fill + (255,))
        d.arc((cx - 1.7 * lobe, top + 0.2 * lobe, cx - 0.3 * lobe, top + 1.6 * lobe), 190, 260,
              fill=spec + (255,), width=max(3, int(r * 0.07)))
        d.line([(cx, top + 0.35 * lobe), (cx, top + 0.55 * lobe)], fill=outline + (255,), width=3)
    elif motif == "drop":
        if stone.startswith("pearl"):
            d.line([(cx, top), (cx, top + r * 0.3)], fill=body + (255,), width=max(3, int(r * 0.06)))
            _sphere(d, cx, top + r * 0.95, r * 0.65, STONES[stone])
        else:
            _gem_top(d, cx, top + r * 0.85, r * 0.62, stone or "diamond")
            d.ellipse((cx - r * 0.72, top + r * 0.13, cx + r * 0.72, top + r * 1.57),
                      outline=body + (255,), width=max(4, int(r * 0.09)))
    elif motif == "disc":  # 平安扣: a jade doughnut
        tones = STONES[stone or "jade_white"]
        d.ellipse((cx - r, top, cx + r, top + 2 * r), fill=tones[1] + (255,),
                  outline=tones[0] + (255,), width=max(3, int(r * 0.05)))
        d.arc((cx - r * 0.85, top + r * 0.15, cx + r * 0.85, top + r * 1.85), 190, 260,
              fill=tones[3] + (255,), width=max(4, int(r * 0.12)))
        d.ellipse((cx - r * 0.32, top + r * 0.68, cx + r * 0.32, top + r * 1.32), fill=(0, 0, 0, 0))
        d.arc((cx - r * 0.32, top + r * 0.68, cx + r * 0.32, top + r * 1.32), 180, 360,
              fill=tones[0] + (255,), width=max(3, int(r * 0.06)))
    elif motif == "oval":  # a carved jade plaque (观音, 佛公, 如意)
        tones = STONES[stone or "jade_green"]
        d.ellipse((cx - r * 0.72, top, cx + r * 0.72, top + 2.1 * r), fill=tones[1] + (255,),
                  outline=tones[0] + (255,), width=max(3, int(r * 0.05)))
        d.ellipse((cx - r * 0.45, top + r * 0.35, cx + r * 0.45, top + 1.75 * r),
                  outline=tones[0] + (255,), width=max(3, int(r * 0.05)))
        d.ellipse((cx - r * 0.2, top + r * 0.45, cx + r * 0.2, top + r * 0.85), fill=tones[2] + (255,))
        d.arc((cx - r * 0.62, top + r * 0.1, cx + r * 0.62, top + 2.0 * r), 195, 250,
              fill=tones[3] + (255,), width=max(4, int(r * 0.1)))
    elif motif == "gourd":
        for oy, rr in ((r * 0.45, r * 0.42), (r * 1.35, r * 0.68)):
            d.ellipse((cx - rr, top + oy - rr, cx + rr, top + oy + rr), fill=body + (255,))
            d.arc((cx - rr * 0.8, top + oy - rr * 0.8, cx + rr * 0.8, top + oy + rr * 0.8),
                  195, 255, fill=spec + (255,), width=max(3, int(r * 0.08)))
        d.rectangle((cx - r * 0.3, top + r * 0.78, cx + r * 0.3, top + r * 0.86), fill=shadow + (255,))
    elif motif == "clover":
        leaf = r * 0.42
        fill = STONES[stone][1] if stone else body
        for dx, dy in ((0, -1), (1, 0), (0, 1), (-1, 0)):
            x, y = cx + dx * leaf * 0.95, top + r + dy * leaf * 0.95
            d.ellipse((x - leaf, y - leaf, x + leaf, y + leaf), fill=fill + (255,),
                      outline=body + (255,), width=max(4, int(r * 0.08)))
        _gem_top(d, cx, top + r, leaf * 0.45, "diamond")
    elif motif == "plaque":  # 福牌: a framed rectangle
        d.rounded_rectangle((cx - r * 0.7, top, cx + r * 0.7, top + 1.9 * r), radius=r * 0.15,
                            fill=body + (255,), outline=shadow + (255,), width=max(3, int(r * 0.05)))
        d.rounded_rectangle((cx - r * 0.5, top + r * 0.2, cx + r * 0.5, top + 1.7 * r),
                            radius=r * 0.1, outline=light + (255,), width=max(3, int(r * 0.05)))
        for k in range(3):
            y = top + r * (0.55 + 0.4 * k)
            d.line([(cx - r * 0.28, y), (cx + r * 0.28, y)], fill=shadow + (255,),
                   width=max(3, int(r * 0.06)))
    else:  # medallion (zodiac): a coin with a rim and a sunburst
        c = top + r
        d.ellipse((cx - r, c - r, cx + r, c + r), fill=body + (255,), outline=shadow + (255,),
                  width=max(3, int(r * 0.06)))
        d.ellipse((cx - r * 0.78, c - r * 0.78, cx + r * 0.78, c + r * 0.78), outline=light + (255,),
                  width=max(3, int(r * 0.05)))
        for i in range(12):
            a = i * math.pi / 6
            d.line([(cx + r * 0.25 * math.cos(a), c + r * 0.25 * math.sin(a)),
                    (cx + r * 0.6 * math.cos(a), c + r * 0.6 * math.sin(a))],
                   fill=shadow + (255,), width=max(3, int(r * 0.05)))
        d.arc((cx - r * 0.92, c - r * 0.92, cx + r * 0.92, c + r * 0.92), 200, 250,
              fill=spec + (255,), width=max(3, int(r * 0.07)))


# --- one drawing per shape --------------------------------------------------------


def _draw_piece(d: ImageDraw.ImageDraw, look: Look, rng: random.Random) -> None:
    cx, cy = S / 2 + rng.uniform(-30, 30), S / 2 + rng.uniform(-20, 40)
    metal = look.metal
    shape = look.shape
    if shape == "ring":
        thick = 80 if look.stone else rng.choice((95, 110, 125))
        _band(d, cx, cy + 160, 520, 270, thick, metal)
        if look.stone:
            top = cy + 160 - 270 + 10
            w = 360 if look.motif != "pave" else 0
            if w:
                # Prongs first, so the stone sits in front of them.
                _, body, light, _spec = METALS[metal]
                for dx in (-0.42, -0.18, 0.18, 0.42):
                    d.line([(cx + dx * w, top + 20), (cx + dx * w * 0.9, top - 0.34 * w)],
                           fill=body + (255,), width=16)
                _gem_side(d, cx, top - 0.12 * w, w, look.stone)
            else:
                for k in range(-4, 5):
                    a = math.pi / 2 + k * 0.12
                    _gem_top(d, cx + 520 * math.cos(a), cy + 160 + 270 * math.sin(a) - 36, 32,
                             "diamond")
    elif shape == "bands":
        _band(d, cx - 200, cy + 20, 460, 240, 115, metal)
        _band(d, cx + 230, cy + 190, 400, 210, 95, "white" if metal != "white" else "gold")
        if look.stone:
            _gem_top(d, cx + 230, cy + 190 + 210 - 52, 46, look.stone)
    elif shape in ("necklace", "chain"):
        fn = _catenary(S * 0.14, S * 0.86, S * 0.14, S * 0.68 if shape == "necklace" else S * 0.8)
        points = _path_points(lambda t: fn(t), S * 0.14, S * 0.86, 26 if shape == "necklace" else 34)
        _chain(d, points, metal, 13 if shape == "necklace" else 18)
        if shape == "necklace":
            lowest = max(points, key=lambda p: p[1])
            if look.stone.startswith("pearl") and look.motif == "strand":
                for x, y in points[::3]:
                    _sphere(d, x, y, 34, STONES[look.stone])
            else:
                _charm(d, lowest[0], lowest[1] + 12, 250, look)
    elif shape in ("studs", "drops", "hoops"):
        for side in (-1, 1):
            x = cx + side * 330
            y = cy - (330 if shape == "drops" else 60)
            if shape == "hoops":
                _band(d, x, cy, 250, 330, 60, metal)
                continue
            if look.stone.startswith("pearl"):
                _sphere(d, x, y, 190 if shape == "studs" else 95, STONES[look.stone])
            elif look.stone:
                _gem_top(d, x, y, 170 if shape == "studs" else 90, look.stone)
            else:
                _charm(d, x, y - (230 if shape == "studs" else 150),
                       460 if shape == "studs" else 300,
                       Look("pendant", metal, "", look.motif or "plaque"))
            if shape == "drops":
                shadow, body, _light, _spec = METALS[metal]
                d.line([(x, y + 90), (x, y + 330)], fill=body + (255,), width=12)
                _charm(d, x, y + 320, 380, look)
    elif shape == "bangle":
        if look.stone.startswith("jade"):
            tones = STONES[look.stone]
            rx, ry, t = 640, 380, 140
            d.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=tones[1] + (255,))
            d.ellipse((cx - rx + t, cy - ry + t * 0.7, cx + rx - t, cy + ry - t * 1.1), fill=(0, 0, 0, 0))
            d.arc((cx - rx + 30, cy - ry + 30, cx + rx - 30, cy + ry - 30), 200, 300,
                  fill=tones[3] + (255,), width=26)
            d.arc((cx - rx + 50, cy - ry + 50, cx + rx - 50, cy + ry - 60), 30, 150,
                  fill=tones[2] + (255,), width=30)
            # Clouds in the stone (飘花): a few darker flecks.
            for _ in range(5):
                a = rng.uniform(0, 2 * math.pi)
                x, y = cx + (rx - t / 2) * math.cos(a), cy + (ry - t / 2) * math.sin(a)
                d.ellipse((x - 26, y - 12, x + 26, y + 12), fill=tones[0] + (255,))
        else:
            _band(d, cx, cy, 640, 370, 150, metal)
            _, _, light, _ = METALS[metal]
            for i in range(18):  # chased pattern round the front
                a = math.pi * (0.12 + 0.76 * i / 17)
                x, y = cx + 640 * 0.9 * math.cos(a), cy + 370 * 0.86 * math.sin(a)
                d.ellipse((x - 14, y - 14, x + 14, y + 14), outline=light + (255,), width=5)
            if look.stone:
                _gem_top(d, cx, cy + 370 - 75, 66, look.stone)
    elif shape == "bracelet":
        fn = lambda t: (cx + 600 * math.cos(t), cy + 340 * math.sin(t))  # noqa: E731
        points = _path_points(fn, 0, 2 * math.pi, 40)
        if look.stone.startswith("pearl"):
            for x, y in points[::2]:
                _sphere(d, x, y, 52, STONES[look.stone])
        else:
            _chain(d, points, metal, 24)
            if look.stone:
                for x, y in points[::3]:
                    _gem_top(d, x, y, 24, look.stone)
            else:
                _charm(d, cx, cy + 340, 260, Look("pendant", metal, "", look.motif or "clover"))
    else:  # pendant on a short V of chain
        bail = (cx, cy - 120)
        left = _path_points(lambda t: (bail[0] - t * 520, bail[1] - t * 720), 0, 1, 30)
        right = _path_points(lambda t: (bail[0] + t * 520, bail[1] - t * 720), 0, 1, 30)
        _chain(d, left + right, metal, 13)
        _charm(d, bail[0], bail[1], 640, look)


def product_photos_draw(*, look: Look, seed: str, count: int = 1) -> list[bytes]:
    """``count`` JPEG photos (900x900) of a piece: a full view, then close-ups.

    Deterministic for a given ``seed`` (the product slug), so a re-run of the
    demo draws the same pictures. Pure Pillow, no Django: safe to run in a
    worker process.
    """
    rng = random.Random(seed)
    layer = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    _draw_piece(ImageDraw.Draw(layer), look, rng)
    grounds = rng.sample(sorted(GROUNDS), k=2)
    photos = []
    for i in range(count):
        # The drawing is scaled down (antialiasing it) before it meets the ground:
        # the ground is smooth already, so only the piece pays for the 2x canvas.
        if i == 0:
            # Averaging each 2x2 block is exactly supersampling, and cheap.
            piece = layer.reduce(2)
        else:  # a close-up: the middle of the same drawing
            margin = S // 6
            piece = layer.crop((margin, margin, S - margin, S - margin)).resize(
                (SIZE, SIZE), Image.Resampling.LANCZOS)
        canvas = _ground(grounds[i % 2], SIZE)
        canvas.alpha_composite(_shadow(piece), dest=(9, 18))
        canvas.alpha_composite(piece)
        buffer = io.BytesIO()
        canvas.convert("RGB").save(buffer, "JPEG", quality=88, optimize=True, progressive=True)
        photos.append(buffer.getvalue())
    return photos


def photos_job_draw(job: tuple[Look, str, int]) -> list[bytes]:
    """``product_photos_draw`` for a process pool's map: (look, seed, count) -> photos."""
    look, seed, count = job
    return product_photos_draw(look=look, seed=seed, count=count)

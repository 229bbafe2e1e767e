"""Demo pictures drawn with Pillow, so the demo site needs nothing from the network."""

from __future__ import annotations

import io
import math
import random

from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 1600, 900


def _gradient(top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), top)
    draw = ImageDraw.Draw(image)
    for y in range(HEIGHT):
        mix = y / (HEIGHT - 1)
        colour = tuple(int(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (WIDTH, y)], fill=colour)
    return image


def _paw(draw: ImageDraw.ImageDraw, x: float, y: float, size: float, fill) -> None:
    """A paw print: one pad and four toes."""
    pad = size * 0.55
    draw.ellipse([x - pad, y - pad * 0.8, x + pad, y + pad * 0.9], fill=fill)
    for angle, distance in ((-62, 1.15), (-22, 1.3), (22, 1.3), (62, 1.15)):
        rad = math.radians(angle - 90)
        tx, ty = x + math.cos(rad) * size * distance, y + math.sin(rad) * size * distance
        toe = size * 0.28
        draw.ellipse([tx - toe, ty - toe * 1.2, tx + toe, ty + toe * 1.2], fill=fill)


def subject_box(motif: str) -> tuple[int, int, int, int] | None:
    """Where a picture's subject is: (centre x, centre y, width, height) in pixels, or None."""
    cx, cy, r = WIDTH * 0.68, HEIGHT * 0.55, HEIGHT * 0.28
    if motif == "dog":
        return round(cx), round(cy), round(r * 2.6), round(r * 2.1)
    if motif == "cat":
        return round(cx), round(cy - r * 0.2), round(r * 2.1), round(r * 2.5)
    if motif == "box":
        return round(WIDTH * 0.675), round(HEIGHT * 0.575), round(WIDTH * 0.37), round(HEIGHT * 0.5)
    return None


def _animal(draw: ImageDraw.ImageDraw, kind: str, colour) -> None:
    """A friendly silhouette of a dog or a cat's head, centre right."""
    cx, cy, r = WIDTH * 0.68, HEIGHT * 0.55, HEIGHT * 0.28
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    if kind == "cat":
        draw.polygon(
            [
                (cx - r * 0.9, cy - r * 0.4),
                (cx - r * 0.75, cy - r * 1.35),
                (cx - r * 0.15, cy - r * 0.9),
            ],
            fill=colour,
        )
        draw.polygon(
            [
                (cx + r * 0.9, cy - r * 0.4),
                (cx + r * 0.75, cy - r * 1.35),
                (cx + r * 0.15, cy - r * 0.9),
            ],
            fill=colour,
        )
    else:
        draw.ellipse([cx - r * 1.25, cy - r * 0.7, cx - r * 0.55, cy + r * 0.6], fill=colour)
        draw.ellipse([cx + r * 0.55, cy - r * 0.7, cx + r * 1.25, cy + r * 0.6], fill=colour)
    eye = r * 0.11
    for ex in (cx - r * 0.35, cx + r * 0.35):
        draw.ellipse(
            [ex - eye, cy - r * 0.2 - eye, ex + eye, cy - r * 0.2 + eye], fill=(40, 30, 25)
        )
    nose = r * 0.14
    draw.ellipse([cx - nose, cy + r * 0.12, cx + nose, cy + r * 0.3], fill=(40, 30, 25))


def draw_picture(*, seed: int, top, bottom, motif: str, accent=(255, 255, 255)) -> bytes:
    """A 1600×900 JPEG: a warm gradient, scattered paw prints and an optional animal."""
    rng = random.Random(seed)
    image = _gradient(top, bottom)
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for _ in range(14):
        _paw(
            draw, rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT), rng.uniform(30, 70), (*accent, 60)
        )
    if motif in {"dog", "cat"}:
        _animal(draw, motif, (*accent, 235))
    elif motif == "box":
        draw.rounded_rectangle(
            [WIDTH * 0.5, HEIGHT * 0.35, WIDTH * 0.85, HEIGHT * 0.8], 30, fill=(*accent, 230)
        )
        draw.rectangle(
            [WIDTH * 0.665, HEIGHT * 0.35, WIDTH * 0.685, HEIGHT * 0.8], fill=(*top, 255)
        )
    layer = layer.filter(ImageFilter.SMOOTH)
    image.paste(layer, (0, 0), layer)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=82, optimize=True)
    return buffer.getvalue()

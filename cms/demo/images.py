"""The demo pictures: drawn with Pillow on first use and stored as Wagtail images."""

from __future__ import annotations

import io

from django.core.files.images import ImageFile
from wagtail.images import get_image_model

from cms.demo.root import ensure_wagtail_root
from cms.demo_images import draw_picture

Image = get_image_model()


PICTURES = {
    "hero-home": {"seed": 1, "top": (246, 178, 107), "bottom": (224, 122, 63), "motif": "dog"},
    "dogs": {"seed": 2, "top": (255, 214, 165), "bottom": (233, 150, 90), "motif": "dog"},
    "cats": {"seed": 3, "top": (190, 220, 214), "bottom": (47, 122, 109), "motif": "cat"},
    "members": {"seed": 4, "top": (250, 226, 200), "bottom": (190, 120, 80), "motif": "box"},
    "dog-food": {"seed": 5, "top": (255, 236, 210), "bottom": (214, 140, 84), "motif": "box"},
    "paw-care": {"seed": 6, "top": (255, 245, 225), "bottom": (236, 170, 110), "motif": "dog"},
    "puppy": {"seed": 7, "top": (255, 230, 235), "bottom": (230, 150, 160), "motif": "dog"},
    "cat-play": {"seed": 8, "top": (225, 240, 250), "bottom": (110, 150, 190), "motif": "cat"},
    "cat-food": {"seed": 9, "top": (235, 245, 225), "bottom": (120, 160, 100), "motif": "box"},
    "litter": {"seed": 10, "top": (240, 235, 250), "bottom": (140, 120, 180), "motif": "cat"},
    "offers": {"seed": 11, "top": (255, 240, 200), "bottom": (230, 170, 60), "motif": "box"},
    "vet": {"seed": 12, "top": (220, 240, 235), "bottom": (70, 140, 130), "motif": "dog"},
}


def ensure_image(key: str) -> Image:
    """The demo picture `key`, drawn and stored on first use."""
    title = f"Demo: {key}"
    existing = Image.objects.filter(title=title).first()
    if existing:
        return existing
    data = draw_picture(**PICTURES[key])
    ensure_wagtail_root()
    image = Image(title=title, description=f"Illustration: {key.replace('-', ' ')}")
    image.file = ImageFile(_named_bytes(data, f"demo-{key}.jpg"), name=f"demo-{key}.jpg")
    image.save()
    return image


def _named_bytes(data: bytes, name: str):
    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer

"""The demo pictures: drawn with Pillow on first use and stored as Wagtail images."""

from __future__ import annotations

import io

from django.core.files.images import ImageFile
from wagtail.images import get_image_model

from cms.demo.root import ensure_wagtail_root
from cms.demo_images import draw_picture, subject_box

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
    # The shop and the later articles (cms/demo/catalogue.py)
    "shop": {"seed": 13, "top": (255, 232, 214), "bottom": (205, 110, 70), "motif": "box"},
    "senior-dog-food": {
        "seed": 14,
        "top": (250, 238, 220),
        "bottom": (170, 120, 80),
        "motif": "box",
    },
    "tofu-litter": {"seed": 15, "top": (245, 242, 232), "bottom": (160, 170, 140), "motif": "cat"},
    "paw-balm": {"seed": 16, "top": (230, 245, 250), "bottom": (90, 160, 190), "motif": "dog"},
    "feather-toy": {"seed": 17, "top": (250, 230, 245), "bottom": (190, 110, 160), "motif": "cat"},
    "night-lead": {"seed": 18, "top": (215, 225, 245), "bottom": (60, 80, 140), "motif": "dog"},
    "dental-chews": {"seed": 19, "top": (255, 240, 215), "bottom": (200, 140, 60), "motif": "box"},
    "rescue-dog": {"seed": 20, "top": (240, 235, 225), "bottom": (150, 120, 95), "motif": "dog"},
    "senior-dog": {"seed": 21, "top": (235, 235, 240), "bottom": (120, 120, 150), "motif": "dog"},
    "moving-cat": {"seed": 22, "top": (230, 240, 230), "bottom": (100, 140, 110), "motif": "cat"},
    "cat-water": {"seed": 23, "top": (220, 238, 250), "bottom": (60, 130, 190), "motif": "cat"},
}


def ensure_image(key: str) -> Image:
    """The demo picture `key`, drawn and stored on first use."""
    title = f"Demo: {key}"
    existing = Image.objects.filter(title=title).first()
    if existing:
        if existing.focal_point_x is None and subject_box(PICTURES[key]["motif"]):
            _set_focal_point(existing, PICTURES[key]["motif"])
            existing.save(update_fields=[f"focal_point_{f}" for f in ("x", "y", "width", "height")])
        return existing
    data = draw_picture(**PICTURES[key])
    ensure_wagtail_root()
    image = Image(title=title, description=f"Illustration: {key.replace('-', ' ')}")
    image.file = ImageFile(_named_bytes(data, f"demo-{key}.jpg"), name=f"demo-{key}.jpg")
    _set_focal_point(image, PICTURES[key]["motif"])
    image.save()
    return image


def _set_focal_point(image, motif: str) -> None:
    """The animal's face as the picture's focal point, so crops (the greeting's round picture,
    cards) keep the face rather than the middle of the picture."""
    box = subject_box(motif)
    if box:
        (
            image.focal_point_x,
            image.focal_point_y,
            image.focal_point_width,
            image.focal_point_height,
        ) = box


def _named_bytes(data: bytes, name: str):
    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer

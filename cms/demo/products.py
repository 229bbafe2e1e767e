"""The demo shop's catalogue: pet products for dogs, cats and other pets, each with a picture
drawn with Pillow (no network), as the shop's feed would send them.

The names are Japanese, as the shop (a Japanese pet-goods chain, the system of record) stores
them: a product has one name, and the site shows it as stored in both languages. Prices are
whole yen; a few products are almost gone and one is out of stock, so every stock state shows.

`ensure_products()` is idempotent: it adds the SKUs that are missing (through the feed's own
`products_upsert`, so history rows and `products_changed` follow; then their pictures) and leaves
the others as the feed or an editor left them.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass

from django.core.files.images import ImageFile
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFilter
from wagtail.images import get_image_model

from cms.demo.root import ensure_wagtail_root
from personalization.commerce.models import Product
from personalization.commerce.services import products_upsert

SHOP_URL = "https://shop.pawprint-club.example/items/{sku}"
WIDTH, HEIGHT = 800, 600


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    category: str  # food, treats, toys, care, beds, walking, litter
    pet_type: str  # dog, cat, other, any
    price: int  # whole yen
    stock: int


DEMO_PRODUCTS: list[DemoProduct] = [
    # Dogs
    DemoProduct("DOG-FOOD-001", "サーモン＆ライス シニア犬用フード 3kg", "food", "dog", 3980, 42),
    DemoProduct("DOG-FOOD-002", "チキン＆玄米 成犬用フード 3kg", "food", "dog", 3480, 58),
    DemoProduct("DOG-FOOD-003", "子犬用 ミルク仕立てフード 1.5kg", "food", "dog", 2280, 3),
    DemoProduct("DOG-FOOD-004", "国産鹿肉ドライフード 1kg", "food", "dog", 2980, 17),
    DemoProduct("DOG-FOOD-005", "小型犬用 低脂肪フード 2kg", "food", "dog", 2680, 25),
    DemoProduct("DOG-TRT-001", "チキンのデンタルガム 20本入り", "treats", "dog", 1100, 80),
    DemoProduct("DOG-TRT-002", "北海道産 鮭ジャーキー 80g", "treats", "dog", 780, 64),
    DemoProduct("DOG-TRT-003", "さつまいもボーロ 60g", "treats", "dog", 420, 120),
    DemoProduct("DOG-TRT-004", "ささみチップス 100g", "treats", "dog", 650, 2),
    DemoProduct("DOG-TOY-001", "ロープのひっぱりっこ", "toys", "dog", 880, 35),
    DemoProduct("DOG-TOY-002", "天然ゴムのボール Mサイズ", "toys", "dog", 990, 0),
    DemoProduct("DOG-TOY-003", "知育トリーツボール", "toys", "dog", 1580, 14),
    DemoProduct("DOG-TOY-004", "柴犬のぬいぐるみ", "toys", "dog", 1280, 9),
    DemoProduct("DOG-CARE-001", "ひんやり肉球クリーム 30g", "care", "dog", 1650, 27),
    DemoProduct("DOG-CARE-002", "低刺激シャンプー 300ml", "care", "dog", 1480, 31),
    DemoProduct("DOG-CARE-003", "歯ブラシ＆チキン味歯みがきジェル", "care", "dog", 1100, 4),
    DemoProduct("DOG-CARE-004", "スリッカーブラシ", "care", "dog", 1980, 12),
    DemoProduct("DOG-BED-001", "ふかふかドーナツベッド M", "beds", "dog", 4980, 8),
    DemoProduct("DOG-BED-002", "体圧分散シニア犬マット L", "beds", "dog", 7800, 5),
    DemoProduct("DOG-BED-003", "ひんやりクールマット", "beds", "dog", 3280, 19),
    DemoProduct("DOG-WALK-001", "反射リード（夜のお散歩用）", "walking", "dog", 2480, 22),
    DemoProduct("DOG-WALK-002", "やわらか胴輪ハーネス S", "walking", "dog", 2980, 16),
    DemoProduct("DOG-WALK-003", "LEDお散歩ライト（首輪用）", "walking", "dog", 1280, 40),
    DemoProduct("DOG-WALK-004", "お散歩バッグ（マナー袋つき）", "walking", "dog", 2200, 11),
    # Cats
    DemoProduct("CAT-FOOD-001", "まぐろ＆かつお 成猫用ドライ 2kg", "food", "cat", 2780, 44),
    DemoProduct(
        "CAT-FOOD-002", "グレインフリー チキン キャットフード 1.5kg", "food", "cat", 3280, 21
    ),
    DemoProduct("CAT-FOOD-003", "しらす入りウェットフード 12缶", "food", "cat", 1980, 37),
    DemoProduct("CAT-FOOD-004", "シニア猫用 腎臓ケアフード 1kg", "food", "cat", 2480, 1),
    DemoProduct("CAT-TRT-001", "とろ〜りまぐろペースト 20本", "treats", "cat", 1080, 90),
    DemoProduct("CAT-TRT-002", "フリーズドライささみ 20g", "treats", "cat", 680, 33),
    DemoProduct("CAT-TRT-003", "かつお節ふりかけ 40g", "treats", "cat", 450, 52),
    DemoProduct("CAT-TOY-001", "羽根つき猫じゃらし", "toys", "cat", 880, 28),
    DemoProduct("CAT-TOY-002", "またたびボール 3個入り", "toys", "cat", 550, 60),
    DemoProduct("CAT-TOY-003", "爪とぎダンボール ワイド", "toys", "cat", 1280, 15),
    DemoProduct("CAT-CARE-001", "フィルターつき給水器", "care", "cat", 3980, 10),
    DemoProduct("CAT-CARE-002", "ラバーブラシ", "care", "cat", 1200, 24),
    DemoProduct("CAT-CARE-003", "毛玉ケアジェル 50g", "care", "cat", 980, 18),
    DemoProduct("CAT-LIT-001", "おからの猫砂 7L", "litter", "cat", 1280, 75),
    DemoProduct("CAT-LIT-002", "ひのきの猫砂 6L", "litter", "cat", 1480, 30),
    DemoProduct("CAT-BED-001", "フェルトのキャットハウス", "beds", "cat", 3680, 7),
    DemoProduct("CAT-BED-002", "窓辺のハンモック", "beds", "cat", 2780, 13),
    # Other pets
    DemoProduct("OTH-FOOD-001", "うさぎ用チモシー 500g", "food", "other", 880, 26),
    DemoProduct("OTH-FOOD-002", "ハムスターのミックスフード 400g", "food", "other", 580, 34),
    DemoProduct("OTH-CARE-001", "小鳥の水浴び容器", "care", "other", 1180, 6),
    DemoProduct("OTH-BED-001", "ハリネズミの寝袋", "beds", "other", 1980, 4),
    DemoProduct("OTH-TOY-001", "木のかじり木セット", "toys", "other", 680, 22),
    # Every pet
    DemoProduct("ANY-CARE-001", "ペット用ウェットシート 80枚", "care", "any", 480, 150),
    DemoProduct("ANY-CARE-002", "ペット用消臭スプレー 400ml", "care", "any", 1380, 45),
    DemoProduct("ANY-WALK-001", "ショルダー型キャリーバッグ", "walking", "any", 5980, 9),
]

# Each pet's colours: a pale top, a deeper bottom, and the object's colour.
PALETTES = {
    "dog": ((255, 236, 214), (226, 150, 92), (164, 79, 28)),
    "cat": ((224, 242, 238), (92, 160, 146), (31, 90, 80)),
    "other": ((236, 244, 224), (140, 176, 100), (70, 100, 40)),
    "any": ((240, 234, 248), (150, 128, 190), (84, 60, 128)),
}


# PICTURES
# ------------------------------------------------------------------------------


def _shift(colour: tuple[int, int, int], amount: int) -> tuple[int, int, int]:
    return tuple(max(0, min(255, c + amount)) for c in colour)


def _draw_object(draw: ImageDraw.ImageDraw, category: str, colour, light, rng) -> None:
    """The product as a simple shape: a bag of food, a bone, a ball, a bottle, a cushion, a
    lead, a box of litter."""
    cx, cy = WIDTH * 0.5, HEIGHT * 0.55
    white = (255, 255, 255, 235)
    fill = (*colour, 245)
    if category == "food":
        draw.rounded_rectangle([cx - 150, cy - 190, cx + 150, cy + 190], 28, fill=fill)
        draw.rectangle([cx - 150, cy - 190, cx + 150, cy - 150], fill=(*_shift(colour, -30), 255))
        draw.ellipse([cx - 80, cy - 70, cx + 80, cy + 90], fill=white)
        draw.ellipse([cx - 30, cy - 10, cx + 30, cy + 40], fill=(*light, 255))
    elif category == "treats":
        for angle in (-25, 25):
            rad = math.radians(angle)
            dx, dy = math.cos(rad) * 160, math.sin(rad) * 160
            draw.line([cx - dx, cy - dy, cx + dx, cy + dy], fill=fill, width=70)
            for sx, sy in ((cx - dx, cy - dy), (cx + dx, cy + dy)):
                for ox in (-38, 38):
                    draw.ellipse(
                        [sx - 48 + ox * 0.2, sy - 48 + ox, sx + 48 + ox * 0.2, sy + 48 + ox],
                        fill=fill,
                    )
    elif category == "toys":
        r = 170
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        draw.arc([cx - r, cy - r * 0.45, cx + r, cy + r * 0.45], 0, 360, fill=white, width=18)
        draw.ellipse(
            [cx - r * 0.55, cy - r * 0.7, cx - r * 0.25, cy - r * 0.4], fill=(255, 255, 255, 120)
        )
    elif category == "care":
        draw.rounded_rectangle([cx - 90, cy - 150, cx + 90, cy + 200], 40, fill=fill)
        draw.rectangle([cx - 40, cy - 220, cx + 40, cy - 150], fill=(*_shift(colour, -40), 255))
        draw.rounded_rectangle([cx - 60, cy - 60, cx + 60, cy + 90], 16, fill=white)
    elif category == "beds":
        draw.ellipse([cx - 260, cy - 110, cx + 260, cy + 170], fill=fill)
        draw.ellipse([cx - 190, cy - 70, cx + 190, cy + 120], fill=(*light, 255))
    elif category == "walking":
        draw.ellipse([cx - 190, cy - 190, cx + 30, cy + 30], outline=fill, width=34)
        draw.line([cx + 10, cy + 10, cx + 210, cy + 200], fill=fill, width=34)
        draw.ellipse([cx + 180, cy + 170, cx + 250, cy + 240], fill=white)
    else:  # litter and the rest: a box with granules
        draw.rounded_rectangle([cx - 220, cy - 60, cx + 220, cy + 170], 24, fill=fill)
        for _ in range(40):
            x, y = rng.uniform(cx - 200, cx + 200), rng.uniform(cy - 110, cy - 50)
            draw.ellipse([x - 12, y - 12, x + 12, y + 12], fill=(*light, 255))


def draw_product(product: DemoProduct, seed: int) -> bytes:
    """An 800×600 JPEG of the product on its pet's colours."""
    rng = random.Random(seed)
    top, bottom, colour = PALETTES.get(product.pet_type, PALETTES["any"])
    colour = _shift(colour, rng.randint(-20, 20))
    image = PILImage.new("RGB", (WIDTH, HEIGHT), top)
    draw = ImageDraw.Draw(image)
    for y in range(HEIGHT):
        mix = y / (HEIGHT - 1)
        draw.line(
            [(0, y), (WIDTH, y)],
            fill=tuple(int(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True)),
        )
    layer = PILImage.new("RGBA", image.size, (0, 0, 0, 0))
    _draw_object(ImageDraw.Draw(layer), product.category, colour, top, rng)
    layer = layer.filter(ImageFilter.SMOOTH)
    image.paste(layer, (0, 0), layer)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80, optimize=True)
    return buffer.getvalue()


def ensure_product_image(product: DemoProduct, seed: int):
    """The product's demo picture, drawn and stored on first use."""
    Image = get_image_model()
    title = f"Demo product: {product.sku}"
    existing = Image.objects.filter(title=title).first()
    if existing is not None:
        return existing
    ensure_wagtail_root()
    name = f"demo-product-{product.sku.lower()}.jpg"
    buffer = io.BytesIO(draw_product(product, seed))
    buffer.name = name
    image = Image(title=title, description=f"Illustration: {product.category}")
    image.file = ImageFile(buffer, name=name)
    image.save()
    return image


# THE CATALOGUE
# ------------------------------------------------------------------------------


def ensure_products(home=None) -> int:
    """Add the demo products that are missing (with their pictures); returns how many."""
    known = set(Product.objects.values_list("sku", flat=True))
    items, pictures = [], {}
    for seed, product in enumerate(DEMO_PRODUCTS, start=100):
        if product.sku in known:
            continue
        items.append(
            {
                "sku": product.sku,
                "name": product.name,
                "category": product.category,
                "pet_type": product.pet_type,
                "price": product.price,
                "stock": product.stock,
                "url": SHOP_URL.format(sku=product.sku),
                "active": True,
            }
        )
        pictures[product.sku] = ensure_product_image(product, seed)
    if items:
        products_upsert(items)  # the feed's fields; pictures are the site's own
        for sku, image in pictures.items():
            Product.objects.filter(sku=sku, image__isnull=True).update(image=image)
    return len(items)

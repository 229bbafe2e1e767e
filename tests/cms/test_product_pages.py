"""Product pages, product cards and the demo catalogue on the member site (issue 19): a product's
page in English and Japanese, 404 for unknown and inactive SKUs, its `product_view` event
through the event pipeline (queued, never written on the request path, consent respected), the
favourite button's state per visitor never shared through the render cache, the product list
block alike on the site and in the API, "My favourites" in the member area, and the demo's
catalogue."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cms.demo.products import DEMO_PRODUCTS, ensure_products
from cms.models import HomePage, SectionPage
from cms.product_blocks import low_stock
from cms.render_cache.middleware import HEADER
from personalization.commerce.models import Favourite, Product
from personalization.commerce.services import products_upsert
from personalization.events.models import Event, EventType
from personalization.models import Consent, Visitor
from tests.factories import MemberFactory
from tests.personalization.helpers import browse_as

pytestmark = pytest.mark.django_db

SKU = "DOG-FOOD-001"  # the demo's salmon senior dog food, ¥3,980, in stock
BUTTON = re.compile(r'<button[^>]*data-favourite-sku="([^"]+)"[^>]*aria-pressed="(true|false)"')


def visitor_client(**consent) -> tuple[Client, Visitor]:
    visitor = Visitor.objects.create(uuid=uuid.uuid4())
    if consent:
        Consent.objects.create(visitor_uuid=visitor.uuid, **consent)
    client = Client()
    browse_as(client, visitor)
    return client, visitor


def favourite(visitor: Visitor, sku: str) -> None:
    from personalization.commerce.favourites import favourite_add

    favourite_add(Visitor.objects.get(pk=visitor.pk), Product.objects.get(sku=sku))


def buttons(html: str) -> dict[str, str]:
    """SKU → aria-pressed of every favourite button on the page."""
    found: dict[str, str] = {}
    for sku, pressed in BUTTON.findall(html):
        found.setdefault(sku, pressed)
    return found


def get(client: Client, path: str):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response, response.content.decode()


# THE PRODUCT PAGE
# ------------------------------------------------------------------------------


def test_the_product_page_in_english_shows_price_stock_favourite_and_the_shop_link():
    product = Product.objects.get(sku=SKU)
    client, _ = visitor_client()
    assert reverse("product-page", args=[SKU]) == f"/products/{SKU}/"
    response, html = get(client, f"/products/{SKU}/")
    assert '<html lang="en"' in html
    assert f"<h1>{product.name}</h1>" in html
    assert "¥3,980" in html
    assert "In stock" in html
    assert f'href="{product.url}"' in html and "Buy at the shop" in html
    assert buttons(html)[SKU] == "false"
    assert product.image.get_rendition("fill-480x360").url in html
    assert 'class="site-header"' in html and "Privacy choices" in html  # the site's base


def test_the_product_page_in_japanese():
    from django.utils import translation

    with translation.override("ja"):
        assert reverse("product-page", args=[SKU]) == f"/ja/products/{SKU}/"
    client, _ = visitor_client()
    _, html = get(client, f"/ja/products/{SKU}/")
    assert '<html lang="ja"' in html
    assert "3,980円" in html
    assert "在庫あり" in html
    assert "ショップで購入" in html
    assert "お気に入り" in html
    assert 'hreflang="en"' in html and f'href="/products/{SKU}/"' in html  # the switcher


@pytest.mark.parametrize(
    ("sku", "english", "japanese"),
    [
        ("DOG-FOOD-003", "Only 3 left", "残り3点"),
        ("DOG-TOY-002", "Out of stock", "在庫切れ"),
    ],
)
def test_low_and_sold_out_stock_read_as_such(sku, english, japanese):
    client, _ = visitor_client()
    assert english in get(client, f"/products/{sku}/")[1]
    assert japanese in get(client, f"/ja/products/{sku}/")[1]


def test_the_product_page_recommends_other_products_with_their_arms():
    client, _ = visitor_client()
    _, html = get(client, f"/products/{SKU}/")
    assert "You may also like" in html
    cards = re.findall(
        r'data-recommendation-block="product-page" data-recommendation-arm="(\w+)" '
        r'data-recommendation-sku="([^"]+)"',
        html,
    )
    assert cards and SKU not in {sku for _, sku in cards}
    assert {arm for arm, _ in cards} <= {"explore", "exploit"}
    assert "cms/js/recommendations.js" in html  # their clicks are recorded


def test_unknown_and_inactive_products_are_404():
    client, _ = visitor_client()
    assert client.get("/products/NO-SUCH-SKU/").status_code == 404
    assert client.get("/ja/products/NO-SUCH-SKU/").status_code == 404
    Product.objects.filter(sku=SKU).update(active=False)
    assert client.get(f"/products/{SKU}/").status_code == 404


def test_a_product_view_goes_through_the_event_pipeline_not_the_request(run_jobs):
    client, visitor = visitor_client(analytics=True)
    with CaptureQueriesContext(connection) as queries:
        get(client, f"/products/{SKU}/")
    writes = [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and "wagtailimages_rendition" not in q["sql"]  # (pictures' sizes, made on first use)
    ]
    assert writes == []  # queued: written by the events worker
    assert not Event.objects.filter(type=EventType.PRODUCT_VIEW).exists()
    with run_jobs():
        get(client, f"/products/{SKU}/")
    view = Event.objects.get(type=EventType.PRODUCT_VIEW, visitor__uuid=visitor.uuid)
    assert view.visitor.uuid == visitor.uuid
    assert view.properties == {"sku": SKU, "category": "food"}


def test_no_product_view_without_analytics_consent(run_jobs):
    client, _ = visitor_client(analytics=False, personalization=False, marketing=False)
    with run_jobs():
        get(client, f"/products/{SKU}/")
    assert not Event.objects.filter(type=EventType.PRODUCT_VIEW).exists()


def test_the_product_page_is_private_and_never_kept_by_the_render_cache():
    first, keeper = visitor_client()
    second, _ = visitor_client()
    favourite(keeper, SKU)
    response, html = get(first, f"/products/{SKU}/")
    assert "private" in response["Cache-Control"]
    assert buttons(html)[SKU] == "true"
    again, other_html = get(second, f"/products/{SKU}/")
    assert again.get(HEADER) != "hit"
    assert "private" in again["Cache-Control"]
    assert buttons(other_html)[SKU] == "false"


def test_the_page_shows_the_shops_latest_price():
    client, _ = visitor_client()
    get(client, f"/products/{SKU}/")
    products_upsert([{"sku": SKU, "price": 3580}])
    assert "¥3,580" in get(client, f"/products/{SKU}/")[1]


# PRODUCT CARDS IN PAGES (THE RENDER CACHE)
# ------------------------------------------------------------------------------


def shop_path() -> str:
    return SectionPage.objects.get(slug="shop", locale__language_code="en").url


def plain_path() -> str:
    """A page without product lists (the home page: its recommendations are a hole)."""
    return HomePage.objects.get(locale__language_code="en").url


def shop_skus() -> list[str]:
    """The SKUs the Shop section's product lists show, in order (as the block chooses them)."""
    shop = SectionPage.objects.get(slug="shop", locale__language_code="en")
    return [
        product.sku
        for child in shop.body
        if child.block_type == "products"
        for product in child.block.products_for(child.value)
    ]


def test_the_shop_section_lists_product_cards_with_favourite_buttons():
    client, _ = visitor_client()
    _, html = get(client, shop_path())
    for heading in ("For dogs", "For cats", "Treats everyone loves"):
        assert f"<h2>{heading}</h2>" in html
    shown = buttons(html)
    assert len(shown) >= 12 and set(shown.values()) == {"false"}
    assert list(shown) == list(dict.fromkeys(shop_skus()))
    assert f'href="/products/{shop_skus()[0]}/"' in html
    card = html[html.index('class="card product-card"') :]
    card = card[: card.index("</article>")]
    for part in ('class="card-image"', 'class="card-title"', "¥", 'class="stock-badge'):
        assert part in card


def test_favourite_state_of_cards_never_leaks_through_the_render_cache():
    keeper_client, keeper = visitor_client()
    other_client, _ = visitor_client()
    sku = shop_skus()[0]
    favourite(keeper, sku)
    path = shop_path()
    first, keeper_html = get(keeper_client, path)  # the render is stored by the keeper's view
    assert first[HEADER] == "miss"
    assert buttons(keeper_html)[sku] == "true"
    hit, other_html = get(other_client, path)
    assert hit[HEADER] == "hit"
    assert buttons(other_html)[sku] == "false"
    assert "true" not in buttons(other_html).values()
    again, keeper_again = get(keeper_client, path)
    assert again[HEADER] == "hit"
    assert buttons(keeper_again)[sku] == "true"


def test_a_catalogue_change_refreshes_cached_product_lists(django_capture_on_commit_callbacks):
    client, _ = visitor_client()
    path = shop_path()
    sku = shop_skus()[0]
    get(client, path)
    assert get(client, path)[0][HEADER] == "hit"
    with django_capture_on_commit_callbacks(execute=True):  # the feed's call commits
        products_upsert([{"sku": sku, "price": 2990}])
    response, html = get(client, path)
    assert response[HEADER] == "miss"
    assert "¥2,990" in html


def test_an_edit_in_the_admin_refreshes_cached_product_lists(django_capture_on_commit_callbacks):
    client, _ = visitor_client()
    path = shop_path()
    product = Product.objects.get(sku=shop_skus()[0])
    get(client, path)
    with django_capture_on_commit_callbacks(execute=True):  # the admin's save commits
        product.name = "RENAMED-IN-THE-ADMIN"
        product.save()  # (a name change writes no history row, and is announced all the same)
    response, html = get(client, path)
    assert response[HEADER] == "miss"
    assert "RENAMED-IN-THE-ADMIN" in html


def test_a_product_the_feed_deactivates_leaves_cached_product_lists(
    django_capture_on_commit_callbacks,
):
    client, _ = visitor_client()
    path = shop_path()
    sku = shop_skus()[0]
    assert sku in buttons(get(client, path)[1])
    with django_capture_on_commit_callbacks(execute=True):
        products_upsert([{"sku": sku, "active": False}])  # no price or stock change
    response, html = get(client, path)
    assert response[HEADER] == "miss"
    assert sku not in buttons(html)


def test_a_deleted_product_leaves_cached_product_lists(django_capture_on_commit_callbacks):
    client, _ = visitor_client()
    path = shop_path()
    sku = shop_skus()[0]
    get(client, path)
    with django_capture_on_commit_callbacks(execute=True):
        Product.objects.get(sku=sku).delete()
    response, html = get(client, path)
    assert response[HEADER] == "miss"
    assert sku not in buttons(html)


def test_a_catalogue_change_keeps_pages_without_products_cached(
    django_capture_on_commit_callbacks,
):
    """Only pages that show products follow the catalogue: a busy feed leaves the rest warm."""
    client, _ = visitor_client()
    path, plain = shop_path(), plain_path()
    for address in (path, plain):
        get(client, address)
        assert get(client, address)[0][HEADER] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        products_upsert([{"sku": shop_skus()[0], "price": 2990, "stock": 1}])
    assert get(client, plain)[0][HEADER] == "hit"
    assert get(client, path)[0][HEADER] == "miss"


def test_site_and_api_show_the_same_product_lists():
    client, _ = visitor_client()
    _, html = get(client, shop_path())
    site_skus = [sku for sku, _ in BUTTON.findall(html)]
    response = client.get("/api/v1/pages/find/", {"path": shop_path()})
    assert response.status_code == 200
    lists = [block for block in response.json()["body"] if block["type"] == "products"]
    assert [block["value"]["heading"] for block in lists][:2] == ["For dogs", "For cats"]
    api_skus = [p["sku"] for block in lists for p in block["value"]["products"]]
    assert api_skus == site_skus
    first = lists[0]["value"]["products"][0]
    product = Product.objects.get(sku=first["sku"])
    assert first["price"] == product.price and first["name"] == product.name
    assert first["url"].endswith(f"/products/{product.sku}/")
    assert first["stock_state"] in {"in_stock", "low", "out_of_stock"}
    assert first["image"]["renditions"]


def test_a_list_of_chosen_products_keeps_their_order_and_leaves_out_inactive_ones():
    from cms.product_blocks import ProductListBlock

    skus = ["CAT-TOY-001", "DOG-WALK-001", "OTH-TOY-001"]
    Product.objects.filter(sku="DOG-WALK-001").update(active=False)
    block = ProductListBlock()
    value = block.to_python(
        {
            "heading": "Picked",
            "products": [Product.objects.get(sku=s).pk for s in skus],
            "limit": 8,
        }
    )
    assert [p.sku for p in block.products_for(value)] == ["CAT-TOY-001", "OTH-TOY-001"]
    pets = block.products_for(block.to_python({"pet_type": "cat", "limit": 24}))
    assert {p.pet_type for p in pets} <= {"cat", "any"}
    assert pets[-1].stock > 0 or all(p.stock == 0 for p in pets)  # sold out last


# MY FAVOURITES
# ------------------------------------------------------------------------------


def test_my_favourites_lists_the_members_products_and_removes_one():
    member = MemberFactory()
    client = Client()
    client.force_login(member)
    get(client, "/account/profile/")  # the member's visitor
    visitor = Visitor.objects.filter(user=member).first() or Visitor.objects.create(
        uuid=uuid.uuid4(), user=member
    )
    favourite(visitor, SKU)
    favourite(visitor, "CAT-TOY-001")
    _, html = get(client, "/account/favourites/")
    assert "My favourites" in html
    assert html.count('class="favourite-item"') == 2
    assert Product.objects.get(sku=SKU).name in html
    response = client.post("/account/favourites/", {"sku": SKU})
    assert response.status_code == 302
    assert list(
        Favourite.objects.filter(visitor=visitor).values_list("product__sku", flat=True)
    ) == ["CAT-TOY-001"]
    _, html = get(client, "/ja/account/favourites/")
    assert "お気に入り" in html and html.count('class="favourite-item"') == 1


def test_my_favourites_is_for_members():
    response = Client().get("/account/favourites/")
    assert response.status_code == 302 and "/account/login/" in response["Location"]


# THE DEMO CATALOGUE
# ------------------------------------------------------------------------------


def test_the_demo_loads_at_least_forty_active_products_with_pictures():
    products = Product.objects.filter(active=True, sku__in=[p.sku for p in DEMO_PRODUCTS])
    assert products.count() == len(DEMO_PRODUCTS) >= 40
    assert not products.filter(image__isnull=True).exists()
    assert {"dog", "cat", "other"} <= set(products.values_list("pet_type", flat=True))
    categories = set(products.values_list("category", flat=True))
    assert {"food", "treats", "toys", "care", "beds", "walking"} <= categories
    assert products.filter(stock=0).count() == 1
    assert products.filter(stock__gt=0, stock__lte=low_stock()).count() >= 3
    assert all(100 <= price <= 20_000 for price in products.values_list("price", flat=True))
    assert ensure_products() == 0  # idempotent
    image = products.first().image
    assert image.file.size > 0 and (image.width, image.height) == (800, 600)


def test_the_demo_adds_back_missing_products_with_their_pictures(
    django_capture_on_commit_callbacks,
):
    Product.objects.filter(sku__in=["CAT-TOY-002", "OTH-BED-001"]).delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert ensure_products() == 2
    added = Product.objects.filter(sku__in=["CAT-TOY-002", "OTH-BED-001"])
    assert added.count() == 2 and not added.filter(image__isnull=True).exists()
    assert all(product.changes.count() == 1 for product in added)  # the feed's history row


def test_at_the_edge_the_favourite_buttons_are_includes_filled_per_visitor(settings):
    from django.conf import settings as django_settings

    from tests.cms.test_render_cache_edge import INCLUDE, decide, edge_fetch, esi_resolve

    settings.RENDER_CACHE_EDGE = True
    settings.RENDER_CACHE_EDGE_SECRET = "edge-test-secret"
    path, sku = shop_path(), shop_skus()[0]
    keeper_client, keeper = visitor_client()
    other_client, _ = visitor_client()
    for client in (keeper_client, other_client):  # returning browsers, with a CSRF cookie
        client.cookies[django_settings.CSRF_COOKIE_NAME] = "a" * 32
    favourite(keeper, sku)
    get(keeper_client, path)  # the origin renders and keeps it
    key = decide(keeper_client, path)["key"]
    assert key and decide(other_client, path)["key"] == key
    shared = edge_fetch(keeper_client, key, path).content.decode()
    assert "data-favourite-sku" not in shared  # each button is an include
    assert len(INCLUDE.findall(shared)) >= len(set(shop_skus()))
    assert buttons(esi_resolve(keeper_client, shared))[sku] == "true"
    assert buttons(esi_resolve(other_client, shared))[sku] == "false"

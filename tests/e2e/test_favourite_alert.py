"""A favourite almost gone, end to end in a real browser (issue 19): a member favourites a product
on its page, the shop's feed lowers its stock to the demo journey's threshold, the feed's job
enters her into "Favourite almost gone", the periodic journeys job sends her the e-mail with that
product, and the e-mail's link opens the product page (counted as an opened link).

Needs Debian's chromium (see tests/e2e/conftest.py)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.test_user_journeys import log_in_member
from tests.journeys.helpers import messages_at_any_hour

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

MEMBER = "hanako@example.com"
PRODUCT = "DOG-CARE-001"  # 27 in stock in the demo; the journey's threshold is 3
LINK = re.compile(r"https?://\S+/journeys/link/\S+/")


def test_a_favourite_almost_gone_reaches_the_member_by_email_and_opens_the_product(
    site, new_page, drain_jobs, db_turn, screenshot
):
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from personalization.commerce.models import Product
    from personalization.journeys.models import Journey, JourneyMessage
    from personalization.periodic import periodic_job_run

    with db_turn():
        messages_at_any_hour()
        product = Product.objects.get(sku=PRODUCT)
        staff = get_user_model().objects.get(username=settings.DEMO_ADMIN_USERNAME)
        shop_token = Token.objects.get_or_create(user=staff)[0].key
    assert product.stock > 3

    page = new_page()
    log_in_member(page, site, MEMBER, "pawprint-demo")
    page.goto(site(f"/products/{PRODUCT}/"))
    button = page.locator(f'main .product-actions button[data-favourite-sku="{PRODUCT}"]')
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    drain_jobs()

    shop = new_page()  # the shop's server: its own client, the staff token of the feed
    response = shop.request.post(
        site("/api/v1/products/"),
        data=json.dumps(
            [{"sku": PRODUCT, "name": product.name, "price": product.price, "stock": 2}]
        ),
        headers={"Authorization": f"Token {shop_token}", "Content-Type": "application/json"},
    )
    assert response.status == 200, response.text()
    drain_jobs()  # the feed's job: members whose favourite fell to the threshold enter

    with db_turn():
        periodic_job_run("journeys-evaluate")
    drain_jobs()
    to_her = [message for message in mail.outbox if message.to == [MEMBER]]
    assert len(to_her) == 1
    email = to_her[0]
    assert product.name in email.subject or product.name in email.body
    assert "2 in stock" in email.body

    link = LINK.search(email.body).group(0)
    page.goto(site(urlsplit(link).path))
    expect(page.get_by_role("heading", level=1, name=product.name)).to_be_visible()
    assert urlsplit(page.url).path == f"/products/{PRODUCT}/"
    expect(button).to_have_attribute("aria-pressed", "true")
    screenshot(page, "e2e-favourite-alert-product")

    with db_turn():
        journey = Journey.objects.get(name="Favourite almost gone")
        sent = JourneyMessage.objects.get(
            entry__journey=journey, entry__visitor__user__username=MEMBER
        )
        assert sent.clicks == 1

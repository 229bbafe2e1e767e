"""Which pages use which experiment: recorded when a page revision is saved or published, listed
(live / draft) in the experiment's editor, and checked before the experiment may start."""

from __future__ import annotations

import pytest

from cms.models import ContentPage, SectionPage
from experiments.models import ExperimentStatus, ExperimentUsage
from experiments.usage import (
    experiment_start,
    pages_using,
    revision_experiment_keys,
    start_problems,
    usage_record,
)
from tests.experiments.variant_helpers import ab_block, admin_client, make_experiment, publish_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def page():
    return ContentPage.objects.get(slug="choosing-dog-food")


@pytest.fixture
def experiment():
    return make_experiment("spring-sale", ["control", "discount"])


def save_draft(page, blocks):
    page = page.specific
    page.body = blocks
    return page.save_revision()


def states(experiment) -> dict[str, str]:
    return {use.page.title: str(use.state) for use in pages_using(experiment=experiment)}


# RECORDING
# ------------------------------------------------------------------------------


def test_a_saved_draft_is_recorded_and_listed_as_draft_only(page, experiment):
    revision = save_draft(page, [ab_block("spring-sale", ["control", "discount"])])
    usage = ExperimentUsage.objects.get(revision=revision)
    assert usage.page_id == page.pk
    assert usage.experiment_key == "spring-sale"
    assert usage.variant_keys == ["control", "discount"]
    assert usage.block_path.startswith("body/")
    assert states(experiment) == {page.title: "Draft only"}


def test_publishing_makes_it_live_and_a_later_draft_is_told_apart(page, experiment):
    publish_body(page, [ab_block("spring-sale", ["control", "discount"])])
    assert states(experiment) == {page.title: "Live"}
    save_draft(page, [ab_block("spring-sale", ["control", "discount"])])
    assert states(experiment) == {page.title: "Live and draft"}
    save_draft(page, [])  # the draft drops the block; the live page still shows it
    assert states(experiment) == {page.title: "Live"}
    page.refresh_from_db()
    page.unpublish()
    assert states(experiment) == {}


def test_a_block_nested_in_per_segment_content_is_recorded(experiment):
    dogs = SectionPage.objects.get(slug="dogs")
    body = list(dogs.body.raw_data)
    personalized = next(b for b in body if b["type"] == "personalized")
    item = personalized["value"]["variants"][0]
    item.get("value", item)["content"].append(ab_block("spring-sale", ["control", "discount"]))
    revision = publish_body(dogs, body)
    usage = ExperimentUsage.objects.get(revision=revision)
    assert usage.block_path.startswith(f"body/{personalized['id']}.variants/")
    assert ".content/" in usage.block_path
    assert states(experiment) == {dogs.title: "Live"}


def test_saving_over_a_revision_records_its_blocks_again(page, experiment):
    make_experiment("free-gift", ["control", "gift"])
    revision = save_draft(page, [ab_block("spring-sale", ["control", "discount"])])
    page.refresh_from_db()
    page = page.specific
    page.body = [ab_block("free-gift", ["control", "gift"])]
    page.save_revision(overwrite_revision=revision)  # as the editor's autosave does
    assert list(
        ExperimentUsage.objects.filter(revision=revision).values_list("experiment_key")
    ) == [("free-gift",)]
    assert usage_record(revision=revision)[0].experiment_key == "free-gift"  # idempotent
    assert ExperimentUsage.objects.filter(revision=revision).count() == 1


def test_a_deleted_page_leaves_no_usage(page, experiment):
    publish_body(page, [ab_block("spring-sale", ["control", "discount"])])
    page.delete()
    assert not ExperimentUsage.objects.filter(experiment_key="spring-sale").exists()


def test_the_experiments_a_revision_uses_include_the_page_level_one(page, experiment):
    make_experiment("page-test", ["control", "b"], page=page)
    revision = publish_body(page, [ab_block("spring-sale", ["control", "discount"])])
    assert revision_experiment_keys(revision=revision) == {"spring-sale", "page-test"}


# THE EDITOR'S LIST
# ------------------------------------------------------------------------------


def test_the_experiment_editor_lists_the_pages_using_it_with_links(client, page, experiment):
    publish_body(page, [ab_block("spring-sale", ["control", "discount"])])
    cats = SectionPage.objects.get(slug="cats")
    save_draft(cats, [ab_block("spring-sale", ["control", "Discount"])])
    html = admin_client(client).get(f"/admin/experiments/edit/{experiment.pk}/").content.decode()
    assert "Pages using this experiment" in html
    assert f'href="/admin/pages/{page.pk}/edit/"' in html and page.title in html
    assert f'href="{page.url}"' in html
    assert f'href="/admin/pages/{cats.pk}/edit/"' in html
    row = html.split(f'data-page="{cats.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Draft only" in row
    assert (
        "Draft: an A/B block: missing: discount; not variants of this experiment: Discount" in row
    )
    live_row = html.split(f'data-page="{page.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Live" in live_row and "Yes" in live_row


def test_the_editor_says_when_no_page_uses_it(client, experiment):
    html = admin_client(client).get(f"/admin/experiments/edit/{experiment.pk}/").content.decode()
    assert "No page uses this experiment yet" in html


# STARTING
# ------------------------------------------------------------------------------


def start_in_admin(client, experiment) -> str:
    response = admin_client(client).post(
        f"/admin/experiments/report/{experiment.pk}/start/", follow=True
    )
    experiment.refresh_from_db()
    return response.content.decode()


def test_start_is_refused_while_no_live_page_uses_it(client, page, experiment):
    save_draft(page, [ab_block("spring-sale", ["control", "discount"])])  # a draft is not enough
    html = start_in_admin(client, experiment)
    assert "No live page uses this experiment" in html
    assert experiment.status == ExperimentStatus.DRAFT


def test_start_is_refused_when_a_live_page_disagrees(client, page, experiment):
    publish_body(page, [ab_block("spring-sale", ["control", "Discount"])])  # saved by code
    html = start_in_admin(client, experiment)
    assert (
        f"“{page.title}” (live) disagrees with the experiment&#x27;s variants: an A/B block: "
        "missing: discount; not variants of this experiment: Discount."
    ) in html
    assert experiment.status == ExperimentStatus.DRAFT


def test_start_goes_ahead_when_every_live_page_agrees(client, page, experiment):
    publish_body(page, [ab_block("spring-sale", ["discount", "control"])])  # any order
    start_in_admin(client, experiment)
    assert experiment.status == ExperimentStatus.RUNNING


def test_a_paused_experiment_resumes_only_if_its_pages_still_agree(page, experiment):
    publish_body(page, [ab_block("spring-sale", ["control", "discount"])])
    experiment_start(experiment=experiment)
    experiment.pause()
    publish_body(page, [ab_block("spring-sale", ["control"])])
    with pytest.raises(ValueError, match="missing: discount"):
        experiment_start(experiment=experiment)
    assert experiment.status == ExperimentStatus.PAUSED


def test_a_page_level_test_starts_once_every_variant_shows_a_revision_of_its_page(page):
    experiment = make_experiment("page-test", ["control", "b"], page=page)
    problems = start_problems(experiment=experiment)
    assert problems == [
        f"“{page.title}” (live) disagrees with the experiment's variants: variant “b” has no "
        "page revision: its visitors would see the live page (the control)."
    ]
    variant = experiment.variants.get(name="b")
    variant.revision = SectionPage.objects.get(slug="cats").save_revision()
    variant.save()
    assert "shows a revision of another page" in " ".join(start_problems(experiment=experiment))
    variant.revision = page.specific.save_revision()
    variant.save()
    assert start_problems(experiment=experiment) == []
    page.refresh_from_db()
    page.unpublish()
    assert "is not live" in " ".join(start_problems(experiment=experiment))

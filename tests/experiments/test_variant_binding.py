"""A/B blocks and page-level experiments take their variants from the experiment itself: the
block's variant select offers the chosen experiment's variants (stored by key), a page whose
blocks do not hold exactly those variants cannot be saved or published, a started experiment's
variant keys are frozen, and pages saved with hand-typed names keep working."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from wagtail.models import Revision
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from cms.models import ContentPage
from cms.personalized_blocks import ExperimentBlock
from experiments.models import Experiment, ExperimentUsage, Exposure
from experiments.usage import experiment_start, variant_coverage
from tests.experiments.variant_helpers import (
    ab_block,
    ab_block_form_data,
    admin_client,
    edit_page_data,
    make_experiment,
    marker,
    publish_body,
)

pytestmark = pytest.mark.django_db
MIGRATION = importlib.import_module("experiments.migrations.0003_experiment_usage")


@pytest.fixture
def page():
    return ContentPage.objects.get(slug="choosing-dog-food")


@pytest.fixture
def discount():
    return make_experiment("spring-sale", ["control", "discount"])


def body_with_block(key: str, variants: list[str]) -> dict:
    return {"body-count": "1", **ab_block_form_data("body-0", key, variants)}


def block_value(key: str, variants: list[str]):
    return ExperimentBlock().to_python(ab_block(key, variants)["value"])


# THE BLOCK'S CHECK
# ------------------------------------------------------------------------------


def test_coverage_names_the_missing_the_extra_and_the_repeated_variants():
    coverage = variant_coverage(["control", "b", "c"], ["control", "Discount", "b", "b", ""])
    assert coverage.missing == ("c",)
    assert coverage.extra == ("Discount",)
    assert coverage.repeated == ("b",)
    assert coverage.describe() == (
        "missing: c; not variants of this experiment: Discount; listed more than once: b"
    )
    assert variant_coverage(["control", "b"], ["b", "control"]).exact


def test_a_mistyped_variant_is_a_block_error_naming_it(discount):
    block = ExperimentBlock()
    with pytest.raises(ValidationError) as error:
        block.clean(block_value("spring-sale", ["control", "Discount"]))
    data = error.value.as_json_data()
    assert data["messages"] == [
        "The variants must be exactly the experiment's own: missing: discount; "
        "not variants of this experiment: Discount."
    ]
    entry_errors = data["blockErrors"]["variants"]["blockErrors"]
    assert entry_errors == {
        1: {"blockErrors": {"variant": {"messages": ["Not a variant of this experiment."]}}}
    }


def test_a_block_lacking_a_variant_or_repeating_one_is_refused(discount):
    block = ExperimentBlock()
    with pytest.raises(ValidationError) as error:
        block.clean(block_value("spring-sale", ["control", "control"]))
    assert (
        "missing: discount; listed more than once: control"
        in (error.value.as_json_data()["messages"][0])
    )
    make_experiment("three-arms", ["control", "b", "c"])
    with pytest.raises(ValidationError) as error:
        block.clean(block_value("three-arms", ["control", "b"]))
    assert "missing: c" in error.value.as_json_data()["messages"][0]


def test_a_draft_may_leave_a_variant_unchosen_but_it_is_still_missing(discount):
    with pytest.raises(ValidationError) as error:
        ExperimentBlock().clean_deferred(block_value("spring-sale", ["control", ""]))
    data = error.value.as_json_data()
    assert data["messages"] == [
        "The variants must be exactly the experiment's own: missing: discount."
    ]
    assert "blockErrors" not in data


def test_entries_are_saved_in_the_experiments_order_control_first(discount):
    cleaned = ExperimentBlock().clean(block_value("spring-sale", ["discount", "control"]))
    assert [entry["variant"] for entry in cleaned["variants"]] == ["control", "discount"]


# THE PAGE EDITOR
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("publish", [False, True], ids=["save draft", "publish"])
def test_saving_or_publishing_a_page_with_a_mistyped_variant_is_refused(
    client, page, discount, publish
):
    editor = admin_client(client)
    revisions = Revision.page_revisions.filter(object_id=str(page.pk)).count()
    body = body_with_block("spring-sale", ["control", "Discount"])
    response = editor.post(
        f"/admin/pages/{page.pk}/edit/", edit_page_data(editor, page, body, publish=publish)
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "missing: discount" in html
    assert "not variants of this experiment: Discount" in html
    assert Revision.page_revisions.filter(object_id=str(page.pk)).count() == revisions


def test_a_page_whose_block_holds_the_variants_publishes_and_records_its_usage(
    client, page, discount
):
    editor = admin_client(client)
    body = body_with_block("spring-sale", ["discount", "control"])
    response = editor.post(
        f"/admin/pages/{page.pk}/edit/", edit_page_data(editor, page, body, publish=True)
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    page.refresh_from_db()
    stored = page.body.raw_data[0]["value"]
    assert [item["value"]["variant"] for item in stored["variants"]] == ["control", "discount"]
    usage = ExperimentUsage.objects.get(revision=page.live_revision)
    assert (usage.experiment_key, usage.variant_keys) == ("spring-sale", ["control", "discount"])


def test_the_editor_loads_the_variant_select_for_a_b_blocks(client, page):
    html = admin_client(client).get(f"/admin/pages/{page.pk}/edit/").content.decode()
    assert "js/experiment-variants.js" in html
    assert "cms.widgets.VariantSelect" in html
    assert "data-experiment-choice" in html


def test_the_variant_select_is_filled_from_the_chosen_experiment(client, discount):
    editor = admin_client(client)
    response = editor.get("/admin/experiments/variants/", {"experiment": "spring-sale"})
    assert response.json() == {
        "experiment": {"key": "spring-sale", "name": "Spring Sale", "status": "draft"},
        "variants": [
            {"key": "control", "label": "control (the control)"},
            {"key": "discount", "label": "discount"},
        ],
    }
    assert editor.get("/admin/experiments/variants/", {"experiment": "nope"}).status_code == 404


def test_the_variant_choices_are_for_editors_only(client, discount):
    response = client.get("/admin/experiments/variants/", {"experiment": "spring-sale"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# SERVING A BLOCK SAVED BEFORE THE CHECK
# ------------------------------------------------------------------------------


def test_a_running_experiment_is_not_counted_where_a_block_lacks_one_of_its_variants(
    client, page, run_jobs
):
    experiment = make_experiment("short-tip", ["control", "short"], weights=[0, 1])
    publish_body(page, [ab_block("short-tip", ["control", "Short"])])  # typed by hand, long ago
    experiment.start()  # as code may, skipping the page check
    for _ in range(3):  # each a new visitor, every one assigned "short" by the weights
        client.cookies.clear()
        with run_jobs():
            html = client.get(page.url).content.decode()
        assert marker("short-tip", "control") in html
    assert not Exposure.objects.filter(experiment=experiment).exists()


# MIGRATING PAGES SAVED WITH TYPED NAMES
# ------------------------------------------------------------------------------


def test_the_migration_maps_typed_names_to_the_variant_keys_in_pages_and_revisions(page):
    experiment = make_experiment("spring-sale", ["control", "discount", "big-photo"])
    publish_body(page, [ab_block("spring-sale", ["Control", " DISCOUNT ", "Big Photo"])])
    draft = page.specific
    draft.body = [ab_block("spring-sale", ["control", "Discount", "unknown"])]
    draft.save_revision()
    ExperimentUsage.objects.all().delete()

    MIGRATION.repair_variant_names(apps, None)
    MIGRATION.record_usage(apps, None)

    page.refresh_from_db()
    live = page.live_revision.as_object()
    latest = page.get_latest_revision_as_object()

    def names(p):
        return [i["value"]["variant"] for i in p.body.raw_data[0]["value"]["variants"]]

    assert names(page) == ["control", "discount", "big-photo"]
    assert names(live) == ["control", "discount", "big-photo"]
    assert names(latest) == ["control", "discount", "unknown"]  # unknown: left for the editor
    usages = {
        u.revision_id: u.variant_keys for u in ExperimentUsage.objects.filter(page_id=page.pk)
    }
    assert usages == {
        page.live_revision_id: ["control", "discount", "big-photo"],
        page.latest_revision_id: ["control", "discount", "unknown"],
    }
    assert experiment.key == "spring-sale"


def test_after_the_migration_a_typed_page_serves_its_variant_and_may_start(client, page, run_jobs):
    experiment = make_experiment("spring-sale", ["control", "discount"], weights=[0, 1])
    publish_body(page, [ab_block("spring-sale", ["control", "Discount"])])
    with pytest.raises(ValueError, match="missing: discount"):
        experiment_start(experiment=experiment)
    MIGRATION.repair_variant_names(apps, None)
    page.refresh_from_db()
    page.live_revision.publish()  # records the repaired revision's usage again
    experiment_start(experiment=experiment)
    with run_jobs():
        html = client.get(page.url).content.decode()
    # the entry typed "Discount" (its content says so) is now the discount variant's
    assert 'data-variant="discount"' in html and marker("spring-sale", "Discount") in html
    assert Exposure.objects.get(experiment=experiment).variant.name == "discount"


# THE EXPERIMENT FORM
# ------------------------------------------------------------------------------


def experiment_form(experiment, variants, **extra):
    """The experiment editor's data for `experiment` with these (name, weight %, revision)."""
    return nested_form_data(
        {
            "name": experiment.name,
            "key": experiment.key,
            "hypothesis": "",
            "coverage": 1,
            "hash_seed": "",
            "variants": inline_formset(
                [
                    {"id": pk or "", "name": name, "weight": weight, "revision": revision or ""}
                    for pk, name, weight, revision in variants
                ],
                initial=experiment.variants.count(),
            ),
            "goals": inline_formset(
                [
                    {
                        "id": goal.pk,
                        "name": goal.name,
                        "is_primary": "on",
                        "kind": goal.kind,
                        "event_type": goal.event_type,
                        "include_descendants": "on",
                    }
                    for goal in experiment.goals.all()
                ],
                initial=experiment.goals.count(),
            ),
            **extra,
        }
    )


def started(page) -> Experiment:
    experiment = make_experiment("spring-sale", ["control", "discount"])
    publish_body(page, [ab_block("spring-sale", ["control", "discount"])])
    return experiment_start(experiment=experiment)


def rows(experiment):
    return [(v.pk, v.name) for v in experiment.variants.order_by("sort_order")]


@pytest.mark.parametrize(
    "change",
    ["rename", "add", "remove", "reorder"],
)
def test_the_variant_keys_of_a_started_experiment_are_frozen(client, page, change):
    experiment = started(page)
    (control_pk, _), (discount_pk, _) = rows(experiment)
    variants = {
        "rename": [(control_pk, "control", 50, None), (discount_pk, "Discount", 50, None)],
        "add": [
            (control_pk, "control", 40, None),
            (discount_pk, "discount", 30, None),
            (None, "free-gift", 30, None),
        ],
        "remove": [(control_pk, "control", 100, None)],
        "reorder": [(discount_pk, "discount", 50, None), (control_pk, "control", 50, None)],
    }[change]
    response = admin_client(client).post(
        f"/admin/experiments/edit/{experiment.pk}/", experiment_form(experiment, variants)
    )
    assert response.status_code == 200
    assert "its variants stay control, discount" in response.content.decode()
    assert rows(experiment) == [(control_pk, "control"), (discount_pk, "discount")]


def test_the_weights_of_a_started_experiment_may_change(client, page):
    experiment = started(page)
    (control_pk, _), (discount_pk, _) = rows(experiment)
    response = admin_client(client).post(
        f"/admin/experiments/edit/{experiment.pk}/",
        experiment_form(
            experiment, [(control_pk, "control", 30, None), (discount_pk, "discount", 70, None)]
        ),
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert [v.weight for v in experiment.variants.order_by("sort_order")] == [0.3, 0.7]


def test_a_draft_experiments_key_cannot_change_while_pages_use_it(client, page):
    experiment = make_experiment("spring-sale", ["control", "discount"])
    publish_body(page, [ab_block("spring-sale", ["control", "discount"])])
    variants = [(pk, name, 50, None) for pk, name in rows(experiment)]
    data = experiment_form(experiment, variants)
    data["key"] = "summer-sale"
    response = admin_client(client).post(f"/admin/experiments/edit/{experiment.pk}/", data)
    assert "Pages use this experiment under its key “spring-sale”" in response.content.decode()
    assert page.title in response.content.decode()
    assert Experiment.objects.filter(key="spring-sale").exists()


def test_a_page_level_variant_needs_a_revision_of_the_experiments_own_page(client, page):
    other = ContentPage.objects.exclude(pk=page.pk).first()
    experiment = make_experiment("page-test", ["control", "b", "c"])  # its page chosen below
    foreign = other.specific.save_revision()
    variants = [
        (pk, name, weight, revision)
        for (pk, name), weight, revision in zip(
            rows(experiment), [34, 33, 33], [None, foreign.pk, None], strict=True
        )
    ]
    response = admin_client(client).post(
        f"/admin/experiments/edit/{experiment.pk}/",
        experiment_form(experiment, variants, page=page.pk),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "This is a revision of another page; choose one of" in html
    assert "without one they would see the live page (the control)" in html
    assert Experiment.objects.get(pk=experiment.pk).page_id is None


def test_a_revision_needs_the_experiments_page(client, page):
    experiment = make_experiment("page-test", ["control", "b"])
    own = page.specific.save_revision()
    variants = [
        (pk, name, 50, revision)
        for (pk, name), revision in zip(rows(experiment), [None, own.pk], strict=True)
    ]
    response = admin_client(client).post(
        f"/admin/experiments/edit/{experiment.pk}/", experiment_form(experiment, variants)
    )
    assert "Choose the experiment&#x27;s page" in response.content.decode()

"""Which pages use which experiment, and whether they agree with it.

A page uses an experiment through an A/B block in one of its StreamFields (the block names the
experiment by key and holds one entry per variant, by the variant's key), or as the page of a
page-level experiment. Block use is recorded per page revision when the revision is saved or
published (`usage_record`, from `experiments.receivers`), as `ExperimentUsage` rows, so:

- an experiment's edit and report views list the pages that use it, live or as a draft
  (`pages_using`);
- starting an experiment is refused while no live page uses it or a live page's blocks do not
  hold exactly its variants (`experiment_start`);
- "which experiments does this revision use" is one query (`revision_experiment_keys`).

The walk through a page's blocks knows no block class: a block takes part by answering
`experiment_usage(raw_value) -> (experiment key, [variant keys]) | None` (the A/B block of
`cms.personalized_blocks` does), so this app needs nothing from the apps built on it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _
from wagtail import blocks
from wagtail.fields import StreamField
from wagtail.models import Page, Revision

from experiments.models import (
    Experiment,
    ExperimentStatus,
    ExperimentUsage,
    TransitionError,
    Variant,
)
from experiments.registry import running_experiments
from experiments.services import VariantChoice, variant_for

# COVERAGE: DO A BLOCK'S ENTRIES HOLD EXACTLY THE EXPERIMENT'S VARIANTS?
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """How a block's variant entries differ from the experiment's variants."""

    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    repeated: tuple[str, ...] = ()

    @property
    def exact(self) -> bool:
        return not (self.missing or self.extra or self.repeated)

    def describe(self) -> str:
        """The difference in words, naming every key ('' when there is none)."""
        parts = []
        if self.missing:
            parts.append(_("missing: %(keys)s") % {"keys": ", ".join(self.missing)})
        if self.extra:
            parts.append(
                _("not variants of this experiment: %(keys)s") % {"keys": ", ".join(self.extra)}
            )
        if self.repeated:
            parts.append(_("listed more than once: %(keys)s") % {"keys": ", ".join(self.repeated)})
        return "; ".join(parts)


def variant_coverage(expected: Sequence[str], found: Sequence[str]) -> Coverage:
    """Compare a block's entries (`found`, blanks = not chosen yet) with the experiment's
    variant keys (`expected`, in the experiment's order)."""
    chosen = [key for key in found if key]
    seen: set[str] = set()
    repeated = []
    for key in chosen:
        if key in seen and key not in repeated:
            repeated.append(key)
        seen.add(key)
    return Coverage(
        missing=tuple(key for key in expected if key not in seen),
        extra=tuple(dict.fromkeys(key for key in chosen if key not in expected)),
        repeated=tuple(repeated),
    )


def experiment_variant_keys(key: str) -> list[str] | None:
    """The variant keys of experiment `key` in order (the control first); None if there is no
    such experiment."""
    if not Experiment.objects.filter(key=key).exists():
        return None
    return list(
        Variant.objects.filter(experiment__key=key)
        .order_by("sort_order", "pk")
        .values_list("name", flat=True)
    )


def variant_choices(*, key: str) -> dict | None:
    """What the block editor's variant select offers for experiment `key`: its variants by key,
    the control first and labelled as such."""
    experiment = Experiment.objects.filter(key=key).first()
    if experiment is None:
        return None
    variants = list(experiment.variants.order_by("sort_order", "pk"))
    return {
        "experiment": {
            "key": experiment.key,
            "name": experiment.name,
            "status": experiment.status,
        },
        "variants": [
            {
                "key": variant.name,
                "label": _("%(key)s (the control)") % {"key": variant.name}
                if index == 0
                else variant.name,
            }
            for index, variant in enumerate(variants)
        ],
    }


# SERVING: COUNT A VISITOR ONLY WHERE THE BLOCK CAN SHOW THEIR VARIANT
# ------------------------------------------------------------------------------


def block_variant_for(
    request, *, experiment_key: str, variant_keys: Sequence[str]
) -> VariantChoice | None:
    """The variant an A/B block holding `variant_keys` shows this visitor (as
    `services.variant_for` decides it), or None: then the block shows its control, uncounted.

    A running experiment is only asked (and the visitor only counted) where the block holds
    every one of its variants: a visitor assigned to a variant the block lacks could not be
    shown its content, and their exposure would count control content as that variant's."""
    spec = running_experiments().by_key.get(experiment_key)
    if spec is not None and not {v.name for v in spec.variants} <= set(variant_keys):
        return None
    choice = variant_for(request, experiment_key)
    if choice is None or choice.variant.name not in variant_keys:
        return None
    return choice


# THE WALK THROUGH A PAGE'S BLOCKS
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockUsage:
    """One A/B block found in a page: where, which experiment, which variant keys (in order)."""

    block_path: str
    experiment_key: str
    variant_keys: tuple[str, ...]


def block_values(
    block: blocks.Block, raw: Any, path: str
) -> Iterator[tuple[blocks.Block, Any, str]]:
    """Every block inside a raw (JSON) value, depth first, with its path: `block` itself, then
    the children of streams (by block id), structs (by field name) and lists (by item id)."""
    yield block, raw, path
    if isinstance(block, blocks.BaseStreamBlock):
        for index, child in enumerate(raw if isinstance(raw, list) else []):
            if isinstance(child, dict) and child.get("type") in block.child_blocks:
                child_path = f"{path}/{child.get('id') or index}"
                yield from block_values(
                    block.child_blocks[child["type"]], child.get("value"), child_path
                )
    elif isinstance(block, blocks.BaseStructBlock):
        for name, child_block in block.child_blocks.items():
            if isinstance(raw, dict) and name in raw:
                yield from block_values(child_block, raw[name], f"{path}.{name}")
    elif isinstance(block, blocks.ListBlock):
        for index, item in enumerate(raw if isinstance(raw, list) else []):
            in_block_format = isinstance(item, dict) and item.get("type") == "item"
            value = item.get("value") if in_block_format else item
            item_id = item.get("id") if in_block_format else None
            yield from block_values(block.child_block, value, f"{path}/{item_id or index}")


def page_stream_values(page: Page) -> Iterator[tuple[StreamField, list]]:
    """Each StreamField of a (specific) page with its raw JSON value."""
    for model_field in type(page)._meta.get_fields():
        if isinstance(model_field, StreamField):
            value = getattr(page, model_field.attname)
            yield model_field, model_field.get_prep_value(value) or []


def page_experiment_blocks(page: Page) -> list[BlockUsage]:
    """The A/B blocks of a page (as saved in this instance), wherever they are nested."""
    found = []
    for stream_field, raw in page_stream_values(page):
        for block, value, path in block_values(stream_field.stream_block, raw, stream_field.name):
            usage = getattr(block, "experiment_usage", None)
            answer = usage(value) if callable(usage) else None
            if answer is not None:
                key, keys = answer
                found.append(BlockUsage(path, key, tuple(keys)))
    return found


# RECORDING, FROM THE REVISION SIGNALS
# ------------------------------------------------------------------------------


def _is_page_revision(revision: Revision) -> bool:
    return revision.base_content_type_id == ContentType.objects.get_for_model(Page).pk


@transaction.atomic
def usage_record(*, revision: Revision) -> list[ExperimentUsage]:
    """Record (again) the A/B blocks of a page revision: idempotent, so saving over a revision
    (autosave) or publishing one recorded long ago leaves exactly its current blocks."""
    if not _is_page_revision(revision):
        return []
    page = revision.as_object()
    found = page_experiment_blocks(page)
    ExperimentUsage.objects.filter(revision=revision).delete()
    return ExperimentUsage.objects.bulk_create(
        ExperimentUsage(
            revision=revision,
            page_id=page.pk,
            experiment_key=usage.experiment_key,
            block_path=usage.block_path,
            variant_keys=list(usage.variant_keys),
        )
        for usage in found
    )


def revision_experiment_keys(*, revision: Revision) -> set[str]:
    """The experiments a page revision depends on when served: its A/B blocks' and its page's
    page-level experiment (if any)."""
    keys = set(
        ExperimentUsage.objects.filter(revision=revision).values_list("experiment_key", flat=True)
    )
    if _is_page_revision(revision):
        keys |= set(
            Experiment.objects.filter(page_id=int(revision.object_id)).values_list("key", flat=True)
        )
    return keys


# WHICH PAGES USE AN EXPERIMENT
# ------------------------------------------------------------------------------


@dataclass
class PageUse:
    """One page using an experiment: live, as a draft, or both; through blocks or page-level."""

    page: Page
    live: bool = False
    draft: bool = False
    page_level: bool = False
    in_blocks: bool = False
    live_problems: list[str] = field(default_factory=list)
    draft_problems: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        if self.live and self.draft:
            return _("Live and draft")
        if self.live:
            return _("Live")
        if self.draft:
            return _("Draft only")
        return _("Not live")

    @property
    def agrees(self) -> bool:
        return not (self.live_problems or self.draft_problems)


def _block_problems(blocks_keys: list[list[str]], expected: list[str]) -> list[str]:
    problems = []
    for keys in blocks_keys:
        coverage = variant_coverage(expected, keys)
        if not coverage.exact:
            problems.append(_("an A/B block: %(diff)s") % {"diff": coverage.describe()})
    return problems


def _page_level_problems(experiment: Experiment, variants: list[Variant]) -> list[str]:
    """How a page-level experiment's variants fail to serve their own content."""
    problems = []
    page_id = str(experiment.page_id)
    for index, variant in enumerate(variants):
        if variant.revision_id is None:
            if index > 0:
                problems.append(
                    _(
                        "variant “%(key)s” has no page revision: its visitors would see the "
                        "live page (the control)"
                    )
                    % {"key": variant.name}
                )
        elif variant.revision.object_id != page_id:
            problems.append(
                _("variant “%(key)s” shows a revision of another page") % {"key": variant.name}
            )
    return problems


def pages_using(*, experiment: Experiment) -> list[PageUse]:
    """Every page whose live version or latest draft uses `experiment`, with how each disagrees
    with its variants (by page path; the page of a page-level experiment first)."""
    variants = list(experiment.variants.select_related("revision").order_by("sort_order", "pk"))
    expected = [variant.name for variant in variants]
    uses: dict[int, PageUse] = {}
    if experiment.page_id and experiment.page is not None:
        page = experiment.page
        uses[page.pk] = PageUse(
            page=page,
            live=page.live,
            page_level=True,
            live_problems=_page_level_problems(experiment, variants),
        )
    rows = (
        ExperimentUsage.objects.filter(experiment_key=experiment.key)
        .filter(
            Q(page__live=True, revision_id=F("page__live_revision_id"))
            | Q(revision_id=F("page__latest_revision_id"))
        )
        .select_related("page")
        .order_by("page__path", "pk")
    )
    live_keys: dict[int, list[list[str]]] = {}
    draft_keys: dict[int, list[list[str]]] = {}
    for row in rows:
        page = row.page
        use = uses.setdefault(page.pk, PageUse(page=page))
        use.in_blocks = True
        is_live = page.live and row.revision_id == page.live_revision_id
        if is_live:
            use.live = True
            live_keys.setdefault(page.pk, []).append(row.variant_keys)
        if row.revision_id == page.latest_revision_id and not is_live:
            use.draft = True
            draft_keys.setdefault(page.pk, []).append(row.variant_keys)
    for page_id, use in uses.items():
        use.live_problems += _block_problems(live_keys.get(page_id, []), expected)
        use.draft_problems = _block_problems(draft_keys.get(page_id, []), expected)
    return [use for use in uses.values() if use.live or use.draft or use.page_level]


# STARTING
# ------------------------------------------------------------------------------


def start_problems(*, experiment: Experiment) -> list[str]:
    """Why the pages stop `experiment` from starting: no live page uses it, or a live page
    would show some visitors content other than their variant's."""
    uses = pages_using(experiment=experiment)
    problems = []
    if not any(use.live for use in uses):
        problems.append(
            _(
                "No live page uses this experiment: publish a page with an A/B test block "
                "for “%(key)s”, or choose the page of a page-level test."
            )
            % {"key": experiment.key}
        )
    for use in uses:
        if use.live or use.page_level:
            problems += [
                _("“%(page)s” (live) disagrees with the experiment's variants: %(problem)s.")
                % {"page": use.page.title, "problem": problem}
                for problem in use.live_problems
            ]
        if use.page_level and not use.page.live:
            problems.append(
                _("The page of this page-level test, “%(page)s”, is not live.")
                % {"page": use.page.title}
            )
    return problems


def experiment_start(*, experiment: Experiment) -> Experiment:
    """Start (or resume) `experiment` if its settings and its pages allow it; else raise
    TransitionError naming every problem at once."""
    if experiment.status in (ExperimentStatus.DRAFT, ExperimentStatus.PAUSED):
        problems = experiment.readiness_problems() + start_problems(experiment=experiment)
        if problems:
            raise TransitionError(" ".join(problems))
    experiment.start()
    return experiment

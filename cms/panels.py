"""The page editor's "Personalization" tab: what a page's personalization costs the cache.

Editors add per-segment blocks and A/B tests one at a time; each multiplies the kinds of visitor
the page is rendered for, and nothing in the editor says so (the "combinatorial explosion" of
per-assignment caching). The panel shows, for the live page, the segments and experiments it
uses, the distinct keys seen and the hit rate today and yesterday (`render_cache.stats`), the
possible combinations, and a warning above `RENDER_CACHE_KEYS_WARNING`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import ObjectList, Panel, TabbedInterface

from cms.render_cache import stats
from cms.render_cache.usage import page_usage

LARGE = 10**9  # above this, a count is shown as a power of ten


def format_count(number: int) -> str:
    """A count as an editor reads it: grouped digits, or "≈ 1.3 × 10^30" when huge."""
    if number < LARGE:
        return number_format(number, force_grouping=True)
    exponent = len(str(number)) - 1
    return f"≈ {number / 10**exponent:.1f} × 10^{exponent}"


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Estimate:
    """Possible combinations of one revision, formatted, and whether they pass the threshold."""

    combinations: stats.Combinations
    threshold: int

    @property
    def keys(self) -> str:
        return format_count(self.combinations.keys)

    @property
    def contents(self) -> str:
        return format_count(self.combinations.contents)

    @property
    def over(self) -> bool:
        return self.combinations.keys > self.threshold

    @property
    def factors(self) -> list[tuple[str, str, str]]:
        """(name, keys, bodies) of each factor that multiplies anything."""
        names = {
            "segments": _("Segments"),
            "experiments": _("Experiments"),
            "consent": _("Consent choices"),
            "languages": _("Languages"),
            "restrictions": _("Private pages listed below"),
        }
        return [
            (names[f.name], format_count(f.keys), format_count(f.contents))
            for f in self.combinations.factors
            if f.keys > 1
        ]


def _segment_links(segment_ids) -> list[Link]:
    from personalization.models import Segment

    names = dict(Segment.objects.filter(pk__in=segment_ids).values_list("pk", "name"))
    return [
        Link(names.get(pk, _("Deleted segment %(id)s") % {"id": pk}), _segment_url(pk, names))
        for pk in segment_ids
    ]


def _segment_url(pk: int, names: dict) -> str:
    return reverse("personalization_segment:edit", args=[pk]) if pk in names else ""


def _experiment_links(keys) -> list[Link]:
    from experiments.models import Experiment

    found = {e.key: e for e in Experiment.objects.filter(key__in=keys)}
    return [
        Link(found[key].name, reverse("experiments_experiment:report", args=[found[key].pk]))
        if key in found
        else Link(key, "")
        for key in keys
    ]


def _page_level_keys(page_id: int | None) -> list[str]:
    """The page-level experiments the key asks for: running on the page, or won."""
    from experiments.registry import running_experiments
    from experiments.services import declared_winners

    found = []
    for page_level in (running_experiments().by_page, declared_winners().by_page):
        spec = page_level.get(page_id)
        if spec is not None:
            found.append(getattr(spec, "experiment", spec).key)
    return found


def _rate(counts: stats.DayCounts | None) -> str:
    if counts is None or counts.hit_rate is None:
        return "–"
    return f"{counts.hit_rate:.0%}"


def page_cost(page) -> dict:
    """What the panel shows for a page (its draft as `page`, its live version from the
    database)."""
    threshold = stats.warning_threshold()
    live = page.specific_class.objects.get(pk=page.pk) if page.pk and page.live else None
    usage = page_usage(live or page)
    experiment_keys = [*usage.experiment_keys, *_page_level_keys(page.pk)]
    counts = stats.page_counts(page_id=page.pk) if page.pk else None
    live_estimate = Estimate(stats.page_combinations(live), threshold) if live else None
    draft_estimate = None
    if live is None or page.has_unpublished_changes:
        draft_estimate = Estimate(stats.page_combinations(page), threshold)
    return {
        "live": live is not None,
        "segments": _segment_links(usage.segment_ids),
        "experiments": _experiment_links(list(dict.fromkeys(experiment_keys))),
        "counts": counts,
        "today": counts[0] if counts else None,
        "yesterday": counts[1] if counts else None,
        "today_rate": _rate(counts[0] if counts else None),
        "yesterday_rate": _rate(counts[1] if counts else None),
        "estimates": [
            (("live", _("Live page:")), live_estimate),
            (("draft", _("This draft, once published:")), draft_estimate),
        ],
        "threshold": threshold,
        "over": any(e is not None and e.over for e in (live_estimate, draft_estimate)),
    }


class PersonalizationPanel(Panel):
    """Read-only: the cache cost of the page's personalization (see the module docstring)."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "cms/admin/personalization_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context.update(page_cost(self.instance))
            return context


def personalization_tabs(page_class) -> TabbedInterface:
    """Wagtail's tabs of a page type (those with panels, as Wagtail builds them), and
    "Personalization" after them."""
    tabs = [
        ObjectList(panels, heading=heading)
        for panels, heading in (
            (page_class.content_panels, _("Content")),
            (page_class.promote_panels, _("Promote")),
            (page_class.settings_panels, _("Settings")),
        )
        if panels
    ]
    personalization = [PersonalizationPanel(heading=_("Personalization"))]
    return TabbedInterface([*tabs, ObjectList(personalization, heading=_("Personalization"))])


def personalization_tabs_install(app_config) -> None:
    """Give each page type of the app (that does not choose its own tabs) the Personalization
    tab. Done when the app is ready rather than as `edit_handler` in `cms.models`: the panel
    reads the render cache, which reads those models."""
    from wagtail.models import Page

    for model in app_config.get_models():
        if issubclass(model, Page) and not hasattr(model, "edit_handler"):
            model.edit_handler = personalization_tabs(model)

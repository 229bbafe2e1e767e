"""The personalization key of a (page revision, request): all a cached render may depend on.

Built from the request's resolution without rendering, from the stored usage of the revision
(`usage`): which of the segments used on the page the visitor matches (in the order the blocks
consult them), the variant of each experiment on the page (and whether the visitor counts in
it), the holdout arm of each matched segment, the consent state, the language, which of the
page's view restrictions admit the request — and the versions of the segment set and of the
running experiments, so a segment or experiment change is a new key. Nothing else about the
visitor: two visitors with one key are served one body.

The key is hashed: it names cache entries, ETags and (signed) the edge's cache key, and none of
them should spell out segment ids.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.utils import translation

from cms.render_cache import store
from cms.render_cache.usage import Usage
from experiments.holdouts import holdout_for
from experiments.registry import running_experiments
from experiments.services import declared_winners, variant_peek
from personalization.resolver import resolve


@dataclass(frozen=True)
class PersonalizationKey:
    """The parts (readable, for tests and the editor's panel) and their hash."""

    parts: tuple[str, ...]

    @property
    def digest(self) -> str:
        return hashlib.sha256("|".join(self.parts).encode()).hexdigest()[:32]


def _arm(request, key: str) -> str:
    choice = variant_peek(request, key)
    if choice is None:
        return "-"
    return f"{choice.variant.name}{'*' if choice.counted else ''}"


def _page_level(page_id: int) -> list:
    """The page's page-level experiment, running or with a declared winner (specs)."""
    found = []
    for page_level in (running_experiments().by_page, declared_winners().by_page):
        spec = page_level.get(page_id)
        if spec is not None:
            found.append(getattr(spec, "experiment", spec))
    return found


def personalization_key(request, route: store.Route) -> PersonalizationKey:
    """The key of `request` for the page and revision of `route` (`store.Route`)."""
    resolution = resolve(request)
    usage = route.usage
    matched = [segment for segment in usage.segment_ids if resolution.matches(segment)]
    bits = "".join("1" if resolution.matches(s) else "0" for s in usage.segment_ids)
    experiment_keys = [*usage.experiment_keys, *(spec.key for spec in _page_level(route.page_id))]
    experiments = ",".join(f"{key}={_arm(request, key)}" for key in experiment_keys)
    holdouts = []
    for segment in matched:
        spec = holdout_for(segment)
        if spec is not None:
            holdouts.append(f"{segment}:{_arm(request, spec.key)}")
    consent = getattr(request, "consent", None) or {}
    consent_state = "".join(
        "1" if consent.get(purpose) else "0"
        for purpose in ("analytics", "personalization", "marketing")
    )
    recorded = "r" if getattr(request, "consent_recorded", False) else "u"
    admitted = "".join("1" if r.accept_request(request) else "0" for r in route.restrictions_below)
    return PersonalizationKey(
        (
            f"page={route.page_id}",
            f"rev={route.revision_id}",
            f"segver={resolution.segment_set.version}",
            f"expver={running_experiments().token}",
            f"seg={bits}",
            f"exp={experiments}",
            f"holdout={','.join(holdouts)}",
            f"consent={recorded}{consent_state}",
            f"lang={translation.get_language() or ''}",
            f"admitted={admitted}",
        )
    )


def key_covers(request, route: store.Route, consulted: Usage | None = None) -> bool:
    """Whether the key of `route` covers every segment and experiment the content served to
    `request` consulted — else two visitors with one key could be served different content,
    and the render must not be shared. The key is built from the live revision's usage; the
    content may differ from it when a page-level experiment served the visitor another
    revision (a variant's draft), whose segments and experiments the key may leave out.

    `consulted`: what the served content consulted, when its renderer noted it (the API's
    resolution does); else it is the stored usage of the revision served (the live one, or
    the page-level variant's the request was given: unknown if never recorded — not covered).
    The site's store and the API's store both keep a render only when this holds."""
    page_level = _page_level(route.page_id)
    if consulted is None:
        memo = getattr(request, "_experiment_choices", None) or {}
        served = []
        for spec in page_level:
            choice = memo.get(spec.key)
            revision_id = choice.variant.revision_id if choice is not None else None
            if revision_id and revision_id != route.revision_id:
                served.append(store.usage_of_revision(revision_id))
        if None in served:
            return False
    else:
        served = [consulted]
    segments = set(route.usage.segment_ids)
    experiments = {*route.usage.experiment_keys, *(spec.key for spec in page_level)}
    return all(
        set(usage.segment_ids) <= segments and set(usage.experiment_keys) <= experiments
        for usage in served
    )

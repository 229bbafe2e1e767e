"""What the render cache costs, per page, for the editor's "Personalization" panel.

**Counters.** Each page view the render cache serves counts, for its page and its day (in the
site's time zone, whatever zone an editor's admin is shown in): a hit or a miss, and its
*combination* — the personalization key without the page, revision and version parts — in a
set of the combinations seen. A publish or a segment edit makes new cache entries for the
same visitors; they show as misses (the hit rate), not as new combinations, so "distinct keys
seen" says how many kinds of visitor the page is really rendered for, and can be read against
`possible_combinations`.

- With the project's Redis cache (`config.cache.ResilientRedisCache`): one Lua script call per
  page view (one round trip: INCR of the counter, PFADD of the combination to a HyperLogLog,
  their expiry), on the cache's own client, prefix and outage handling. While Redis is away the
  view is not counted (the cache logs the outage once); counting never fails a page.
- With any other cache (the embedded default, local memory): counters and exact sets in this
  process (`LocalCounters`). With several processes each counts what it served, so the panel
  shows the share of the process that draws it — the embedded setup is one process.

**Combinations.** `possible_combinations` bounds, from what a page revision uses, how many keys
its visitors can have (each a separate cache entry, rendered once per TTL) and how many
different bodies those keys can show. `page_combinations` gathers its inputs for a page.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from math import prod

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.core.cache import caches
from django.utils import timezone

from cms.render_cache import store
from cms.render_cache.usage import page_usage, segment_blocks
from cms.selectors import view_restrictions_below
from config.cache import ResilientRedisCache
from experiments.holdouts import holdout_for
from experiments.registry import running_experiments
from experiments.services import declared_winners
from personalization.consent import PURPOSES

logger = logging.getLogger(__name__)

COUNTER_TTL = 2 * 24 * 3600  # yesterday's counters are read until the end of today
VERSION_PARTS = ("page=", "rev=", "segver=", "expver=")  # not about the visitor

# KEYS[1] the counter (hits or misses), KEYS[2] the day's HyperLogLog of combinations;
# ARGV[1] the combination, ARGV[2] the expiry in seconds.
_COUNT = """
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('PFADD', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""

# KEYS[1] a render, KEYS[2] its page's hit counter, KEYS[3] the day's HyperLogLog; ARGV as
# above. The render's stored bytes (nil when absent), counted as a hit when there.
_GET_HIT = """
local render = redis.call('GET', KEYS[1])
if render then
  redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  redis.call('PFADD', KEYS[3], ARGV[1])
  redis.call('EXPIRE', KEYS[3], ARGV[2])
end
return render
"""

# KEYS: (hits, misses, combinations) per day → their counts, in that order.
_READ = """
local result = {}
for i, key in ipairs(KEYS) do
  if i % 3 == 0 then
    result[#result + 1] = redis.call('PFCOUNT', key)
  else
    result[#result + 1] = tonumber(redis.call('GET', key) or '0')
  end
end
return result
"""


# COUNTERS
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayCounts:
    """One page's render-cache traffic on one day."""

    day: date
    hits: int = 0
    misses: int = 0
    keys: int = 0  # distinct combinations seen (approximate with Redis: ±0.81 %)

    @property
    def requests(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float | None:
        """Hits over all counted views; None before the first one."""
        return self.hits / self.requests if self.requests else None


class LocalCounters:
    """The counters in this process, for a cache that is not Redis: per day and page, hits,
    misses and the exact set of combinations. Only today and yesterday are kept; a day's set
    stops growing at `max_keys` (its count is then a lower bound)."""

    def __init__(self, *, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._days: dict[date, dict[int, tuple[list[int], set[str]]]] = {}
        self._lock = threading.Lock()

    def count(self, *, day: date, page_id: int, combination: str, hit: bool) -> None:
        with self._lock:
            pages = self._days.get(day)
            if pages is None:
                self._days = {d: p for d, p in self._days.items() if d >= day - timedelta(1)}
                pages = self._days[day] = {}
            totals, seen = pages.setdefault(page_id, ([0, 0], set()))
            totals[0 if hit else 1] += 1
            if len(seen) < self.max_keys:
                seen.add(combination)

    def read(self, *, day: date, page_id: int) -> DayCounts:
        with self._lock:
            totals, seen = self._days.get(day, {}).get(page_id, ([0, 0], set()))
            return DayCounts(day, hits=totals[0], misses=totals[1], keys=len(seen))

    def clear(self) -> None:
        with self._lock:
            self._days = {}


local_counters = LocalCounters()


def site_today() -> date:
    """Today in the site's time zone (the admin may show an editor's own zone)."""
    return timezone.localdate(timezone=timezone.get_default_timezone())


def combination_of(key) -> str:
    """The visitor-dependent parts of a `keys.PersonalizationKey`, hashed: two visitors with
    one combination share an entry on every revision of the page."""
    parts = [part for part in key.parts if not part.startswith(VERSION_PARTS)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _redis_cache() -> ResilientRedisCache | None:
    cache = caches["default"]
    return cache if isinstance(cache, ResilientRedisCache) else None


def _counter_keys(cache: ResilientRedisCache, page_id: int, day: date) -> list[str]:
    base = f"render:stats:{page_id}:{day.isoformat()}"
    return [cache.make_key(f"{base}:{name}") for name in ("hits", "misses", "keys")]


def render_served(*, page_id: int, key, hit: bool) -> None:
    """Count one view of page `page_id` served from the render cache (`hit`) or rendered into
    it, with its personalization `key`. One round trip with Redis; never raises."""
    try:
        day, combination = site_today(), combination_of(key)
        cache = _redis_cache()
        if cache is None:
            local_counters.count(day=day, page_id=page_id, combination=combination, hit=hit)
            return
        hits, misses, keys = _counter_keys(cache, page_id, day)
        cache.run_script(
            _COUNT, keys=[hits if hit else misses, keys], args=[combination, COUNTER_TTL]
        )
    except Exception:  # counting is never worth a failed page view
        logger.exception("Render cache counters not updated for page %s", page_id)


def render_hit(kind: str, route: store.Route, name: str, *, key) -> store.Render | None:
    """`store.render_get(kind, route, name)`, counted as a hit of its page (`render_served`)
    when it is there — with Redis in one round trip (a script reads the render and counts).
    None: not stored, or the cache did not answer (a miss either way)."""
    cache = _redis_cache()
    if cache is None:
        render = store.render_get(kind, route, name)
        if render is not None:
            render_served(page_id=route.page_id, key=key, hit=True)
        return render
    hits, _misses, combinations = _counter_keys(cache, route.page_id, site_today())
    stored = cache.make_and_validate_key(store.render_key(kind, route, name))
    raw = cache.run_script(
        _GET_HIT, keys=[stored, hits, combinations], args=[combination_of(key), COUNTER_TTL]
    )
    render = cache.decode(raw) if raw is not None else None
    return render if isinstance(render, store.Render) else None


def page_counts(*, page_id: int) -> tuple[DayCounts, DayCounts] | None:
    """(today, yesterday) of a page, in the site's time zone; None when Redis did not answer."""
    today = site_today()
    days = (today, today - timedelta(days=1))
    cache = _redis_cache()
    if cache is None:
        return tuple(local_counters.read(day=day, page_id=page_id) for day in days)
    keys = [key for day in days for key in _counter_keys(cache, page_id, day)]
    found = cache.run_script(_READ, keys=keys, args=[])
    if found is None:
        return None
    return tuple(
        DayCounts(day, hits=found[3 * i], misses=found[3 * i + 1], keys=found[3 * i + 2])
        for i, day in enumerate(days)
    )


# POSSIBLE COMBINATIONS
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Factor:
    """One part of the key: how many values it can take, and how many of them can change what
    the page shows."""

    name: str
    keys: int
    contents: int


@dataclass(frozen=True)
class Combinations:
    """Upper bounds of a page revision's keys (cache entries) and distinct bodies."""

    factors: tuple[Factor, ...]

    @property
    def keys(self) -> int:
        return prod(f.keys for f in self.factors)

    @property
    def contents(self) -> int:
        return prod(f.contents for f in self.factors)


def segment_factor(
    segment_blocks: Sequence[Sequence[int]], holdout_arms: Mapping[int, int]
) -> Factor:
    """The key holds one bit per segment used (matched or not), and for a matched segment with
    a running holdout, its arm: Π (1 + arms) over the segments, 2ⁿ without holdouts. Each
    per-segment block shows one of its segments' variants or its default, so the bodies are at
    most Π (segments in the block + 1) over the blocks — and never more than 2ⁿ (a held-out
    visitor sees what an unmatched one sees)."""
    used = list(dict.fromkeys(s for block in segment_blocks for s in block))
    keys = prod(1 + holdout_arms.get(s, 1) for s in used)
    shown = prod(len(set(block)) + 1 for block in segment_blocks)
    return Factor("segments", keys, min(shown, 2 ** len(used)))


def possible_combinations(
    *,
    segment_blocks: Sequence[Sequence[int]] = (),
    holdout_arms: Mapping[int, int] | None = None,
    experiment_arms: Sequence[tuple[int, int]] = (),
    consent_states: tuple[int, int] = (9, 2),
    languages: int = 1,
    restrictions_below: int = 0,
) -> Combinations:
    """Bounds of the keys and bodies of a page revision (pure).

    `segment_blocks`: the segments of each per-segment block; `holdout_arms`: per used segment
    with a running holdout, the values its arm takes in a key; `experiment_arms`: per experiment
    on the page (A/B blocks and page-level), (values in a key, variants shown);
    `consent_states`: (values in a key, bodies: the banner or not); `languages`;
    `restrictions_below`: view restrictions under the page (its listings admit or not)."""
    arms = [tuple(pair) for pair in experiment_arms]
    return Combinations(
        (
            segment_factor(segment_blocks, holdout_arms or {}),
            Factor("experiments", prod(k for k, _ in arms), prod(c for _, c in arms)),
            Factor("consent", *consent_states),
            Factor("languages", languages, languages),
            Factor("restrictions", 2**restrictions_below, 2**restrictions_below),
        )
    )


def warning_threshold() -> int:
    return settings.RENDER_CACHE_KEYS_WARNING


def experiment_arms(spec) -> tuple[int, int]:
    """(values in a key, variants shown) of a running experiment's `ExperimentSpec`: each
    variant counted, plus the control uncounted when targeting, coverage or a layer can leave
    a visitor out (`experiments.services._choose`)."""
    can_leave_out = bool(spec.target_segment_ids) or spec.coverage < 1 or spec.namespace
    variants = len(spec.variants)
    return variants + (1 if can_leave_out else 0), variants


def consent_states() -> tuple[int, int]:
    """Not chosen yet (the defaults, and the banner), or any of the choices: 1 + 2^purposes
    keys; what the body shows differs only by the banner."""
    return 1 + 2 ** len(PURPOSES), 2


def site_languages() -> int:
    """The key's language follows the request only with Django's locale middleware, and then
    only where the address does not decide it: the site's pages are served from i18n_patterns
    (English unprefixed, Japanese under /ja/, each language its own page), so a page is only
    ever read in one language."""
    if "django.middleware.locale.LocaleMiddleware" not in settings.MIDDLEWARE:
        return 1
    patterns_used, _ = is_language_prefix_patterns_used(settings.ROOT_URLCONF)
    return 1 if patterns_used else len(settings.LANGUAGES)


def page_combinations(page) -> Combinations:
    """The bounds for a (specific) page as it is in memory — its live or a draft revision —
    with the experiments and holdouts running now."""
    usage = page_usage(page)
    registry, winners = running_experiments(), declared_winners()
    arms = [
        experiment_arms(registry.by_key[key]) if key in registry.by_key else (1, 1)
        for key in usage.experiment_keys
    ]
    if page.pk in registry.by_page:
        arms.append(experiment_arms(registry.by_page[page.pk]))
    if page.pk in winners.by_page:
        arms.append((1, 1))
    holdouts = {}
    for segment in usage.segment_ids:
        spec = holdout_for(segment)
        if spec is not None:
            holdouts[segment] = experiment_arms(spec)[0]
    return possible_combinations(
        segment_blocks=segment_blocks(page),
        holdout_arms=holdouts,
        experiment_arms=arms,
        consent_states=consent_states(),
        languages=site_languages(),
        restrictions_below=view_restrictions_below(page).count() if page.pk else 0,
    )

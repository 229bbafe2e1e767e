"""Ranking recommendations: pure functions over plain candidates (no Django), so the site, the
API and the product pages rank alike and the rules are tested in microseconds.

Arms: an item is `explore` when it comes from outside the visitor's known interests (a category
they never bought, viewed or favourited, and nothing they viewed or bought is paired with it),
else `exploit`. The exploration share decides how many slots go to exploration: `limit × share`,
its fraction rounded up or down by the seeded randomness, so 10 % of 4 slots is one exploring
slot on 40 % of a visitor's days. The seed is per (visitor, day, block): the same visitor sees
the same items all day in one block, and another selection tomorrow or in another block.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

EXPLORE, EXPLOIT = "explore", "exploit"
PAIRED, KNOWN, OTHER = 0, 1, 2  # candidate pools: paired with the visitor's products, …

# Affinity of a known category, by where we learnt it (a product of several counts its best).
AFFINITY = {"bought": 0.6, "favourite": 0.5, "viewed": 0.3, "pet": 0.2}


@dataclass(frozen=True)
class Candidate:
    sku: str
    category: str
    pool: int  # PAIRED, KNOWN or OTHER
    pair_score: float = 0.0  # sum of the co-occurrence scores with the visitor's products
    affinity: float = 0.0  # how well its category / pet fits what we know
    jitter: str | int = ""  # seeded random order: stable per visitor, day and block


@dataclass(frozen=True)
class Ranked:
    sku: str
    arm: str


def seed_of(visitor_key: str, day: str, block: str) -> str:
    """The seed of one visitor's day in one block."""
    return f"{visitor_key}:{day}:{block}"


def seeded_fraction(seed: str, salt: str = "") -> float:
    """A number in [0, 1) fixed by the seed (the same on every server and every request)."""
    digest = hashlib.sha256(f"{seed}|{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def jitter_of(seed: str, sku: str) -> str:
    """The seeded random order of a product (md5 hex, as the SQL query computes it)."""
    return hashlib.md5(f"{seed}{sku}".encode(), usedforsecurity=False).hexdigest()


def explore_slots(limit: int, share: float, seed: str) -> int:
    """How many of `limit` slots explore: limit × share, its fraction rounded by the seed."""
    share = min(max(share, 0.0), 1.0)
    wanted = limit * share
    whole = math.floor(wanted)
    return min(limit, whole + (1 if seeded_fraction(seed, "slots") < wanted - whole else 0))


def exploit_order(candidates: list[Candidate]) -> list[Candidate]:
    """Best known first: paired products by their pair score (affinity breaking ties), then
    products of known categories by affinity, each tie in seeded random order."""
    return sorted(
        candidates,
        key=lambda c: (-(c.pair_score + c.affinity if c.pool == PAIRED else 0), c.pool,
                       -c.affinity, c.jitter, c.sku),
    )  # fmt: skip


def rank(candidates: list[Candidate], *, limit: int, exploration: float, seed: str) -> list[Ranked]:
    """Up to `limit` recommendations. Exploring slots take products of other categories in
    seeded random order, the rest the best known ones; when one side runs short the other fills
    its slots (a visitor we know nothing about sees only exploration). Exploring items are
    spread through the list at seeded places rather than left at the end, so their clicks
    compare fairly with the known ones'."""
    if limit <= 0:
        return []
    known = exploit_order([c for c in candidates if c.pool != OTHER])
    other = sorted((c for c in candidates if c.pool == OTHER), key=lambda c: (c.jitter, c.sku))
    wanted = explore_slots(limit, exploration, seed)
    exploring = other[:wanted]
    exploiting = known[: limit - len(exploring)]
    if len(exploiting) + len(exploring) < limit:  # too few known products: explore more
        exploring = other[: limit - len(exploiting)]
    slots = len(exploiting) + len(exploring)
    order = sorted(range(slots), key=lambda i: seeded_fraction(seed, f"place{i}"))
    explore_at = set(order[: len(exploring)])
    result, known_items, other_items = [], iter(exploiting), iter(exploring)
    for index in range(slots):
        if index in explore_at:
            result.append(Ranked(next(other_items).sku, EXPLORE))
        else:
            result.append(Ranked(next(known_items).sku, EXPLOIT))
    return result

"""The events API's quick check gives what EventSerializer gives, or leaves the item to it.

The quick check exists for speed (DRF's per-field machinery was most of a batch's cost), so the
one thing it may never do is accept an event the serializer refuses, or keep a value the
serializer would change. Hypothesis generates JSON items around every field's edges and
compares the two; typical events must take the quick path, or it saves nothing."""

from __future__ import annotations

import datetime
import json
import math

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from personalization.events.api.serializers import EventSerializer, event_quickly_validated
from personalization.events.properties import PropertiesRefused, json_bytes_at_most, storable

EDGE_TEXT = [
    "",
    " ",
    "page_view",
    "goal",
    "offer_impression",
    "add_to_cart",
    "purchase",
    "sign_up",
    " goal",
    "goal ",
    "\x00",
    "a\x00b",
    "\ud800",
    "\t",
    "ニュースレター",
    "x" * 64,
    "x" * 65,
    "x" * 100,
    "x" * 101,
    " " + "x" * 100,
    "2026-11-23T10:00:00Z",
    "2026-11-23T10:00:00",
    "2026-11-23",
    "not a date",
    "1999-01-01T00:00:00Z",
    "2999-01-01T00:00:00Z",
]

texts = st.sampled_from(EDGE_TEXT) | st.text(max_size=110)
numbers = st.sampled_from([0, 1, -1, 2**31 - 1, 2**31, 1.0, 1.5]) | st.integers()
scalars = st.none() | st.booleans() | numbers | texts
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
near_limit = st.integers(4070, 4110).map(lambda n: {"blob": "x" * n})
recent = st.integers(-3600, 200).map(
    lambda s: (timezone.now() + datetime.timedelta(seconds=s)).isoformat()
)
plain = st.text(st.characters(min_codepoint=33, max_codepoint=0x30FF), min_size=1)
valid_values = {
    "type": st.sampled_from(EDGE_TEXT[2:8]),
    "name": st.sampled_from(["", "newsletter-signup", "x" * 100])
    | plain.filter(lambda t: len(t) <= 100),
    "page": st.none() | st.integers(1, 2**31 - 1),
    "properties": st.dictionaries(plain, st.none() | st.booleans() | st.integers() | plain),
    "occurred_at": st.none() | recent,
    "idempotency_key": st.none() | plain.filter(lambda t: len(t) <= 64),
}
wild = texts | scalars | json_values | near_limit | recent
edges = {
    "type": st.sampled_from(["Goal", "page_view ", "", 1, None]),
    "name": st.sampled_from(["x" * 101, " x", "x ", " ", "\x00", None, 5]),
    "page": st.sampled_from([0, -1, 2**31 - 1, 2**31, True, 1.0, "5", None]),
    "properties": st.sampled_from([{"k": "\x00"}, {"\ud800": 1}, [], None, "{}"]) | near_limit,
    "occurred_at": st.sampled_from(["2999-01-01T00:00:00Z", "1999-01-01T00:00:00Z", "", 0])
    | st.integers(250, 400).map(
        lambda s: (timezone.now() + datetime.timedelta(seconds=s)).isoformat()
    ),
    "idempotency_key": st.sampled_from(["", " ", "x" * 64, "x" * 65, " k", "k\t", "\x00", 7]),
    "unknown": json_values,
}
edge_edit = st.sampled_from(list(edges)).flatmap(lambda k: st.tuples(st.just(k), edges[k]))
wild_edit = st.tuples(st.sampled_from(list(edges)), wild)
# A valid event with up to two fields given an edge case, one given anything, some missing.
events = st.builds(
    lambda base, edits, wild_edits, dropped: {
        k: v for k, v in {**base, **dict(edits + wild_edits)}.items() if k not in dropped
    },
    st.fixed_dictionaries(valid_values),
    st.lists(edge_edit, max_size=2),
    st.lists(wild_edit, max_size=1),
    st.sets(st.sampled_from(list(valid_values)), max_size=2),
)
items = st.one_of(events, events, events, json_values)


def drf(item, validator: EventSerializer):
    try:
        return validator.run_validation(item)
    except ValidationError as exc:
        return exc


@pytest.mark.parametrize("staff", [False, True], ids=["visitor", "shop server"])
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item=items)
def test_the_quick_check_never_accepts_or_changes_what_the_serializer_would_not(staff, item):
    item = json.loads(json.dumps(item))  # what JSONParser hands the view
    user = User(username="shop", is_staff=True) if staff else AnonymousUser()
    validator = EventSerializer(context={"user": user})
    quick = event_quickly_validated(item, validator)
    if quick is None:
        return
    expected = drf(item, validator)
    assert not isinstance(expected, ValidationError), (item, expected.detail)
    assert quick == dict(expected)


TYPICAL = [
    {"type": "page_view"},
    {"type": "page_view", "page": 3, "idempotency_key": "pv-1", "properties": {"ref": "mail"}},
    {"type": "goal", "name": "newsletter-signup"},
    {"type": "offer_impression", "name": "winter-sale", "properties": {"slot": "hero"}},
    {"type": "add_to_cart", "properties": {"sku": "litter-7l", "price": 1800, "tags": ["cat"]}},
    {"type": "page_view", "occurred_at": "2026-11-23T10:00:00+09:00", "name": ""},
]


@pytest.mark.parametrize("event", TYPICAL)
def test_typical_events_take_the_quick_path(event):
    if "occurred_at" in event:
        event = {**event, "occurred_at": timezone.now().isoformat()}
    validator = EventSerializer(context={"user": AnonymousUser()})
    quick = event_quickly_validated(event, validator)
    assert quick is not None
    assert quick == dict(validator.run_validation(event))


def test_server_only_events_from_a_browser_are_left_to_the_serializer_to_refuse():
    validator = EventSerializer(context={"user": AnonymousUser()})
    purchase = {"type": "purchase", "properties": {"amount": 5000}}
    assert event_quickly_validated(purchase, validator) is None
    assert isinstance(drf(purchase, validator), ValidationError)


any_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(10**300), 10**300)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


def refused_anywhere(value) -> bool:
    """What the size walk must refuse, found the plain recursive way (the values are shallow)."""
    if isinstance(value, str):
        return not storable(value)
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(refused_anywhere(k) or refused_anywhere(v) for k, v in value.items())
    if isinstance(value, list):
        return any(refused_anywhere(item) for item in value)
    return False


@settings(max_examples=2000, deadline=None)
@given(value=any_json)
def test_the_properties_size_bound_is_never_below_the_encoded_size(value):
    """validate_properties encodes properties only when this bound exceeds the limit, so a bound
    below the true size would let oversized properties through."""
    try:
        bound = json_bytes_at_most(value)
    except PropertiesRefused:
        assert refused_anywhere(value)
        return
    assert not refused_anywhere(value)
    exact = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    assert exact <= bound


def test_the_size_walk_follows_any_depth_without_recursion():
    deep: dict = {}
    for _ in range(100_000):
        deep = {"a": deep}
    with pytest.raises(PropertiesRefused, match="Nested more than 64 levels deep"):
        json_bytes_at_most(deep)
    assert json_bytes_at_most(deep, max_depth=200_000) > 100_000


@pytest.mark.parametrize(
    ("properties", "error"),
    [
        ({"blob": "x" * 4085}, None),  # 4,096 bytes exactly
        ({"blob": "x" * 4086}, "at most 4096 bytes of JSON (got 4097)"),
        ({"blob": "é" * 2042}, None),  # two bytes each in UTF-8: 4,095
        ({"blob": "é" * 2043}, "got 4097"),
        ({"list": [1] * 2043}, None),
        ({"list": [1] * 2044}, "got 4098"),
        ({"k": "\x00"}, "cannot be stored"),
        ({"k": ["ok", {"\ud800": 1}]}, "cannot be stored"),
    ],
)
def test_properties_are_measured_exactly_at_the_limit(properties, error):
    result = drf({"type": "page_view", "properties": properties}, EventSerializer())
    if error is None:
        assert result["properties"] == properties
    else:
        assert error in str(result.detail["properties"])

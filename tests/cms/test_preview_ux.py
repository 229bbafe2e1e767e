"""Preview as segments (issue 18): the segments the page uses come first in the preview mode
menu; segments combine (`segment-3+7`, offered in the editor beside the menu); a mode naming an
unknown or disabled segment shows a notice in the preview instead of silently the default. And
the editor's StreamField: a variant's collapsed header names its segment and priority, and the
personalization blocks have their own group and icons in the block picker."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from cms.models import HomePage, RevisionPersonalization
from cms.personalized_blocks import BodyStreamBlock, SegmentVariantBlock, segment_choices
from personalization.models import Segment
from tests.personalization.helpers import chosen_segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def test_segments_used_on_the_page_come_first():
    home = HomePage.objects.get()
    used = RevisionPersonalization.objects.get(revision_id=home.live_revision_id).segment_ids
    assert used, "the demo home page consults segments"
    modes = home.preview_modes
    assert modes[0] == ("", "Everyone else (default content)")
    first = [value for value, _ in modes[1 : 1 + len(used)]]
    assert first == [f"segment-{pk}" for pk in used]
    assert all(label.endswith("(used on this page)") for _, label in modes[1 : 1 + len(used)])
    rest = modes[1 + len(used) :]
    assert not any(label.endswith("(used on this page)") for _, label in rest)


def test_a_page_without_segments_lists_them_by_name():
    home = HomePage.objects.get()
    RevisionPersonalization.objects.filter(page=home).update(segment_ids=[])
    labels = [label for _, label in home.preview_modes[1:]]
    enabled = Segment.objects.filter(enabled=True).values_list("name", flat=True)
    assert labels == [f"As segment: {name}" for name in sorted(enabled, key=str.lower)]


def test_combined_segments_preview_as_a_visitor_in_all_of_them():
    home = HomePage.objects.get()
    mobile = Segment.objects.get(slug="mobile-visitors")
    dogs = Segment.objects.get(slug="dog-people")
    html = home.make_preview_request(None, f"segment-{mobile.pk}+{dogs.pk}").content.decode()
    assert chosen_segment(html) == str(dogs.pk)  # the higher priority of the two
    assert "flash-warning" not in html


def test_an_unknown_segment_shows_a_notice_in_the_preview():
    home = HomePage.objects.get()
    html = home.make_preview_request(None, "segment-999999").content.decode()
    assert "flash-warning" in html
    assert "no enabled segment “999999”" in html
    assert chosen_segment(html) == "default"


def test_a_disabled_segment_in_a_combination_is_named():
    home = HomePage.objects.get()
    dogs = Segment.objects.get(slug="dog-people")
    mobile = Segment.objects.get(slug="mobile-visitors")
    mobile.enabled = False
    mobile.save()
    html = home.make_preview_request(None, f"segment-{dogs.pk}+{mobile.pk}").content.decode()
    assert f"no enabled segment “{mobile.pk}”" in html
    assert chosen_segment(html) == str(dogs.pk)


def test_the_editor_offers_combining_beside_the_preview_menu(editor_client):
    home = HomePage.objects.get()
    html = editor_client.get(f"/admin/pages/{home.pk}/edit/").content.decode()
    assert 'id="preview-segments-strings"' in html
    assert "cms/js/preview_segments.js" in html
    assert "Combine segments" in html


def test_a_variant_header_names_its_segment_and_priority():
    dogs = Segment.objects.get(slug="dog-people")
    assert dict(segment_choices())[str(dogs.pk)] == f"Dog people · priority {dogs.priority}"
    assert str(SegmentVariantBlock().meta.label_format) == "For: {segment}"


def test_personalization_blocks_have_their_group_and_icons():
    stream = BodyStreamBlock()
    grouped = stream.grouped_child_blocks()
    groups = {str(group): [block.name for block in blocks] for group, blocks in grouped}
    assert groups["Personalization"] == [
        "personalized",
        "greeting",
        "profile_form",
        "offer",
        "recommendations",
    ]
    assert groups["Experiments"] == ["experiment"]
    icons = {name: stream.child_blocks[name].meta.icon for name in groups["Personalization"]}
    assert len(set(icons.values())) == len(icons)
    icon = {name: block.meta.icon for name, block in stream.child_blocks.items()}
    assert icon["experiment"] != icon["call_to_action"]

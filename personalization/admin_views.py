"""Editor tools in the Wagtail admin: the attribute reference, "explain a visitor" and segment
size recomputation."""

from __future__ import annotations

import json

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from wagtail import hooks

from config.jobs import enqueue
from personalization.admin_header import admin_header
from personalization.attributes import DYNAMIC_PATTERNS, group_label, static_attributes
from personalization.context import build_context
from personalization.explain import (
    UNKNOWN,
    YES,
    member_without_visits,
    segments_decide,
    visitor_get,
    visitor_row,
    visitors_recent,
    visitors_search,
)
from personalization.jobs import compute_segment_size
from personalization.models import Segment, Visitor
from personalization.rules import OPERATORS
from personalization.selectors import visitor_find


def attribute_reference(request):
    """Every key a rule can test, with what it means and its values."""
    groups: dict[str, list] = {}
    for attribute in static_attributes():
        groups.setdefault(group_label(attribute.group), []).append(attribute)
    dynamic = [
        (prefix + "<name>", label, group_label(group))
        for prefix, (label, group, _kind) in DYNAMIC_PATTERNS.items()
    ]
    return TemplateResponse(
        request,
        "personalization/admin/attributes.html",
        {
            "groups": groups,
            "dynamic": dynamic,
            "operators": OPERATORS.items(),
            **admin_header(_("Segment attributes"), icon="help"),
        },
    )


EXPLAIN_SECTIONS_HOOK = "explain_visitor_sections"


def _explain_target(request) -> tuple[Visitor | None, object, list, bool]:
    """(visitor, member, matches to choose from, not found) for the query string: `visitor`
    (a row of the list), else `q` (e-mail, name or, for support, a visitor's cookie id)."""
    visitor_pk = request.GET.get("visitor", "")
    if visitor_pk.isdigit():
        visitor = visitor_get(int(visitor_pk))
        return visitor, visitor.user if visitor else None, [], visitor is None
    query = request.GET.get("q", "")[:254].strip()
    if not query:
        return None, None, [], False
    matches = visitors_search(query)
    if len(matches) == 1:
        visitor = visitor_get(matches[0].pk)
        return visitor, visitor.user, [], False
    if matches:
        return None, None, matches, False
    member = member_without_visits(query)
    if member is not None:
        return None, member, [], False
    visitor, member = visitor_find(query)  # a cookie id pasted by support
    return visitor, member, [], visitor is None and member is None


def _explanation(visitor, member) -> dict:
    attributes = build_context(None, visitor, member, timezone.now())
    decisions = segments_decide(attributes)
    matched = tuple(d.segment_id for d in decisions if d.state == YES)
    unknown = tuple(d.segment_id for d in decisions if d.state == UNKNOWN)
    sections = [hook(matched, unknown) for hook in hooks.get_hooks(EXPLAIN_SECTIONS_HOOK)]
    return {
        "visitor_label": visitor_row(visitor).label if visitor else member.email,
        "visitor": visitor,
        "member": member,
        "decisions": decisions,
        "sections": sections,
        "attributes_json": json.dumps(
            attributes, indent=2, ensure_ascii=False, sort_keys=True, default=str
        ),
    }


def explain_visitor(request):
    """Find a visitor (by member e-mail or name, or from the recent visitors) and show each
    segment's decision in sentences and which variant of each personalized page they see."""
    title = _("Explain a visitor")
    visitor, member, matches, not_found = _explain_target(request)
    context = {
        "query": request.GET.get("q", "")[:254].strip(),
        "page_title": title,
        "header_title": title,
        "header_icon": "search",
        "breadcrumbs_items": [
            {"url": reverse("wagtailadmin_home"), "label": _("Home")},
            {"url": "", "label": title},
        ],
        "matches": matches,
        "not_found": not_found,
        "explained": visitor is not None or member is not None,
    }
    if context["explained"]:
        context.update(_explanation(visitor, member))
    elif not matches and not not_found:
        context["recent"] = visitors_recent()
    context["visitor_rows"] = matches or context.get("recent", [])
    return TemplateResponse(request, "personalization/admin/explain.html", context)


@require_http_methods(["GET", "POST"])
def recompute_segment_size(request, pk: int):
    """Show a segment's size; on POST, queue a new count (the `reports` queue)."""
    segment = get_object_or_404(Segment, pk=pk)
    if request.method == "GET":
        return TemplateResponse(
            request,
            "personalization/admin/segment_size.html",
            {
                "segment": segment,
                **admin_header(
                    _("Size of “%(name)s”") % {"name": segment.name},
                    {"url": reverse("personalization_segment:list"), "label": _("Segments")},
                    {
                        "url": reverse("personalization_segment:edit", args=[segment.pk]),
                        "label": segment.name,
                    },
                    icon="group",
                ),
            },
        )
    enqueue("reports", compute_segment_size, segment.pk)
    messages.success(
        request, _("Counting who is in “%(name)s”; refresh in a moment.") % {"name": segment.name}
    )
    return redirect("personalization_segment:size", segment.pk)

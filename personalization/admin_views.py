"""Editor tools in the Wagtail admin: the attribute reference, "explain a visitor" and segment
size recomputation."""

from __future__ import annotations

import json

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from config.jobs import enqueue
from personalization.attributes import DYNAMIC_PATTERNS, static_attributes
from personalization.context import build_context
from personalization.jobs import compute_segment_size
from personalization.models import Segment
from personalization.rules import OPERATORS
from personalization.selectors import segments_explain, visitor_find


def attribute_reference(request):
    """Every key a rule can test, with what it means and its values."""
    groups: dict[str, list] = {}
    for attribute in static_attributes():
        groups.setdefault(attribute.group, []).append(attribute)
    dynamic = [
        (prefix + "<name>", label, group) for prefix, (label, group, _) in DYNAMIC_PATTERNS.items()
    ]
    return TemplateResponse(
        request,
        "personalization/admin/attributes.html",
        {
            "groups": groups,
            "dynamic": dynamic,
            "operators": OPERATORS.items(),
            "header_title": "Segment attributes",
            "page_title": "Segment attributes",
        },
    )


def explain_visitor(request):
    """For a visitor id or member email: their attributes, and each segment's decision."""
    query = request.GET.get("q", "")[:254].strip()
    context = {
        "query": query,
        "page_title": "Explain a visitor",
        "header_title": "Explain a visitor",
    }
    if query:
        visitor, user = visitor_find(query)
        if visitor is None and user is None:
            context["not_found"] = True
        else:
            attributes = build_context(None, visitor, user, timezone.now())
            context.update(
                {
                    "visitor": visitor,
                    "member": user,
                    "attributes_json": json.dumps(
                        attributes, indent=2, ensure_ascii=False, sort_keys=True, default=str
                    ),
                    "explanations": segments_explain(attributes),
                }
            )
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
                "page_title": f"Size of {segment.name}",
                "header_title": f"Size of “{segment.name}”",
            },
        )
    enqueue("reports", compute_segment_size, segment.pk)
    messages.success(request, f"Counting who is in “{segment.name}”; refresh in a moment.")
    return redirect("personalization_segment:size", segment.pk)

"""The segment editor's own admin endpoint: the reach estimate of the rules being edited."""

from __future__ import annotations

from django.contrib.humanize.templatetags.humanize import intcomma
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from personalization.forms import segment_draft
from personalization.reach import Reach, reach_estimate, request_only_labels
from personalization.services import RECENT_VISITOR_DAYS


def reach_text(reach: Reach) -> str:
    """The estimate as the rule builder shows it, e.g. "12 members and 40 visitors seen in the
    last 30 days match now."."""
    members = ngettext("%(count)s member", "%(count)s members", reach.members) % {
        "count": intcomma(reach.members)
    }
    visitors = ngettext(
        "%(count)s visitor seen in the last %(days)s days",
        "%(count)s visitors seen in the last %(days)s days",
        reach.visitors,
    ) % {"count": intcomma(reach.visitors), "days": RECENT_VISITOR_DAYS}
    template = (
        _("%(members)s and %(visitors)s match now.")
        if reach.exact
        else _("About %(members)s and %(visitors)s match now (estimated from a sample).")
    )
    return template % {"members": members, "visitors": visitors}


def _request_only_note(labels: list[str]) -> str:
    if not labels:
        return ""
    return _("%(attributes)s: known only during a visit, so counted as nobody here.") % {
        "attributes": _(", ").join(labels)
    }


@require_POST
def segment_reach_estimate(request):
    """The reach of the rules being edited (the segment form's fields, as posted): members
    and recent visitors matching now, at a bounded cost (`personalization.reach`). A rule
    that cannot be used yet is a 400 naming the field and saying, in one line, what to fix."""
    draft = segment_draft(request.POST)
    if draft.errors:
        message = next(iter(draft.errors.values()))
        return JsonResponse({"errors": draft.errors, "message": message}, status=400)
    reach = reach_estimate(condition=draft.condition)
    return JsonResponse(
        {
            "members": reach.members,
            "visitors": reach.visitors,
            "total": reach.total,
            "members_total": reach.members_total,
            "visitors_total": reach.visitors_total,
            "evaluated": reach.evaluated,
            "exact": reach.exact,
            "text": reach_text(reach),
            "note": _request_only_note(request_only_labels(draft.condition)),
        }
    )

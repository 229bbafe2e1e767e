"""The slot where a journey's on-site message appears on the visitor's next page view."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from cms.holes import filler, recording_in
from personalization.journeys.onsite import onsite_message_take


class NotificationBlock(blocks.StructBlock):
    """Shows the visitor's waiting journey message here (once), else nothing or the fallback.

    Place it where a message should catch the eye (top of the home page, the cart page). A page
    without one shows waiting messages at the bottom of its content instead."""

    link_label = blocks.CharBlock(max_length=40, default="Take a look", label=_("Link label"))
    fallback = blocks.RichTextBlock(
        required=False,
        features=["bold", "italic", "link"],
        help_text=_("Shown when there is no message for the visitor (may be left empty)."),
        label=_("Fallback"),
    )

    class Meta:
        icon = "mail"
        label = _("Journey notification slot")
        template = "journeys/notification.html"

    hole_kind = "notification"  # the visitor's own message, taken when the hole is filled

    def chosen_content(self, value, request) -> tuple[object, dict]:
        """(None, meta with the message or None): shared by the site and the API."""
        message = onsite_message_take(request) if request is not None else None
        if message is None:
            return value["fallback"], {"notification": None}
        return None, {
            "notification": {
                "id": message.pk,
                "title": message.subject,
                "text": message.body,
                "link": message.link,
            }
        }

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        request = (parent_context or {}).get("request")
        context["message"] = onsite_message_take(request) if request is not None else None
        context["slot"] = "block"
        context["link_label"] = value["link_label"]
        context["fallback"] = value["fallback"]
        return context

    def render(self, value, context=None):
        recording = recording_in(context)
        if recording is None:
            return super().render(value, context)
        return recording.placeholder(
            self.hole_kind,
            {"slot": "block", "link_label": value["link_label"], "fallback": value["fallback"]},
        )


@filler(NotificationBlock.hole_kind)
def _fill_notification(payload: dict, request) -> str:
    """The visitor's waiting message (taken now, once), else the block's fallback."""
    message = onsite_message_take(request) if request is not None else None
    return render_to_string("journeys/notification.html", {**payload, "message": message})

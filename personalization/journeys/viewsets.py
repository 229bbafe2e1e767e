"""Admin for journeys: the journey editor (trigger, segment, steps), email templates, the
journey report, and the RQ dashboard in the Wagtail menu."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    HelpPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
)
from wagtail.admin.widgets.button import ListingButton
from wagtail.snippets.views.snippets import SnippetViewSet

from personalization.journeys.models import EmailTemplate, Journey
from personalization.journeys.reports import journey_report


def journey_report_view(request, pk: int):
    """Entered, messaged, suppressed by cap or consent, converted — per journey and step."""
    journey = get_object_or_404(Journey, pk=pk)
    return TemplateResponse(
        request,
        "journeys/admin/journey_report.html",
        {
            "report": journey_report(journey=journey),
            "page_title": f"Report: {journey.name}",
            "header_title": f"Journey report: “{journey.name}”",
        },
    )


class JourneyViewSet(SnippetViewSet):
    """Journeys: trigger, optional segment, steps (delay + action), goal."""

    model = Journey
    icon = "mail"
    menu_label = "Journeys"
    url_prefix = "personalization/journeys"
    url_namespace = "personalization_journey"
    list_display = ["name", "status", "trigger", "trigger_event", "updated_at"]
    list_filter = ["status", "trigger"]
    search_fields = ["name", "description"]
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [FieldPanel("name"), FieldPanel("description"), FieldPanel("status")],
                heading="Journey",
            ),
            MultiFieldPanel(
                [
                    HelpPanel(
                        content="E.g. cart abandonment: “an event happens and another does not "
                        "follow”, add to cart, unless followed by purchase, window 2 hours."
                    ),
                    FieldPanel("trigger"),
                    FieldRowPanel([FieldPanel("trigger_event"), FieldPanel("trigger_name")]),
                    FieldPanel("follow_up_event"),
                    FieldRowPanel([FieldPanel("window_amount"), FieldPanel("window_unit")]),
                    FieldPanel("segment"),
                ],
                heading="Who enters, and when",
            ),
            InlinePanel(
                "steps",
                label="Step",
                min_num=1,
                panels=[
                    FieldRowPanel([FieldPanel("delay_amount"), FieldPanel("delay_unit")]),
                    FieldPanel("action"),
                    FieldPanel("email_template"),
                    FieldPanel("message_title"),
                    FieldPanel("message_text"),
                    FieldPanel("message_link"),
                    FieldPanel("webhook_url"),
                    FieldPanel("webhook_secret"),
                ],
            ),
            MultiFieldPanel(
                [FieldRowPanel([FieldPanel("goal_event"), FieldPanel("attribution_days")])],
                heading="Conversion",
            ),
        ]
    )

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("report/<int:pk>/", journey_report_view, name="report"),
        ]


class EmailTemplateViewSet(SnippetViewSet):
    """Editor-written emails, checked for template syntax on save."""

    model = EmailTemplate
    icon = "doc-full"
    menu_label = "Email templates"
    url_prefix = "personalization/email-templates"
    url_namespace = "personalization_email_template"
    list_display = ["name", "subject", "updated_at"]
    search_fields = ["name", "subject"]
    panels = [
        FieldPanel("name"),
        FieldPanel("subject"),
        FieldPanel("body_text"),
        FieldPanel("body_html"),
    ]


@hooks.register("register_snippet_listing_buttons")
def journey_report_button(snippet, user, next_url=None):
    """A "Report" entry in each journey's actions menu."""
    if isinstance(snippet, Journey):
        yield ListingButton(
            "Report",
            reverse("personalization_journey:report", args=[snippet.pk]),
            icon_name="table",
            priority=15,
        )


class StaffMenuItem(MenuItem):
    """Shown to staff only (the RQ dashboard is Django staff-only)."""

    def is_shown(self, request) -> bool:
        return bool(request.user.is_staff)


@hooks.register("register_admin_menu_item")
def rq_dashboard_menu_item():
    return StaffMenuItem(
        "Background jobs", "/admin/rq/", name="background-jobs", icon_name="cogs", order=10_000
    )

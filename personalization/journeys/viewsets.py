"""Admin for journeys: the journey editor (trigger, segment, steps — each showing its action's
fields only), email templates, the journey report with its funnel, and the "Background jobs"
page in the Wagtail menu."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    HelpPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
)
from wagtail.admin.panels.base import get_form_for_model
from wagtail.admin.widgets.button import HeaderButton, ListingButton
from wagtail.snippets.views.snippets import SnippetViewSet

from personalization.admin_header import admin_header
from personalization.background_jobs import BackgroundJobsViewSet
from personalization.journeys.chart import funnel_svg
from personalization.journeys.forms import JourneyForm, JourneyStepForm
from personalization.journeys.models import EmailTemplate, Journey, duration_label
from personalization.journeys.reports import journey_funnel, journey_report


def journey_report_view(request, pk: int):
    """The funnel (entered → each step → converted), then entered, messaged, suppressed by cap
    or consent and converted — per journey and step."""
    journey = get_object_or_404(Journey, pk=pk)
    report = journey_report(journey=journey)
    title = _("Report: %(name)s") % {"name": journey.name}
    return TemplateResponse(
        request,
        "journeys/admin/journey_report.html",
        {
            "report": report,
            "funnel": funnel_svg(journey_funnel(report)),
            "window": duration_label(journey.window_amount, journey.window_unit),
            **admin_header(
                title,
                {"url": reverse("personalization_journey:list"), "label": _("Journeys")},
                {
                    "url": reverse("personalization_journey:edit", args=[journey.pk]),
                    "label": journey.name,
                },
                icon="mail",
                buttons=[
                    HeaderButton(
                        _("Edit"),
                        reverse("personalization_journey:edit", args=[journey.pk]),
                        icon_name="edit",
                    )
                ],
            ),
        },
    )


class StepsPanel(InlinePanel):
    """The journey's steps, each built with `JourneyStepForm` (its action's fields only)."""

    def get_form_options(self):
        options = super().get_form_options()
        formset = options["formsets"][self.relation_name]
        # Wagtail may have built a form already (to defer required fields on drafts): keep
        # its Meta, with our form as the base class.
        built = formset.get("form")
        deferred = getattr(getattr(built, "Meta", None), "defer_required_on_fields", None)
        extra = {"defer_required_on_fields": deferred} if deferred else {}
        formset["form"] = get_form_for_model(
            self.db_field.related_model, form_class=JourneyStepForm, **extra
        )
        return options


class JourneyViewSet(SnippetViewSet):
    """Journeys: trigger, optional segment, steps (delay + action), goal."""

    model = Journey
    icon = "mail"
    menu_label = gettext_lazy("Journeys")
    url_prefix = "personalization/journeys"
    url_namespace = "personalization_journey"
    list_display = ["name", "status", "trigger", "trigger_event", "updated_at"]
    list_filter = ["status", "trigger"]
    search_fields = ["name", "description"]
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [FieldPanel("name"), FieldPanel("description"), FieldPanel("status")],
                heading=gettext_lazy("Journey"),
            ),
            MultiFieldPanel(
                [
                    HelpPanel(
                        content=gettext_lazy(
                            "E.g. cart abandonment: “an event happens and another does not "
                            "follow”, add to cart, unless followed by purchase, window 2 hours."
                        )
                    ),
                    FieldPanel("trigger"),
                    FieldRowPanel([FieldPanel("trigger_event"), FieldPanel("trigger_name")]),
                    FieldPanel("follow_up_event"),
                    FieldRowPanel([FieldPanel("window_amount"), FieldPanel("window_unit")]),
                    FieldPanel("stock_threshold"),
                    FieldPanel("price_drop_percent"),
                    FieldPanel("segment"),
                ],
                heading=gettext_lazy("Who enters, and when"),
            ),
            StepsPanel(
                "steps",
                label=gettext_lazy("Step"),
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
                heading=gettext_lazy("Conversion"),
            ),
        ],
        base_form_class=JourneyForm,
    )

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("report/<int:pk>/", journey_report_view, name="report"),
        ]


class EmailTemplateViewSet(SnippetViewSet):
    """Editor-written emails, checked for template syntax on save."""

    model = EmailTemplate
    icon = "doc-full"
    menu_label = gettext_lazy("Email templates")
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
            _("Report"),
            reverse("personalization_journey:report", args=[snippet.pk]),
            icon_name="table",
            priority=15,
        )


@hooks.register("register_admin_viewset")
def background_jobs_page():
    """Queues, failed jobs and periodic jobs as a Wagtail page (was django-rq's Django-admin
    dashboard); it lives in the core, registered here where the menu item always was."""
    return BackgroundJobsViewSet()

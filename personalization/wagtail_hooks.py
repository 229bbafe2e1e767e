"""Admin for personalization (segments, saved groups, attribute reference, explain), the
"Personalization" menu and the periodic jobs panel.

Apps above the core add their viewsets to the menu with the `register_personalization_viewsets`
hook (a function returning viewset classes), so the core imports none of them."""

from __future__ import annotations

from django import forms
from django.urls import path, reverse
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    HelpPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
    Panel,
)
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.admin.widgets.button import ListingButton
from wagtail.snippets.views.snippets import SnippetViewSet

from personalization import admin_views, segment_views
from personalization.forms import (
    SegmentAdminForm,
    SegmentRuleAttributeSelect,
    SegmentRuleOperatorSelect,
    SegmentRuleValueInput,
    rule_builder_attributes,
)
from personalization.models import SavedGroup, Segment
from personalization.periodic_panel import PeriodicJobsPanel
from personalization.sentences import condition_sentence
from personalization.templatetags.admin_format import admin_datetime


def _size(segment: Segment) -> str:
    """ "52 (12 members) · 1 May 2025, 09:30": the saved count and when it was made (the
    admin's one date-time format)."""
    if segment.size is None:
        return _("not counted yet")
    counted = admin_datetime(segment.size_computed_at)
    return _("%(size)s (%(members)s members) · %(counted)s") % {
        "size": segment.size,
        "members": segment.size_members,
        "counted": counted,
    }


def _summary(segment: Segment) -> str:
    """Who the segment holds, in one line of words (rules or JSON alike: the same sentences as
    the explain page), clipped when very long."""
    text = condition_sentence(segment.condition)
    text = text[:1].upper() + text[1:]
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


class EnabledColumn(BooleanColumn):
    """Enabled as a tick or a cross, titled in words."""

    cell_template_name = "personalization/admin/tables/enabled_cell.html"


class SegmentReachPanel(Panel):
    """Under the rules: who they reach now, updated as the editor changes them (the browser
    posts the form to the estimate endpoint), and what the rows' typed inputs need to know."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "personalization/admin/panels/segment_reach.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context["estimate_url"] = reverse("personalization_segment:estimate")
            context["attributes"] = rule_builder_attributes()
            return context

        @property
        def media(self):
            return SegmentRuleValueInput().media


SUMMARY_CHARS = 120


def _rules_help() -> SafeString:
    """The rule builder's help, in the editor's language (built when the form is drawn)."""
    return format_html(
        '{} <a href="{}" target="_blank">{}</a>',
        _(
            "Build the condition from rules: each rule tests one attribute of "
            "the visitor, and offers only the comparisons that fit it."
        ),
        "/admin/personalization/attributes/",
        _("All attributes"),
    )


class SegmentViewSet(SnippetViewSet):
    """Segments: name, persona, priority and the rule builder."""

    model = Segment
    icon = "group"
    menu_label = gettext_lazy("Segments")
    url_prefix = "personalization/segments"
    url_namespace = "personalization_segment"
    list_display = [
        "name",
        Column("rules_summary", label=gettext_lazy("Who"), accessor=_summary),
        EnabledColumn("enabled", label=gettext_lazy("Enabled")),
        "priority",
        Column("size_display", label=gettext_lazy("Size"), accessor=_size),
    ]
    list_filter = ["enabled"]
    search_fields = ["name", "description"]
    edit_handler_panels = [
        MultiFieldPanel(
            [
                FieldPanel("name"),
                FieldPanel("slug"),
                FieldPanel("description"),
                FieldRowPanel([FieldPanel("priority"), FieldPanel("enabled")]),
            ],
            heading=gettext_lazy("Segment"),
        ),
        MultiFieldPanel(
            [FieldPanel("persona_text"), FieldPanel("persona_image")],
            heading=gettext_lazy("Persona"),
        ),
        MultiFieldPanel(
            [
                HelpPanel(content=lazy(_rules_help, SafeString)()),
                FieldPanel("match"),
                InlinePanel(
                    "rules",
                    label=gettext_lazy("Rule"),
                    panels=[
                        FieldRowPanel(
                            [
                                FieldPanel(
                                    "attribute",
                                    widget=SegmentRuleAttributeSelect(),
                                    heading=gettext_lazy("Attribute"),
                                ),
                                FieldPanel(
                                    "operator",
                                    widget=SegmentRuleOperatorSelect(),
                                    heading=gettext_lazy("Operator"),
                                ),
                                FieldPanel(
                                    "value",
                                    widget=SegmentRuleValueInput(),
                                    heading=gettext_lazy("Value"),
                                ),
                            ],
                            classname="segment-rule-row",
                        )
                    ],
                ),
                SegmentReachPanel(heading=gettext_lazy("Reach")),
            ],
            heading=gettext_lazy("Who is in this segment"),
        ),
        MultiFieldPanel(
            [FieldPanel("advanced"), FieldPanel("condition")],
            heading=gettext_lazy("Advanced: JSON condition"),
            classname="collapsed",
        ),
    ]
    edit_handler = ObjectList(edit_handler_panels, base_form_class=SegmentAdminForm)

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("size/<int:pk>/", admin_views.recompute_segment_size, name="size"),
            path("estimate/", segment_views.segment_reach_estimate, name="estimate"),
        ]


Segment.size_display = property(_size)
Segment.size_display.fget.short_description = gettext_lazy("Size")


class LinesField(forms.Field):
    """A list of strings edited as one value per line (emails lower-cased, duplicates dropped)."""

    widget = forms.Textarea(attrs={"rows": 10})
    max_values = 100_000

    def prepare_value(self, value):
        return "\n".join(map(str, value)) if isinstance(value, list) else value

    def to_python(self, value) -> list[str]:
        lines = [line.strip() for line in str(value or "").splitlines()]
        values = list(dict.fromkeys(v.lower() if "@" in v else v for v in lines if v))
        if len(values) > self.max_values:
            raise forms.ValidationError(
                _("At most %(count)s values per group.") % {"count": f"{self.max_values:,}"}
            )
        return values


class SavedGroupForm(WagtailAdminModelForm):
    values = LinesField(
        label=gettext_lazy("Values"),
        required=False,
        help_text=gettext_lazy(
            "One id per line, e.g. member emails; use with the 'is in group' JSON operator."
        ),
    )


class SavedGroupViewSet(SnippetViewSet):
    model = SavedGroup
    icon = "list-ul"
    menu_label = gettext_lazy("Saved groups")
    url_prefix = "personalization/saved-groups"
    url_namespace = "personalization_saved_group"
    list_display = ["name", "key", "updated_at"]
    edit_handler = ObjectList(
        [FieldPanel("name"), FieldPanel("key"), FieldPanel("description"), FieldPanel("values")],
        base_form_class=SavedGroupForm,
    )


class AttributeReferenceViewSet(ViewSet):
    name = "personalization_attributes"
    url_prefix = "personalization/attributes"
    icon = "help"
    menu_label = gettext_lazy("Attributes")

    def get_urlpatterns(self):
        return [path("", admin_views.attribute_reference, name="index")]


class ExplainViewSet(ViewSet):
    name = "personalization_explain"
    url_prefix = "personalization/explain"
    icon = "search"
    menu_label = gettext_lazy("Explain a visitor")

    def get_urlpatterns(self):
        return [path("", admin_views.explain_visitor, name="index")]


PERSONALIZATION_VIEWSETS_HOOK = "register_personalization_viewsets"


class PersonalizationGroup(ViewSetGroup):
    menu_label = gettext_lazy("Personalization")
    menu_icon = "group"
    menu_order = 200
    items = (SegmentViewSet, SavedGroupViewSet, AttributeReferenceViewSet, ExplainViewSet)

    def __init__(self) -> None:
        added = [
            viewset for hook in hooks.get_hooks(PERSONALIZATION_VIEWSETS_HOOK) for viewset in hook()
        ]
        self.items = (*type(self).items, *added)
        super().__init__()


@hooks.register("register_snippet_listing_buttons")
def segment_size_button(snippet, user, next_url=None):
    """A "Size" entry in each segment's actions menu."""
    if isinstance(snippet, Segment):
        yield ListingButton(
            _("Size and recount"),
            reverse("personalization_segment:size", args=[snippet.pk]),
            icon_name="group",
            priority=15,
        )


@hooks.register("register_admin_viewset")
def register_personalization_admin():
    return PersonalizationGroup()


@hooks.register("construct_homepage_panels")
def add_periodic_jobs_panel(request, panels):
    """Administrators see on the dashboard when each periodic job last ran, and what is late."""
    if request.user.is_superuser:
        panels.append(PeriodicJobsPanel())

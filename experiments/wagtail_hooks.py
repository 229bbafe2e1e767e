"""Experiments in the Wagtail admin (with the pages that use each one, and the variants the
page editor's A/B blocks offer), and page-level experiments on the site."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
    PageChooserPanel,
    Panel,
)
from wagtail.admin.widgets.button import ListingButton
from wagtail.snippets.views.snippets import EditView, SnippetViewSet, SnippetViewSetGroup

from experiments import admin_views
from experiments.forms import ExperimentAdminForm
from experiments.holdout_admin import HoldoutReportViewSet, HoldoutViewSet
from experiments.layer_admin import LayerViewSet
from experiments.models import Experiment, ExperimentKind
from experiments.services import page_variant
from experiments.usage import pages_using, variant_choices


class ExperimentPagesPanel(Panel):
    """The pages that use the experiment, live or as a draft, each linked to its editor, and
    how a page disagrees with the experiment's variants."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "experiments/admin/pages_using_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            experiment = self.instance
            context["experiment"] = experiment
            context["pages_using"] = pages_using(experiment=experiment) if experiment.pk else []
            return context


def variant_choices_view(request):
    """The variants of `?experiment=<key>` for the A/B block's variant select (JSON)."""
    choices = variant_choices(key=request.GET.get("experiment", ""))
    if choices is None:
        return JsonResponse({"detail": _("No experiment with this key.")}, status=404)
    return JsonResponse(choices)


class ExperimentEditView(EditView):
    """A holdout opened by an A/B experiment's address is edited on its own form."""

    def dispatch(self, request, *args, **kwargs):
        kind = Experiment.objects.filter(pk=kwargs.get("pk")).values_list("kind", flat=True)
        if kind.first() == ExperimentKind.HOLDOUT:
            return redirect("experiments_holdout:edit", kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)


class ExperimentViewSet(SnippetViewSet):
    """Experiments: variants, goals, targeting, and the report."""

    model = Experiment
    edit_view_class = ExperimentEditView
    icon = "pick"
    menu_label = _("Experiments")
    url_prefix = "experiments"
    url_namespace = "experiments_experiment"
    list_display = ["name", "key", "status", "started_at", "stopped_at"]
    list_filter = ["status"]
    search_fields = ["name", "key"]
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [
                    FieldPanel("name"),
                    FieldPanel("key"),
                    FieldPanel("hypothesis"),
                    FieldPanel("status", read_only=True),
                ],
                heading=_("Experiment"),
            ),
            MultiFieldPanel(
                [
                    InlinePanel(
                        "variants",
                        label=_("Variant"),
                        panels=[
                            FieldRowPanel([FieldPanel("name"), FieldPanel("weight")]),
                            FieldPanel("revision"),
                        ],
                    )
                ],
                heading=_("Variants (the first is the control; weights add up to 100 %)"),
            ),
            MultiFieldPanel(
                [
                    InlinePanel(
                        "goals",
                        label=_("Goal"),
                        panels=[
                            FieldRowPanel([FieldPanel("name"), FieldPanel("is_primary")]),
                            FieldRowPanel(
                                [FieldPanel("is_guardrail"), FieldPanel("harm_direction")]
                            ),
                            FieldPanel("kind"),
                            FieldRowPanel(
                                [PageChooserPanel("page"), FieldPanel("include_descendants")]
                            ),
                            FieldRowPanel([FieldPanel("event_type"), FieldPanel("min_amount")]),
                            FieldPanel("custom_name"),
                        ],
                    )
                ],
                heading=_("Goals"),
            ),
            MultiFieldPanel(
                [FieldRowPanel([FieldPanel("owner"), FieldPanel("pause_on_harm")])],
                heading=_("Owner and guardrails"),
            ),
            MultiFieldPanel(
                [
                    FieldPanel("analysis"),
                    FieldRowPanel([FieldPanel("alpha"), FieldPanel("correction")]),
                    FieldRowPanel(
                        [
                            FieldPanel("baseline_rate"),
                            FieldPanel("minimum_detectable_effect"),
                            FieldPanel("power"),
                        ]
                    ),
                    FieldPanel("planned_sample_size"),
                    FieldPanel("cuped_window_days"),
                ],
                heading=_("Analysis"),
            ),
            MultiFieldPanel(
                [
                    FieldPanel("target_segments"),
                    FieldPanel("coverage"),
                    PageChooserPanel("page"),
                    FieldPanel("hash_seed"),
                ],
                heading=_("Who takes part"),
            ),
            MultiFieldPanel(
                [
                    FieldPanel("layer"),
                    FieldRowPanel(
                        [
                            FieldPanel("layer_share"),
                            FieldPanel("namespace_start"),
                            FieldPanel("namespace_end"),
                        ]
                    ),
                    FieldPanel("allocation"),
                    FieldRowPanel(
                        [
                            FieldPanel("bandit_burn_in"),
                            FieldPanel("bandit_floor"),
                            FieldPanel("bandit_interval_minutes"),
                        ]
                    ),
                ],
                heading=_("Layer and allocation"),
            ),
            ExperimentPagesPanel(heading=_("Pages using this experiment")),
        ],
        base_form_class=ExperimentAdminForm,
    )

    def get_queryset(self, request):
        """A/B tests only: holdouts have their own list (Personalization → Holdouts)."""
        return Experiment.objects.exclude(kind=ExperimentKind.HOLDOUT)

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("variants/", variant_choices_view, name="variant_choices"),
            path("report/<int:pk>/", admin_views.report, name="report"),
            path("report/<int:pk>/csv/", admin_views.report_csv, name="csv"),
            path("report/<int:pk>/refresh/", admin_views.refresh, name="refresh"),
            path("report/<int:pk>/winner/", admin_views.declare_winner, name="winner"),
            path("report/<int:pk>/<slug:action>/", admin_views.transition, name="transition"),
        ]


class ExperimentsGroup(SnippetViewSetGroup):
    """The Experiments menu: the experiments, and the layers that keep some apart."""

    menu_label = _("Experiments")
    menu_icon = "pick"
    menu_order = 210
    items = (ExperimentViewSet, LayerViewSet)


@hooks.register("register_admin_viewset")
def register_experiments_admin():
    return ExperimentsGroup()


@hooks.register("register_personalization_viewsets")
def holdouts_in_the_personalization_menu():
    """Holdouts and "Is personalization working?" under Personalization."""
    return [HoldoutViewSet, HoldoutReportViewSet]


@hooks.register("register_snippet_listing_buttons")
def experiment_report_button(snippet, user, next_url=None):
    if isinstance(snippet, Experiment):
        yield ListingButton(
            _("Report"),
            reverse("experiments_experiment:report", args=[snippet.pk]),
            icon_name="view",
            priority=5,
        )


@hooks.register("before_serve_page", order=110)
def serve_page_level_variant(page, request, serve_args, serve_kwargs):
    """A page-level experiment serves the variant's revision to that variant's visitors."""
    if getattr(request, "is_preview", False):
        return None
    variant_page, choice = page_variant(request, page)
    if variant_page is page:
        return None
    return variant_page.serve(request, *serve_args, **serve_kwargs)

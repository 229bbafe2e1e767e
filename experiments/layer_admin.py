"""Layers in the admin (Experiments → Layers): a layer's name and key, and on its edit view the
experiments that take a slice of it, with the room left.

Experiments join a layer from their own form (`experiments.allocation_form`); a layer that
experiments use cannot be deleted (the foreign key protects it)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.panels import FieldPanel, ObjectList, Panel
from wagtail.snippets.views.snippets import DeleteView, SnippetViewSet

from experiments.allocation_form import free_gaps, slice_label
from experiments.models import Experiment, ExperimentStatus, Layer


def layer_slices(*, layer: Layer) -> dict:
    """The layer's experiments (slice, status, whether it still holds its slice) and the free
    room left by those not completed."""
    experiments = list(
        Experiment.objects.filter(layer=layer)
        .order_by("namespace_start", "pk")
        .only("name", "key", "status", "namespace_start", "namespace_end")
    )
    holding = [e for e in experiments if e.status != ExperimentStatus.COMPLETED]
    rows = [
        {
            "experiment": e,
            "url": reverse("experiments_experiment:edit", args=[e.pk]),
            "slice": slice_label(e.namespace_start, e.namespace_end),
            "holds": e.status != ExperimentStatus.COMPLETED,
        }
        for e in experiments
    ]
    gaps = free_gaps([(e.namespace_start, e.namespace_end, e.name) for e in holding])
    return {"rows": rows, "free": [slice_label(start, end) for start, end in gaps]}


class LayerSlicesPanel(Panel):
    """The experiments taking a slice of this layer, and the free room."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "experiments/admin/layer_slices_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context["layer"] = self.instance
            context["slices"] = layer_slices(layer=self.instance) if self.instance.pk else None
            return context


class LayerDeleteView(DeleteView):
    """Deleting a layer that experiments use is refused with their names (the foreign key
    protects it), rather than a server error."""

    def form_valid(self, form):
        names = list(self.object.experiments.order_by("name").values_list("name", flat=True))
        if names:
            messages.error(
                self.request,
                _(
                    "The layer “%(layer)s” cannot be deleted: these experiments use it: "
                    "%(names)s. Delete them or take them out of the layer first."
                )
                % {"layer": self.object.name, "names": ", ".join(names)},
            )
            return redirect("experiments_layer:edit", self.object.pk)
        return super().form_valid(form)


class LayerViewSet(SnippetViewSet):
    """Layers of mutually exclusive experiments (GrowthBook's namespaces)."""

    model = Layer
    icon = "table"
    menu_label = gettext_lazy("Layers")
    url_prefix = "experiments/layers"
    url_namespace = "experiments_layer"
    list_display = ["name", "key", "description"]
    search_fields = ["name", "key"]
    delete_view_class = LayerDeleteView
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldPanel("key"),
            FieldPanel("description"),
            LayerSlicesPanel(heading=gettext_lazy("Experiments in this layer")),
        ]
    )

"""The A/B block's variant field: a select of the chosen experiment's own variants, never free
text. Its options are loaded from the admin for the experiment chosen in the same block
(`static/js/experiment-variants.js`, through a telepath adapter) and follow it when the editor
chooses another experiment; the value stored is the variant's key. The block itself, which
checks that its entries hold exactly the experiment's variants, is
`cms.personalized_blocks.ExperimentBlock`."""

from __future__ import annotations

from django import forms
from django.core.validators import MaxLengthValidator
from django.templatetags.static import static
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import blocks
from wagtail.admin.telepath import register
from wagtail.admin.telepath.widgets import WidgetAdapter

EXPERIMENT_SELECT_ATTRS = {"data-experiment-choice": ""}


class VariantSelect(forms.Select):
    """A select whose options are the variants of the experiment chosen beside it."""

    def __init__(self, attrs=None):
        super().__init__(
            attrs={"data-variant-select": "", **(attrs or {})},
            choices=[("", gettext_lazy("Choose the experiment first"))],
        )


class VariantSelectAdapter(WidgetAdapter):
    js_constructor = "cms.widgets.VariantSelect"

    def js_args(self, widget):
        return [
            widget.render("__NAME__", None, attrs={"id": "__ID__"}),
            {
                "url": reverse("experiments_experiment:variant_choices"),
                "choose": _("Choose a variant"),
                "chooseExperiment": _("Choose the experiment first"),
                "notAVariant": _("%(key)s — not a variant of this experiment"),
                "unavailable": _("The experiment's variants could not be loaded"),
            },
        ]

    @cached_property
    def media(self):
        return forms.Media(js=[static("js/experiment-variants.js")])


register(VariantSelectAdapter(), VariantSelect)


class VariantChoiceBlock(blocks.FieldBlock):
    """A variant of the block's experiment, stored by its key. Whether the key belongs to the
    experiment is the A/B block's check (it knows the experiment); here only its shape."""

    def __init__(self, required: bool = True, help_text=None, **kwargs):
        self.field = forms.CharField(
            required=required,
            help_text=help_text,
            widget=VariantSelect(),
            validators=[MaxLengthValidator(40)],  # (max_length would put maxlength on a select)
        )
        super().__init__(**kwargs)

    class Meta:
        icon = "pick"

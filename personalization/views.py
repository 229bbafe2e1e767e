"""Site endpoints of personalization: the two-question profile form."""

from __future__ import annotations

from django import forms
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from personalization.choices import PetType
from personalization.middleware import writable_visitor
from personalization.names import name_clean
from personalization.services import visitor_declare_traits


class TraitsForm(forms.Form):
    """Name and pet type, as an anonymous visitor declares them."""

    name = forms.CharField(
        label=_("Your name"),
        max_length=60,
        error_messages={"required": _("Please tell us your name.")},
    )
    pet = forms.ChoiceField(label=_("Your pet"), choices=PetType.choices)
    next = forms.CharField(required=False, max_length=2000)

    def clean_name(self) -> str:
        return name_clean(self.cleaned_data["name"])


@require_POST
def declare_traits(request):
    """Store the answers as traits and go back to the page, now greeting the visitor by name."""
    form = TraitsForm(request.POST)
    if not form.is_valid():
        return render(request, "personalization/traits_invalid.html", {"form": form}, status=400)
    visitor = visitor_declare_traits(
        visitor_uuid=writable_visitor(request).uuid,
        user=request.user,
        name=form.cleaned_data["name"],
        pet=form.cleaned_data["pet"],
    )
    request.visitor_cookie_uuid = visitor.uuid
    target = form.cleaned_data["next"]
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(target if target and safe else "/")

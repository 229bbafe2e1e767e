"""Member account pages: sign-up, log-in/out, password reset and "my profile"."""

from __future__ import annotations

import math

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from cms.members.forms import LoginForm, ProfileForm, SignUpForm
from cms.members.services import (
    MemberAlreadyExists,
    member_create,
    member_language_remember,
    member_profile,
    member_profile_update,
)
from personalization.api.throttles import login_attempt_wait
from personalization.events.models import EventType
from personalization.events.services import event_payload, events_track


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    """Create a member account and log the new member in."""
    if request.user.is_authenticated:
        return redirect("account_profile")
    form = SignUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = member_create(
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                password=form.cleaned_data["password1"],
            )
        except MemberAlreadyExists:
            form.add_error("email", _("An account with this email already exists. Log in?"))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            events_track(
                [
                    event_payload(
                        visitor_uuid=request.visitor_uuid, user_id=user.pk, type=EventType.SIGN_UP
                    )
                ]
            )
            messages.success(request, _("Welcome to the club! Tell us a little about yourself."))
            return redirect("account_profile")
    status = 400 if request.method == "POST" else 200
    return render(request, "account/signup.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """Show and edit the member's own profile."""
    current = member_profile(user=request.user)
    initial = {
        "name": request.user.first_name,
        "birth_date": current.birth_date,
        "gender": current.gender,
        "region": current.region,
        "occupation": current.occupation,
        "pet_type": current.pet_type,
    }
    form = ProfileForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        member_profile_update(user=request.user, **form.cleaned_data)
        member_language_remember(user=request.user, language=translation.get_language())
        messages.success(request, _("Your profile has been saved."))
        return redirect("account_profile")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "account/profile.html", {"form": form, "profile": current}, status=status
    )


def too_many_attempts(wait: float) -> str:
    """What a member reads when the log-in limit stops them, in whole minutes (at least 1)."""
    minutes = max(1, math.ceil(wait / 60))
    return ngettext(
        "Too many log-in attempts. Try again in %(minutes)d minute.",
        "Too many log-in attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


class LoginView(auth_views.LoginView):
    """Log in by email; a failed attempt answers 400 with the form's message. Attempts count
    against the API's log-in limit, per address and per account: over it, 429 and no password
    is checked."""

    template_name = "account/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        wait = login_attempt_wait(request)
        if wait is None:
            return super().post(request, *args, **kwargs)
        form = self.get_form()
        form.refusal = too_many_attempts(wait)
        response = self.form_invalid(form)
        response.status_code = 429
        response["Retry-After"] = str(math.ceil(wait))
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class LogoutView(auth_views.LogoutView):
    template_name = "account/logged_out.html"


password_reset = auth_views.PasswordResetView.as_view(
    template_name="account/password_reset.html",
    email_template_name="account/password_reset_email.txt",
    subject_template_name="account/password_reset_subject.txt",
    success_url=reverse_lazy("account_password_reset_done"),
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="account/password_reset_done.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="account/password_reset_confirm.html",
    success_url=reverse_lazy("account_password_reset_complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="account/password_reset_complete.html"
)

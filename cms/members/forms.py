"""Member account forms: every field validated with a message a member can act on."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from cms.members.models import validate_birth_date
from personalization.choices import Gender, Occupation, PetType, Region
from personalization.names import name_clean

User = get_user_model()


class SignUpForm(forms.Form):
    """Join the club: name, email and a password typed twice."""

    name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(label=_("Email address"), max_length=254)
    password1 = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(
        label=_("Password (again)"), strip=False, widget=forms.PasswordInput
    )

    def clean_name(self) -> str:
        return name_clean(self.cleaned_data["name"])

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(username__iexact=email).exists():
            raise forms.ValidationError(_("An account with this email already exists. Log in?"))
        return email

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords do not match."))
        elif password1:
            candidate = User(username=cleaned.get("email", ""), first_name=cleaned.get("name", ""))
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class LoginForm(AuthenticationForm):
    """Log in with the email address used at sign-up. A form the view refused (`refusal`, the
    log-in limit) checks no password and shows that message."""

    username = forms.CharField(label=_("Email address"), max_length=254)
    refusal = ""
    error_messages = {
        **AuthenticationForm.error_messages,
        # Named like the field the member typed in (Django's own message says "username").
        "invalid_login": _(
            "Please enter a correct email address and password. Note that the password is "
            "case-sensitive."
        ),
    }

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()

    def clean(self):
        if self.refusal:
            raise forms.ValidationError(self.refusal, code="throttled")
        return super().clean()


class ProfileForm(forms.Form):
    """What a member tells us about themselves, used to personalise the site."""

    name = forms.CharField(label=_("Name"), max_length=150)
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_birth_date],
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices)
    region = forms.ChoiceField(
        label=_("Where you live"), choices=[("", "—")] + list(Region.choices), required=False
    )
    occupation = forms.ChoiceField(label=_("Occupation"), choices=Occupation.choices)
    pet_type = forms.ChoiceField(label=_("Your pet"), choices=PetType.choices)

    def clean_name(self) -> str:
        return name_clean(self.cleaned_data["name"])

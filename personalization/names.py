"""A person's name as they type it: one rule for members (sign-up, profile) and visitors (the
traits form and the visitor API), so a greeting never prints markup or template braces."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

FORBIDDEN = "<>{}"


def name_clean(value: str) -> str:
    """The name with its whitespace collapsed; ValidationError when empty or holding < > { }."""
    name = " ".join(str(value).split())
    if not name:
        raise ValidationError(_("Please tell us your name."), code="required")
    if any(ch in name for ch in FORBIDDEN):
        raise ValidationError(_("Names cannot contain < > { or }."), code="invalid")
    return name

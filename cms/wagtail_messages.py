"""Wagtail's own admin messages that Wagtail's Japanese catalogue does not translate, and that an
editor meets on every form (the Help menu beside ページ and 画像, the header's "New: …", the
unsaved-changes bar, the labels screen readers read out). They are translated in the project's
catalogue (locale/ja, which Django reads before Wagtail's); listing them here is what keeps
them there when `makemessages -l ja` updates it. Only messages Wagtail renders on the server:
those of its JavaScript ("Collapse all") come from its own JavaScript catalogue."""

from __future__ import annotations

from django.utils.translation import gettext_noop

WAGTAIL_MESSAGES = [
    gettext_noop("Help"),
    gettext_noop("Editor Guide"),
    gettext_noop("Shortcuts"),
    gettext_noop("New: %(model_name)s"),
    gettext_noop("To be created by %(user)s"),
    gettext_noop("Go to the first error"),
    gettext_noop("You have <span>unsaved edits</span>"),
    gettext_noop("Save your changes before leaving"),
    gettext_noop("Side panels"),
    gettext_noop("Side panel width"),
    gettext_noop("Actions (footer)"),
    gettext_noop("Close dialog"),
    gettext_noop("Toggle breadcrumbs"),
    gettext_noop("Toggle status"),
]

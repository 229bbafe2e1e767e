"""Wagtail's own admin messages that Wagtail's Japanese catalogue does not translate, and that an
editor meets on every form (the Help menu beside ページ and 画像, the header's "New: …", the
unsaved-changes bar, the labels screen readers read out). They are translated in the project's
catalogue (locale/ja, which Django reads before Wagtail's); listing them here is what keeps
them there when `makemessages -l ja` updates it. Only messages Wagtail renders on the server:
those of its JavaScript ("Collapse all") are in locale/ja/LC_MESSAGES/djangojs.po.

`TRANSLATION_MESSAGES`: the two translation apps the site uses (`wagtail.contrib.simple_translation`
and `wagtail.locales`) ship no Japanese at all."""

from __future__ import annotations

from django.utils.translation import gettext_noop, ngettext

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

TRANSLATION_MESSAGES = [
    gettext_noop("Wagtail simple translation"),
    gettext_noop("Select all"),
    gettext_noop("Locales"),
    gettext_noop("All child pages will be created."),
    gettext_noop("Can submit translations"),
    gettext_noop("Submit"),
    gettext_noop("Translate"),
    gettext_noop("%(locales_count)s locales"),
    gettext_noop("Translate page"),
    gettext_noop("The page '%(page_title)s' was successfully created in %(locales)s"),
    gettext_noop("Translate %(model_name)s"),
    gettext_noop("Successfully created %(locales)s for %(model_name)s '%(object)s'"),
    gettext_noop("Translate this page"),
    gettext_noop("Wagtail locales"),
    gettext_noop("Select a new language"),
    gettext_noop("This locale's language code is not supported"),
    gettext_noop("Back"),
    gettext_noop(
        "This locale's current language code is not supported. Please choose a new language or "
        "delete this locale."
    ),
    gettext_noop("%(num_pages)d pages and %(num_others)d others"),
    gettext_noop("Add a locale"),
    gettext_noop("Add locale"),
    gettext_noop("Locale '%(object)s' created."),
    gettext_noop("Locale '%(object)s' updated."),
    gettext_noop("The locale could not be saved due to errors."),
    gettext_noop("Locale '%(object)s' deleted."),
    gettext_noop("Delete locale"),
    gettext_noop("Are you sure you want to delete this locale?"),
    gettext_noop("This locale cannot be deleted because there are no other locales."),
    gettext_noop(
        "This locale cannot be deleted because there are pages and/or other objects using it."
    ),
]


def _translation_plurals() -> list[str]:
    """The plural messages of the same apps (never called: `makemessages` reads the calls)."""
    return [
        ngettext(
            "Include subtree (%(descendant_count)s page)",
            "Include subtree (%(descendant_count)s pages)",
            1,
        ),
        ngettext(
            "A locale is disabled because a parent page is not translated.",
            "Some locales are disabled because some parent pages are not translated.",
            1,
        ),
        ngettext("Translate the parent page.", "Translate the parent pages.", 1),
        ngettext("%(num_pages)d page", "%(num_pages)d pages", 1),
    ]

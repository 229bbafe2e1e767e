"""The site's two content locales, English and Japanese (WAGTAIL_CONTENT_LANGUAGES).

Only adds the Locale rows that are missing: an existing database keeps its pages on the locale
they were created in (Wagtail's first migration made one from LANGUAGE_CODE, "en")."""

from django.db import migrations

LANGUAGES = ("en", "ja")


def add_locales(apps, schema_editor):
    Locale = apps.get_model("wagtailcore", "Locale")
    for code in LANGUAGES:
        Locale.objects.get_or_create(language_code=code)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0008_i18n_offer_fallback_label"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [migrations.RunPython(add_locales, migrations.RunPython.noop)]

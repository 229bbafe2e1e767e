"""Revisions' usage records whether the page shows the shop's products (its cached renders then
follow the catalogue's version). Existing records of revisions holding a product list are
marked, found in the revision's stored content."""

import json
import re

from django.db import migrations, models

# A stream child of type "products" (the page body's product list block), in the revision's
# content, where StreamField values are stored as JSON text (quotes escaped) or as lists.
PRODUCT_LIST = re.compile(r'\\*"type\\*":\s*\\*"products\\*"')


def mark_product_lists(apps, schema_editor):
    RevisionPersonalization = apps.get_model("cms", "RevisionPersonalization")
    Revision = apps.get_model("wagtailcore", "Revision")
    marked = []
    rows = RevisionPersonalization.objects.values_list("pk", "revision_id").iterator()
    for pk, revision_id in rows:
        content = Revision.objects.filter(pk=revision_id).values_list("content", flat=True)
        text = json.dumps(content.first(), ensure_ascii=False)
        if PRODUCT_LIST.search(text):
            marked.append(pk)
    RevisionPersonalization.objects.filter(pk__in=marked).update(catalogue=True)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0011_recommendations_block"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.AddField(
            model_name="revisionpersonalization",
            name="catalogue",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(mark_product_lists, migrations.RunPython.noop),
    ]

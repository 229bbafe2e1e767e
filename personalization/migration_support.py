"""Operations shared by the migrations that moved models out of `personalization` (0007 there,
0001 of members, events and journeys). Kept stable: historical migrations import it."""

from __future__ import annotations

from django.db import migrations


def content_types_move(app_label: str, models: tuple[str, ...]) -> migrations.RunPython:
    """Relabel the moved models' content types from `personalization` to `app_label` in place,
    keeping their ids (and with them permissions, log entries, revisions). A content type
    already made for the new label (by a post-migrate run in between) gives way to the old one.
    Reversible."""

    def forwards(apps, schema_editor):
        content_types = apps.get_model("contenttypes", "ContentType").objects
        db = schema_editor.connection.alias
        for model in models:
            old = content_types.using(db).filter(app_label="personalization", model=model)
            if old.exists():
                content_types.using(db).filter(app_label=app_label, model=model).delete()
                old.update(app_label=app_label)

    def backwards(apps, schema_editor):
        content_types = apps.get_model("contenttypes", "ContentType").objects
        db = schema_editor.connection.alias
        content_types.using(db).filter(app_label=app_label, model__in=models).update(
            app_label="personalization"
        )

    return migrations.RunPython(forwards, backwards, elidable=False)

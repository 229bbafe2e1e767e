"""Experiment usage per page revision (issue 16 §1), and two data steps for pages saved before:

- variant entries of A/B blocks were typed by hand; an entry that names a variant of its
  experiment only up to case, spaces or slug form ("Discount" for "discount") now names it
  exactly, in the pages and in their live and latest revisions (ambiguous or unknown entries
  are left as they are: saving the page or starting the experiment names them);
- the usage table is filled from every page's live and latest revision.

The walk knows A/B blocks by their shape (a struct of `experiment` and a list of `variants`
whose items hold a `variant`), as the blocks frozen in migrations are plain Wagtail blocks."""

import json

from django.utils.text import slugify
from wagtail import blocks
from wagtail.fields import StreamField

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def _is_experiment_block(block):
    if not isinstance(block, blocks.StructBlock) or set(block.child_blocks) != {
        "experiment",
        "variants",
    }:
        return False
    variants = block.child_blocks["variants"]
    return isinstance(variants, blocks.ListBlock) and "variant" in getattr(
        variants.child_block, "child_blocks", {}
    )


def _walk(block, raw, path):
    """(block, raw value, path) for every block inside `raw`, depth first."""
    yield block, raw, path
    if isinstance(block, blocks.StreamBlock):
        for index, child in enumerate(raw if isinstance(raw, list) else []):
            if isinstance(child, dict) and child.get("type") in block.child_blocks:
                yield from _walk(
                    block.child_blocks[child["type"]],
                    child.get("value"),
                    f"{path}/{child.get('id') or index}",
                )
    elif isinstance(block, blocks.StructBlock):
        for name, child_block in block.child_blocks.items():
            if isinstance(raw, dict) and name in raw:
                yield from _walk(child_block, raw[name], f"{path}.{name}")
    elif isinstance(block, blocks.ListBlock):
        for index, item in enumerate(raw if isinstance(raw, list) else []):
            in_block_format = isinstance(item, dict) and item.get("type") == "item"
            value = item.get("value") if in_block_format else item
            item_id = item.get("id") if in_block_format else None
            yield from _walk(block.child_block, value, f"{path}/{item_id or index}")


def _entries(raw):
    """The variant entries (dicts holding "variant") of a raw A/B block value."""
    for item in raw.get("variants") or []:
        value = item.get("value", item) if isinstance(item, dict) else None
        if isinstance(value, dict):
            yield value


def _experiment_blocks(stream_block, raw, path):
    """(path, experiment key, entries) of each A/B block in a raw stream."""
    for block, value, block_path in _walk(stream_block, raw, path):
        if _is_experiment_block(block) and isinstance(value, dict) and value.get("experiment"):
            yield block_path, str(value["experiment"]), list(_entries(value))


def _exact_key(typed, keys):
    """The one variant key `typed` means up to case, spaces or slug form, else None."""
    if typed in keys:
        return typed
    text = str(typed or "").strip()
    matches = {k for k in keys if text and (k.lower() == text.lower() or k == slugify(text))}
    return matches.pop() if len(matches) == 1 else None


def _page_models(apps):
    for model in apps.get_models():
        if any(f.name == "page_ptr" for f in model._meta.get_fields()):
            stream_fields = [f for f in model._meta.get_fields() if isinstance(f, StreamField)]
            if stream_fields:
                yield model, stream_fields


def _variant_keys(apps):
    Variant = apps.get_model("experiments", "Variant")
    keys = {}
    for experiment_key, name in Variant.objects.order_by("sort_order", "pk").values_list(
        "experiment__key", "name"
    ):
        keys.setdefault(experiment_key, []).append(name)
    return keys


def _repair(stream_block, raw, field_name, keys):
    changed = False
    for _path, experiment_key, entries in _experiment_blocks(stream_block, raw, field_name):
        for entry in entries:
            exact = _exact_key(entry.get("variant"), keys.get(experiment_key, []))
            if exact is not None and exact != entry.get("variant"):
                entry["variant"] = exact
                changed = True
    return changed


def _revision_stream(content, name):
    value = content.get(name)
    return json.loads(value) if isinstance(value, str) else value


def repair_variant_names(apps, schema_editor):
    """Hand-typed variant entries that name a variant up to case/spaces/slug form name it exactly."""
    Revision = apps.get_model("wagtailcore", "Revision")
    keys = _variant_keys(apps)
    if not keys:
        return
    for model, stream_fields in _page_models(apps):
        for page in model.objects.all():
            page_changed = False
            for stream_field in stream_fields:
                raw = stream_field.get_prep_value(getattr(page, stream_field.attname)) or []
                if _repair(stream_field.stream_block, raw, stream_field.name, keys):
                    setattr(page, stream_field.attname, raw)
                    page_changed = True
            if page_changed:
                page.save(update_fields=[f.attname for f in stream_fields])
            revision_ids = {page.live_revision_id, page.latest_revision_id} - {None}
            for revision in Revision.objects.filter(pk__in=revision_ids):
                revision_changed = False
                for stream_field in stream_fields:
                    raw = _revision_stream(revision.content, stream_field.name)
                    if raw and _repair(stream_field.stream_block, raw, stream_field.name, keys):
                        revision.content[stream_field.name] = json.dumps(raw)
                        revision_changed = True
                if revision_changed:
                    revision.save(update_fields=["content"])


def record_usage(apps, schema_editor):
    """Fill the usage table from every page's live and latest revision."""
    Revision = apps.get_model("wagtailcore", "Revision")
    ExperimentUsage = apps.get_model("experiments", "ExperimentUsage")
    rows = []
    for model, stream_fields in _page_models(apps):
        for page in model.objects.all():
            revision_ids = {page.live_revision_id, page.latest_revision_id} - {None}
            for revision in Revision.objects.filter(pk__in=revision_ids):
                for stream_field in stream_fields:
                    raw = _revision_stream(revision.content, stream_field.name) or []
                    for path, experiment_key, entries in _experiment_blocks(
                        stream_field.stream_block, raw, stream_field.name
                    ):
                        rows.append(
                            ExperimentUsage(
                                revision_id=revision.pk,
                                page_id=page.pk,
                                experiment_key=experiment_key,
                                block_path=path,
                                variant_keys=[str(e.get("variant") or "") for e in entries],
                            )
                        )
    ExperimentUsage.objects.bulk_create(rows, ignore_conflicts=True)



class Migration(migrations.Migration):

    dependencies = [
        ('experiments', '0002_analysis_settings_and_cuped'),
        ('cms', '0004_body_block_definitions'),
        ('wagtailcore', '0098_apitoken'),
        migrations.swappable_dependency(settings.WAGTAIL_PAGE_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ExperimentUsage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('experiment_key', models.CharField(max_length=64)),
                ('block_path', models.TextField(help_text='Where the block is: field/block id/… inside the page.')),
                ('variant_keys', models.JSONField(blank=True, default=list)),
                ('recorded_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('page', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.WAGTAIL_PAGE_MODEL)),
                ('revision', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='experiment_usages', to='wagtailcore.revision')),
            ],
            options={
                'indexes': [models.Index(fields=['experiment_key', 'page'], name='experiments_experim_99ca2e_idx')],
                'constraints': [models.UniqueConstraint(fields=('revision', 'block_path'), name='unique_experiment_usage')],
            },
        ),
        migrations.RunPython(repair_variant_names, migrations.RunPython.noop),
        migrations.RunPython(record_usage, migrations.RunPython.noop),
    ]

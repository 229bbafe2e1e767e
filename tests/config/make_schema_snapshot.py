"""Write tests/config/data/schema-2026-12-01.json.gz: a database at the schema of commit dabb260
(the last layout before issue 15 moved models out of `personalization`) with the demo loaded,
plus rows the demo lacks so every model of the moving apps has some: visitors (one merged, one
erased), events of seven kinds, an anonymous visitor's consent, journey entries and messages, the
messaging settings, periodic job runs, experiment exposures and aggregates, Wagtail log entries
of snippets, and group and user permissions on personalization models.

The rows are read with raw SQL, not `dumpdata`: app labels change after the move, so the
snapshot must not depend on model code. `test_data_migration.py` loads it into a database
migrated to the recorded migrations, migrates to the current layout and compares every row.

It runs against the code of that commit, never the current tree:

    git worktree add /tmp/schema-snapshot dabb260
    cd /tmp/schema-snapshot
    DATABASE_URL=sqlite:////tmp/schema-snapshot.sqlite3 JOBS_INLINE_MODE=immediate \\
        DJANGO_EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend \\
        <repo>/.venv/bin/python <repo>/tests/config/make_schema_snapshot.py \\
        <repo>/tests/config/data/schema-2026-12-01.json.gz
    cd <repo> && git worktree remove /tmp/schema-snapshot && rm /tmp/schema-snapshot.sqlite3*

DATABASE_URL must name a SQLite file that does not exist yet (no REDIS_URL: jobs run inline).
Timestamps come from the moment it runs, so a rerun writes different values, not different rows.
"""

from __future__ import annotations

import datetime
import os
import sys
import uuid
from pathlib import Path

# The project is the current directory (a worktree at dabb260); `schema_snapshot` sits beside
# this script, which Python puts on sys.path first.
sys.path.insert(1, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import schema_snapshot  # noqa: E402

COMMIT = "dabb260"
# The search index: derived from the stored rows and backend-specific (SQLite's full-text table
# vs PostgreSQL's tsvector columns), rebuilt by `update_index`, so not carried by the snapshot.
SKIPPED_TABLES = {"wagtailsearch_indexentry", "wagtailsearch_indexentry_fts"}

VISITOR_HANAKO = uuid.UUID("00000000-0000-4000-8000-00000000a001")
VISITOR_TARO = uuid.UUID("00000000-0000-4000-8000-00000000a002")
VISITOR_TARO_PHONE = uuid.UUID("00000000-0000-4000-8000-00000000a003")
VISITOR_ANONYMOUS = uuid.UUID("00000000-0000-4000-8000-00000000a004")
VISITOR_ERASED = uuid.UUID("00000000-0000-4000-8000-00000000a005")


def main(out: Path) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    database = Path(settings.DATABASES["default"]["NAME"])
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3" or database.exists():
        sys.exit(f"DATABASE_URL must name a SQLite file that does not exist yet ({database}).")
    if settings.REDIS_URL:
        sys.exit("Unset REDIS_URL: the snapshot's jobs run inline.")
    call_command("migrate", verbosity=0)
    call_command("load_demo", "--no-progress", verbosity=0)
    add_rows_the_demo_lacks()
    snapshot = dump()
    schema_snapshot.write(out, snapshot)
    counts = {table: len(t["rows"]) for table, t in snapshot["tables"].items()}
    empty = sorted(table for table, count in counts.items() if count == 0)
    print(f"{out}: {len(counts)} tables, {sum(counts.values())} rows, {out.stat().st_size} bytes")
    print("empty:", ", ".join(empty))


def add_rows_the_demo_lacks() -> None:
    """Through the services a running site uses, so the rows look like a real site's."""
    add_visitors_and_events()
    add_privacy_rows()
    add_periodic_runs()
    add_admin_rows()


def _events(now: datetime.datetime) -> list[dict]:
    from django.contrib.auth import get_user_model
    from wagtail.models import Page

    from personalization.services import event_payload

    users = get_user_model().objects
    hanako = users.get(username="hanako@example.com")
    taro = users.get(username="taro@example.com")
    home = Page.objects.get(depth=2)
    dogs = Page.objects.filter(depth=3).order_by("path").first()
    ago = lambda **delta: now - datetime.timedelta(**delta)  # noqa: E731
    cart = {"sku": "FOOD-DOG-2KG", "name": "Dog food 2 kg", "price": 2480, "category": "food"}
    return [
        event_payload(
            visitor_uuid=VISITOR_HANAKO,
            user_id=hanako.pk,
            type="page_view",
            page_id=home.pk,
            occurred_at=ago(days=3),
            idempotency_key="hanako-1",
        ),
        event_payload(
            visitor_uuid=VISITOR_HANAKO,
            user_id=hanako.pk,
            type="page_view",
            page_id=dogs.pk,
            section=dogs.slug,
            occurred_at=ago(days=3, minutes=-2),
        ),
        event_payload(
            visitor_uuid=VISITOR_HANAKO,
            user_id=hanako.pk,
            type="add_to_cart",
            properties=cart,
            occurred_at=ago(days=2),
        ),
        event_payload(
            visitor_uuid=VISITOR_HANAKO,
            user_id=hanako.pk,
            type="purchase",
            properties={"amount": 2480, "items": [cart]},
            occurred_at=ago(days=2, hours=-1),
        ),
        event_payload(
            visitor_uuid=VISITOR_HANAKO,
            user_id=hanako.pk,
            type="goal",
            name="newsletter",
            occurred_at=ago(days=1),
        ),
        event_payload(
            visitor_uuid=VISITOR_HANAKO,
            user_id=hanako.pk,
            type="offer_impression",
            name="spring-sale",
            occurred_at=ago(days=1, minutes=-5),
        ),
        event_payload(
            visitor_uuid=VISITOR_TARO, user_id=taro.pk, type="sign_up", occurred_at=ago(days=2)
        ),
        event_payload(
            visitor_uuid=VISITOR_TARO,
            user_id=taro.pk,
            type="add_to_cart",
            properties={
                **cart,
                "sku": "TOY-ROPE",
                "name": "ロープのおもちゃ",
                "price": 880,
                "category": "toys",
            },
            occurred_at=ago(days=1, hours=4),
        ),
        event_payload(
            visitor_uuid=VISITOR_TARO_PHONE,
            type="page_view",
            page_id=home.pk,
            anonymous=True,
            occurred_at=ago(hours=5),
        ),
        event_payload(
            visitor_uuid=VISITOR_ANONYMOUS,
            type="page_view",
            page_id=dogs.pk,
            section=dogs.slug,
            anonymous=True,
            occurred_at=ago(hours=3),
        ),
        event_payload(
            visitor_uuid=VISITOR_ANONYMOUS,
            type="remove_from_cart",
            anonymous=True,
            properties={"sku": "TOY-ROPE"},
            occurred_at=ago(hours=2, minutes=50),
        ),
        event_payload(
            visitor_uuid=VISITOR_ERASED,
            type="page_view",
            page_id=home.pk,
            anonymous=True,
            occurred_at=ago(hours=2),
        ),
    ]


def add_visitors_and_events() -> None:
    """Events stored by the pipeline (rollups, journey entries, experiment exposures follow),
    a phone's visitor merged at log-in, a visitor erased, journeys run to send messages."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from experiments.models import Experiment
    from experiments.services import exposure_record
    from personalization.journeys import journeys_evaluate
    from personalization.models import Segment, Visitor
    from personalization.services import events_ingest, visitor_erase, visitor_log_in

    now = timezone.now()
    events_ingest(payloads=_events(now))
    taro = get_user_model().objects.get(username="taro@example.com")
    visitor_log_in(user=taro, anonymous_uuid=VISITOR_TARO_PHONE)
    experiment = Experiment.objects.get(key="home-hero")
    control, challenger = experiment.variants.order_by("sort_order")
    segments = list(Segment.objects.order_by("pk").values_list("pk", flat=True)[:2])
    exposed = [
        (VISITOR_HANAKO, control, segments),
        (VISITOR_TARO, challenger, segments[:1]),
        (VISITOR_ANONYMOUS, challenger, []),
    ]
    for visitor_uuid, variant, segment_ids in exposed:
        visitor = Visitor.objects.get(uuid=visitor_uuid)
        exposure_record(
            experiment_id=experiment.pk,
            variant_id=variant.pk,
            visitor=str(visitor_uuid),
            user_id=visitor.user_id,
            segment_ids=segment_ids,
            at=(now - datetime.timedelta(days=4)).isoformat(),
        )
    experiment.target_segments.set(segments[:1])
    # The cart-abandonment email is due two hours after the add-to-cart, its on-site reminder a
    # day later: evaluating at both times sends both.
    journeys_evaluate(now=now)
    journeys_evaluate(now=now + datetime.timedelta(days=1, hours=1))
    visitor_erase(visitor=Visitor.objects.get(uuid=VISITOR_ERASED))


def add_privacy_rows() -> None:
    """An anonymous visitor's consent (members already have theirs from the demo), and a
    member who unsubscribed."""
    from django.contrib.auth import get_user_model

    from personalization.consent import consent_unsubscribe, consent_update

    consent_update(
        visitor_uuid=VISITOR_ANONYMOUS,
        user=None,
        analytics=True,
        personalization=False,
        marketing=False,
    )
    kenji = get_user_model().objects.get(username="kenji@example.com")
    consent_unsubscribe(visitor_uuid=None, user_id=kenji.pk)


def add_periodic_runs() -> None:
    from personalization.periodic import periodic_job_run

    for name in ("segment-sizes", "experiment-aggregates", "journeys-evaluate"):
        periodic_job_run(name)


def add_admin_rows() -> None:
    """What editors leave: messaging settings saved, a saved group, log entries on snippets,
    and permissions on personalization models (tied to content types, the classic casualty of
    a model move)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from wagtail.log_actions import log

    from personalization.models import EmailTemplate, Journey, MessagingSettings, SavedGroup

    admin = get_user_model().objects.get(username="admin")
    messaging = MessagingSettings.load()
    messaging.max_per_week = 2
    messaging.save()
    group = SavedGroup.objects.create(
        key="vip", name="VIP members", values=["hanako@example.com", "emma@example.com"]
    )
    log(instance=group, action="wagtail.create", user=admin)
    for journey in Journey.objects.order_by("pk")[:2]:
        log(instance=journey, action="wagtail.edit", user=admin)
    log(instance=EmailTemplate.objects.order_by("pk").first(), action="wagtail.edit", user=admin)
    log(instance=messaging, action="wagtail.edit", user=admin)
    codenames = [
        "change_journey",
        "view_journey",
        "view_journeyentry",
        "change_emailtemplate",
        "view_consent",
        "change_consent",
        "view_memberprofile",
        "view_event",
    ]
    editors = Group.objects.get(name="Editors")
    editors.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="personalization", codename__in=codenames
        )
    )
    emma = get_user_model().objects.get(username="emma@example.com")
    emma.user_permissions.add(
        Permission.objects.get(content_type__app_label="personalization", codename="view_event")
    )


def _kinds(model) -> dict[str, str]:
    return {
        field.column: schema_snapshot.field_kind(field)
        for field in model._meta.local_concrete_fields
    }


def dump() -> dict:
    """Every table of the database's models, row by row, with raw SQL."""
    from django.apps import apps
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    models = {
        model._meta.db_table: model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }
    tables = {}
    existing = set(connection.introspection.table_names())
    for table in sorted(set(models) & existing - SKIPPED_TABLES):
        model = models[table]
        kinds = _kinds(model)
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            pk = model._meta.pk.column
            cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY {quote(pk)}")
            columns = [column[0] for column in cursor.description]
            rows = [
                [schema_snapshot.canonical(kinds[c], v) for c, v in zip(columns, row, strict=True)]
                for row in cursor.fetchall()
            ]
        tables[table] = {
            "pk": pk,
            "columns": columns,
            "kinds": [kinds[c] for c in columns],
            "rows": rows,
        }
    loader = MigrationLoader(connection)
    leaves = dict(loader.graph.leaf_nodes())
    unapplied = {
        app: name for app, name in leaves.items() if (app, name) not in loader.applied_migrations
    }
    assert not unapplied, f"apps not at their latest migration: {unapplied}"
    return {"commit": COMMIT, "migrations": leaves, "tables": tables}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]).resolve())

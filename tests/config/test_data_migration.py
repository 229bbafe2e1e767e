"""Existing databases migrate to the split apps of issue 15 with no data lost.

A database is migrated from empty to the migrations recorded in the snapshot (the schema of
commit dabb260, before the split, every app not in it left unapplied), filled with the
snapshot's rows (the demo plus rows of every model, see `make_schema_snapshot.py`), then
migrated to the latest migrations with `migrate`, as an operator would. Every row must then be
where the move put it, unchanged; moved models keep their content type ids, so permissions and
Wagtail log entries still name them.

The scratch database is the test's own (in memory on SQLite, `<test db name>_schema_move` on
PostgreSQL, dropped afterwards): it stands in as the default connection while migrating, because
migrations (Wagtail's among them) write to the default database; then the test database comes
back. The test database is not used, nor even created when this module runs alone.

`MOVES_LANDED` below says whether the moves are finished; `MOVED_MODELS` says where they go.
"""

from __future__ import annotations

import copy
import os
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import load_backend

from tests.config import schema_snapshot

SNAPSHOT = Path(__file__).parent / "data" / "schema-2026-12-01.json.gz"

# Where issue 15 moves each model: (app label, model) before → after. Tables follow Django's
# default name on both sides ("<app label>_<model>", renamed by AlterModelTable in the move's
# migration); content types keep their id and take the new app label.
MOVED_MODELS = {
    ("personalization", "memberprofile"): ("members", "memberprofile"),
    ("personalization", "event"): ("events", "event"),
    ("personalization", "emailtemplate"): ("journeys", "emailtemplate"),
    ("personalization", "journey"): ("journeys", "journey"),
    ("personalization", "journeystep"): ("journeys", "journeystep"),
    ("personalization", "journeyentry"): ("journeys", "journeyentry"),
    ("personalization", "journeymessage"): ("journeys", "journeymessage"),
    ("personalization", "messagingsettings"): ("journeys", "messagingsettings"),
}
MOVED_TABLES = {f"{old[0]}_{old[1]}": f"{new[0]}_{new[1]}" for old, new in MOVED_MODELS.items()}

# False while the moves are being made: a moved model's rows may still be in its old table (the
# old app label on its content type) as long as nothing is lost. True once the moves landed (in
# personalization 0007): rows must be in the new tables, the old tables gone, content types
# relabelled. Consent records stayed in the core (docs/architecture.md says why).
MOVES_LANDED = True

FULL_COMPARE_ROWS = 1000  # tables with more rows are compared on a sample
SAMPLE_ROWS = 200
# Not carried by the snapshot (see make_schema_snapshot.py) but emptied before loading it.
DERIVED_TABLES = ["wagtailsearch_indexentry"]
OUR_PACKAGES = {"cms", "experiments", "personalization"}


@dataclass
class Table:
    """A table as read back after migrating: its columns and rows keyed by primary key."""

    columns: list[str]
    rows: dict


@dataclass
class Migrated:
    """What the test database looked like after migrating the snapshot to the latest layout."""

    snapshot: dict = field(repr=False)
    tables: dict[str, Table] = field(repr=False)
    schema_problems: list[str]
    seconds: dict[str, tuple[float, float]] = field(default_factory=dict)


@contextmanager
def scratch_database():
    """A new, empty database of the same backend as the test database, dropped afterwards."""
    settings_dict = copy.deepcopy(connections.settings["default"])
    backend = load_backend(settings_dict["ENGINE"])
    postgres = settings_dict["ENGINE"].endswith("postgresql")
    if postgres:
        settings_dict["NAME"] = f"{settings_dict['NAME']}_schema_move"[:63]
    else:
        # In memory: SQLite rebuilds a table for most schema changes, several times faster
        # without a file (the one connection keeps the database alive until it closes).
        settings_dict["NAME"] = f"file:schema_move_{os.getpid()}?mode=memory&cache=shared"
    connection = backend.DatabaseWrapper(settings_dict, "default")
    if postgres:
        _recreate(connection, drop_only=False)
    try:
        yield connection
    finally:
        if postgres:
            connection.close()
            _recreate(connection, drop_only=True)
        elif connection.connection is not None:
            connection.connection.close()  # Django's close() keeps in-memory databases open


def _recreate(connection, *, drop_only: bool) -> None:
    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not drop_only:
            cursor.execute(f"CREATE DATABASE {name}")


@contextmanager
def as_default(connection):
    """`connection` stands in for the default database (and the content type cache forgets
    the ids it saw there)."""
    original = connections["default"]
    connections["default"] = connection
    ContentType.objects.clear_cache()
    try:
        yield
    finally:
        connections["default"] = original
        ContentType.objects.clear_cache()


def migrate_to_snapshot_schema(connection, recorded: dict[str, str]) -> None:
    """Apply exactly the recorded migrations; apps the snapshot does not know stay at zero."""
    executor = MigrationExecutor(connection)
    missing = {
        app: name
        for app, name in recorded.items()
        if (app, name) not in executor.loader.graph.nodes
    }
    assert not missing, f"migrations of the snapshot are gone from the tree: {missing}"
    targets = [(app, recorded.get(app)) for app in sorted(executor.loader.migrated_apps)]
    executor.migrate(targets)
    applied = MigrationRecorder(connection).applied_migrations()
    unrecorded = sorted({app for app, _ in applied} - set(recorded))
    assert not unrecorded, f"apps the snapshot does not know were migrated: {unrecorded}"
    assert all(node in applied for node in recorded.items())


def load_snapshot(connection, snapshot: dict) -> None:
    """Replace every row with the snapshot's, in one transaction (foreign keys are checked
    at commit: Django creates them deferrable), then move sequences past the loaded ids."""
    quote = connection.ops.quote_name
    tables = snapshot["tables"]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for name in [*tables, *DERIVED_TABLES]:  # what the migrations created: root page ...
            cursor.execute(f"DELETE FROM {quote(name)}")
        for name, table in tables.items():
            if not table["rows"]:
                continue
            columns = ", ".join(quote(column) for column in table["columns"])
            marks = ", ".join(["%s"] * len(table["columns"]))
            cursor.executemany(
                f"INSERT INTO {quote(name)} ({columns}) VALUES ({marks})",
                [
                    [
                        schema_snapshot.db_value(kind, value, connection)
                        for kind, value in zip(table["kinds"], row, strict=True)
                    ]
                    for row in table["rows"]
                ],
            )
    if connection.vendor == "postgresql":
        _reset_sequences(connection, list(tables))


def _reset_sequences(connection, tables: list[str]) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in tables:
            for sequence in connection.introspection.get_sequences(cursor, table):
                column = quote(sequence["column"])
                cursor.execute(
                    f"SELECT setval(%s, COALESCE(MAX({column}), 1), MAX({column}) IS NOT NULL) "
                    f"FROM {quote(table)}",
                    [sequence["name"]],
                )


def read_tables(connection, snapshot: dict) -> dict[str, Table]:
    """Every snapshot table and every moved model's new table that exists, read raw, values
    in the snapshot's canonical form (kinds taken from the snapshot by column name)."""
    existing = set(connection.introspection.table_names())
    wanted = {name: name for name in snapshot["tables"]}
    wanted.update({new: old for old, new in MOVED_TABLES.items()})
    quote = connection.ops.quote_name
    found = {}
    with connection.cursor() as cursor:
        for name, source in wanted.items():
            if name not in existing:
                continue
            kinds = dict(
                zip(
                    snapshot["tables"][source]["columns"],
                    snapshot["tables"][source]["kinds"],
                    strict=True,
                )
            )
            pk = snapshot["tables"][source]["pk"]
            cursor.execute(f"SELECT * FROM {quote(name)}")
            columns = [column[0] for column in cursor.description]
            rows = {}
            for raw in cursor.fetchall():
                row = {
                    column: schema_snapshot.canonical(kinds.get(column, "text"), value)
                    for column, value in zip(columns, raw, strict=True)
                }
                rows[row[pk]] = row
            found[name] = Table(columns, rows)
    return found


def schema_problems(connection) -> list[str]:
    """Each model of our apps finds its table and every column it reads."""
    problems = []
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            ours = model._meta.app_config.name.partition(".")[0] in OUR_PACKAGES
            if not ours or not model._meta.managed or model._meta.proxy:
                continue
            table = model._meta.db_table
            if table not in existing:
                problems.append(f"{model._meta.label}: no table {table}")
                continue
            described = connection.introspection.get_table_description(cursor, table)
            columns = {column.name for column in described}
            problems += [
                f"{model._meta.label}: no column {table}.{model_field.column}"
                for model_field in model._meta.local_concrete_fields
                if model_field.column not in columns
            ]
    return problems


@contextmanager
def _timed(seconds: dict, step: str):
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    seconds[step] = (time.perf_counter() - wall, time.process_time() - cpu)


@pytest.fixture(scope="module")
def migrated(django_db_blocker) -> Migrated:
    """The snapshot, loaded at its schema and migrated to the latest one."""
    snapshot = schema_snapshot.read(SNAPSHOT)
    seconds = {}
    with (
        django_db_blocker.unblock(),
        scratch_database() as connection,
        as_default(connection),
    ):
        with _timed(seconds, "migrate empty database to the snapshot's schema"):
            migrate_to_snapshot_schema(connection, snapshot["migrations"])
        with _timed(seconds, "load the snapshot's rows"):
            load_snapshot(connection, snapshot)
        with _timed(seconds, "migrate to the latest migrations"):
            call_command("migrate", interactive=False, verbosity=0)
        result = Migrated(snapshot, read_tables(connection, snapshot), schema_problems(connection))
    result.seconds = seconds
    print(
        f"\n{connection.vendor}: "
        + "; ".join(
            f"{step}: {wall:.1f} s ({cpu:.1f} s CPU)" for step, (wall, cpu) in seconds.items()
        )
    )
    return result


def _home(old_table: str, tables: dict[str, Table]) -> str | None:
    """The table holding `old_table`'s rows after migrating (None: no table holds them)."""
    new_table = MOVED_TABLES.get(old_table)
    if new_table is None:
        return old_table if old_table in tables else None
    if MOVES_LANDED or new_table in tables:
        return new_table if new_table in tables else None
    return old_table if old_table in tables else None


def _moved_label(old_label: str, model: str, found_label: str) -> str:
    """The app label a content type must have after migrating."""
    new = MOVED_MODELS.get((old_label, model))
    if new is None:
        return old_label
    if MOVES_LANDED:
        return new[0]
    return found_label if found_label in (old_label, new[0]) else new[0]


def _expected_rows(name: str, snapshot_table: dict, after: Table) -> dict:
    columns = snapshot_table["columns"]
    rows = {}
    for raw in snapshot_table["rows"]:
        row = {
            column: schema_snapshot.comparable(kind, value)
            for column, kind, value in zip(columns, snapshot_table["kinds"], raw, strict=True)
        }
        if name == "django_content_type":
            found = after.rows.get(row["id"], {}).get("app_label", "")
            row["app_label"] = _moved_label(row["app_label"], row["model"], found)
        rows[row[snapshot_table["pk"]]] = row
    return rows


def _rows_of_new_models(name: str, added: set, snapshot_table: dict, after: Table) -> set:
    """Rows the migration may add: the content types and permissions of models made after the
    snapshot (new content type ids), and the locales of the site's content languages that
    were missing (cms.0009, the site in Japanese and English). Any other added row is a
    difference."""
    if name == "wagtailcore_locale":
        columns = snapshot_table["columns"]
        had = {row[columns.index("language_code")] for row in snapshot_table["rows"]}
        missing = {code for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES} - had
        return {key for key in added if after.rows[key]["language_code"] in missing}
    if name == "django_content_type":
        columns = snapshot_table["columns"]
        known = set()
        for row in snapshot_table["rows"]:
            label, model = row[columns.index("app_label")], row[columns.index("model")]
            known |= {(label, model), MOVED_MODELS.get((label, model), (label, model))}
        return {
            key
            for key in added
            if (after.rows[key]["app_label"], after.rows[key]["model"]) not in known
        }
    if name == "auth_permission":
        known_types = {
            row[snapshot_table["columns"].index("content_type_id")]
            for row in snapshot_table["rows"]
        }
        return {key for key in added if after.rows[key]["content_type_id"] not in known_types}
    return set()


def _table_differences(name: str, snapshot_table: dict, tables: dict[str, Table]) -> list[str]:
    home = _home(name, tables)
    if home is None:
        return [f"{name}: no table holds its {len(snapshot_table['rows'])} rows"]
    after = tables[home]
    where = name if home == name else f"{name} → {home}"
    lost_columns = set(snapshot_table["columns"]) - set(after.columns)
    if lost_columns:
        return [f"{where}: columns lost: {sorted(lost_columns)}"]
    expected = _expected_rows(name, snapshot_table, after)
    problems = []
    added = set(after.rows) - set(expected)
    new_models = _rows_of_new_models(name, added, snapshot_table, after)
    if len(after.rows) - len(new_models) != len(expected) or added - new_models:
        problems.append(f"{where}: {len(expected)} rows before, {len(after.rows)} after")
    keys = sorted(expected, key=str)
    if len(keys) > FULL_COMPARE_ROWS:
        keys = random.Random(name).sample(keys, SAMPLE_ROWS)
    kinds = dict(zip(snapshot_table["columns"], snapshot_table["kinds"], strict=True))
    for key in keys:
        row = after.rows.get(key)
        if row is None:
            problems.append(f"{where}: row {key!r} lost")
            continue
        changed = {
            column: (value, schema_snapshot.comparable(kinds[column], row[column]))
            for column, value in expected[key].items()
            if schema_snapshot.comparable(kinds[column], row[column]) != value
        }
        if changed:
            problems.append(f"{where}: row {key!r} changed (expected, found): {changed}")
    return problems[:6]


def test_every_row_is_kept_unchanged_in_its_table(migrated):
    problems = [
        problem
        for name, table in migrated.snapshot["tables"].items()
        for problem in _table_differences(name, table, migrated.tables)
    ]
    assert not problems, "\n".join(problems)


def test_moved_models_are_in_one_table_each(migrated):
    """Landed: the new table holds the rows and the old one is gone. Before that, never both
    (an empty new table beside a full old one is a model re-created instead of moved)."""
    for old, new in MOVED_TABLES.items():
        where = {name for name in (old, new) if name in migrated.tables}
        if MOVES_LANDED:
            assert where == {new}, f"{old} → {new}: tables after migrating: {sorted(where)}"
        else:
            assert len(where) == 1, f"{old} → {new}: tables after migrating: {sorted(where)}"


def _content_types(rows) -> dict[int, tuple[str, str]]:
    return {row["id"]: (row["app_label"], row["model"]) for row in rows}


def _snapshot_rows(snapshot: dict, name: str) -> list[dict]:
    table = snapshot["tables"][name]
    return [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]]


def test_moved_models_keep_their_content_type_ids(migrated):
    """Relabelled in place, not created anew: whatever names a content type id (permissions,
    log entries, revisions, the reference index) names the moved model."""
    before = _content_types(_snapshot_rows(migrated.snapshot, "django_content_type"))
    after = _content_types(migrated.tables["django_content_type"].rows.values())
    for content_type_id, (label, model) in before.items():
        if (label, model) not in MOVED_MODELS:
            continue
        new_label = MOVED_MODELS[(label, model)][0]
        allowed = {new_label} if MOVES_LANDED else {label, new_label}
        found = after.get(content_type_id)
        assert found is not None and found[1] == model and found[0] in allowed, (
            f"content type {content_type_id} ({label}.{model}) became {found}"
        )
        duplicates = [i for i, key in after.items() if key == (new_label, model)]
        assert duplicates in ([], [content_type_id]), (
            f"{new_label}.{model} has content types {duplicates}, not only {content_type_id}"
        )


def _permissions_of_moved_models(tables, permission_table, owner_column) -> set[tuple]:
    """(owner id, permission codename, content type id) for permissions on moved models."""
    moved = set(MOVED_MODELS) | set(MOVED_MODELS.values())
    moved_ids = {
        key for key, name in _content_types(tables["django_content_type"]).items() if name in moved
    }
    permissions = {row["id"]: row for row in tables["auth_permission"]}
    granted = set()
    for row in tables[permission_table]:
        permission = permissions[row["permission_id"]]
        if permission["content_type_id"] in moved_ids:
            granted.add((row[owner_column], permission["codename"], permission["content_type_id"]))
    return granted


def test_permissions_on_moved_models_survive(migrated):
    """Group and user permissions (codename on the same content type id), the classic
    casualty of moving a model between apps."""
    names = [
        "django_content_type",
        "auth_permission",
        "auth_group_permissions",
        "auth_user_user_permissions",
    ]
    before = {name: _snapshot_rows(migrated.snapshot, name) for name in names}
    after = {name: list(migrated.tables[name].rows.values()) for name in names}
    for table, owner in [
        ("auth_group_permissions", "group_id"),
        ("auth_user_user_permissions", "user_id"),
    ]:
        kept = _permissions_of_moved_models(before, table, owner)
        assert kept, f"the snapshot has no {table} on moved models: nothing would be tested"
        assert _permissions_of_moved_models(after, table, owner) == kept


def test_log_entries_of_moved_models_name_them(migrated):
    """Wagtail's history of a journey or an email template still opens it: the content type
    its entries keep names a model of the current code."""
    before = _content_types(_snapshot_rows(migrated.snapshot, "django_content_type"))
    after = _content_types(migrated.tables["django_content_type"].rows.values())
    entries = [
        row
        for row in _snapshot_rows(migrated.snapshot, "wagtailcore_modellogentry")
        if before[row["content_type_id"]] in MOVED_MODELS
    ]
    assert entries, "the snapshot has no log entries of moved models: nothing would be tested"
    for entry in entries:
        kept = migrated.tables["wagtailcore_modellogentry"].rows[entry["id"]]
        label, model = after[kept["content_type_id"]]
        assert apps.get_model(label, model)._meta.model_name == model, entry


def test_every_model_finds_its_table_and_columns(migrated):
    """The migrations' database side matches their state side (SeparateDatabaseAndState
    lets them disagree, and makemigrations --check cannot see it)."""
    assert not migrated.schema_problems, "\n".join(migrated.schema_problems)

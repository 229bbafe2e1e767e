"""The schema snapshot's file format, shared by its generator (`make_schema_snapshot.py`) and the
migration test (`test_data_migration.py`).

A snapshot is every row of a database as raw table rows, written without model code so that it
still loads after models move between apps:

    {"commit": "...", "migrations": {app label: leaf migration name},
     "tables": {table: {"pk": column, "columns": [...], "kinds": [...], "rows": [[...], ...]}}}

Each column has a kind (`int`, `text`, `bool`, `datetime`, `json`, `decimal:2` ...). A value is
kept in one canonical JSON form per kind, the same whatever database it was read from: datetimes
as ISO 8601 in UTC, UUIDs with dashes, decimals as strings at the field's places, JSON columns as
their stored text. `canonical()` turns a value read from SQLite or PostgreSQL into that form;
`db_value()` turns it back into a parameter for an INSERT on either.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

INTEGER_TYPES = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
}
KIND_OF_TYPE = {
    "BooleanField": "bool",
    "DateTimeField": "datetime",
    "DateField": "date",
    "TimeField": "time",
    "FloatField": "float",
    "UUIDField": "uuid",
    "JSONField": "json",
    "BinaryField": "bytes",
    "DurationField": "duration",
}


def field_kind(field) -> str:
    """The snapshot kind of a model field's column (a foreign key takes its target's kind)."""
    if field.is_relation:
        field = field.target_field
    internal = field.get_internal_type()
    if internal in INTEGER_TYPES:
        return "int"
    if internal == "DecimalField":
        return f"decimal:{field.decimal_places}"
    return KIND_OF_TYPE.get(internal, "text")


def _utc(value: datetime.datetime) -> datetime.datetime:
    # Django keeps naive UTC datetimes in SQLite (USE_TZ = True); PostgreSQL gives aware ones.
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC)


def canonical(kind: str, value: Any) -> Any:
    """`value` as read by a raw cursor from SQLite or PostgreSQL, in the snapshot's form."""
    if value is None:
        return None
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return bool(value)
    if kind == "datetime":
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value)
        return _utc(value).isoformat()
    if kind == "date":
        return value if isinstance(value, str) else value.isoformat()
    if kind == "time":
        return value if isinstance(value, str) else value.isoformat()
    if kind.startswith("decimal:"):
        places = int(kind.partition(":")[2])
        return str(Decimal(str(value)).quantize(Decimal(1).scaleb(-places)))
    if kind == "uuid":
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == "duration":
        if isinstance(value, datetime.timedelta):
            return value // datetime.timedelta(microseconds=1)
        return int(value)
    return str(value)  # text and json (stored as text by both backends)


def comparable(kind: str, value: Any) -> Any:
    """A canonical value for equality: JSON text compares by what it means (PostgreSQL's jsonb
    reorders keys and spacing)."""
    if kind == "json" and value is not None:
        return json.loads(value)
    return value


def db_value(kind: str, value: Any, connection) -> Any:
    """A canonical value as a raw INSERT parameter for `connection`'s database."""
    if value is None:
        return None
    ops, features = connection.ops, connection.features
    if kind == "datetime":
        return ops.adapt_datetimefield_value(datetime.datetime.fromisoformat(value))
    if kind == "date":
        return ops.adapt_datefield_value(datetime.date.fromisoformat(value))
    if kind == "time":
        return ops.adapt_timefield_value(datetime.time.fromisoformat(value))
    if kind.startswith("decimal:"):
        return ops.adapt_decimalfield_value(Decimal(value))
    if kind == "uuid":
        parsed = uuid.UUID(value)
        return parsed if features.has_native_uuid_field else parsed.hex
    if kind == "json" and connection.vendor == "postgresql":
        return ops.adapt_json_value(json.loads(value), None)
    if kind == "bytes":
        return base64.b64decode(value)
    if kind == "duration" and features.has_native_duration_field:
        return datetime.timedelta(microseconds=value)
    return value


def read(path: Path) -> dict:
    """A snapshot file (gzipped JSON)."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def write(path: Path, snapshot: dict) -> None:
    """Write a snapshot reproducibly: sorted keys, no timestamp in the gzip header."""
    text = json.dumps(snapshot, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write(text.encode("utf-8"))

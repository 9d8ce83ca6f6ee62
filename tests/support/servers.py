"""Real servers for the scale-out and fault tests, as subprocesses on 127.0.0.1 that the tests stop
and restart: `redis-server` (no persistence) and `chroma run`. Every one is killed when its fixture
ends, and `start` waits until the server answers."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.bot_process import free_port

REDIS_MISSING = "redis-server is not installed (`apt-get install redis-server`; .ci/run installs it), so the Redis tests cannot run"


def redis_server_binary() -> str:
    """The redis-server executable, or skip the calling test with the reason."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(REDIS_MISSING)
    return binary


class _Server:
    what = "server"

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = 60) -> _Server:
        """Start on `self.port` (the same port on a restart) and wait until it answers."""
        log = (self.workdir / "server.log").open("ab")
        self.process = subprocess.Popen(self.command(), cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = (self.workdir / "server.log").read_text(errors="replace")[-2000:]
                raise AssertionError(f"the {self.what} on port {self.port} did not start:\n{tail}")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        """Kill it (a crash, as far as clients can tell) and wait for it to be gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


class RedisServer(_Server):
    what = "redis-server"

    def __init__(self, workdir: Path) -> None:
        self.binary = redis_server_binary()
        super().__init__(workdir)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        return [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.workdir)]

    def ready(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def client(self):
        import redis

        return redis.Redis(port=self.port, socket_connect_timeout=2, socket_timeout=2)


class ChromaServer(_Server):
    """`chroma run --path DIR`; a restart reuses the path, so the index is still there."""

    what = "chroma server"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
        return [chroma, "run", "--path", str(self.workdir / "chroma"), "--host", "127.0.0.1", "--port", str(self.port)]

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

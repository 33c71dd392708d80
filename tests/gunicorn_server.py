"""gunicorn on a loopback port, as in production, for the tests and benchmarks that need real
worker processes (durability, shared rate limits, multiprocess metrics, a fresh install, load).

    with Gunicorn(env, workers=4) as server:
        requests.get(f"{server.url}/verify")

The server runs in its own process group (so `kill()` takes the master and its workers at
once); its log goes to a file, never to a pipe that would stall it once full.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON_GUNICORN = (sys.executable, "-m", "gunicorn")


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class GunicornDidNotStart(RuntimeError):
    """gunicorn exited, or did not answer `ready_path` in time; the message ends with its log."""


class Gunicorn:
    """gunicorn serving `app` with `workers` sync workers on 127.0.0.1:`port` (a free one by
    default). `start()` returns once GET `ready_path` answers 200; `start()` again after
    `kill()` restarts it on the same port."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        workers: int = 2,
        app: str = "app:create_app()",
        port: int | None = None,
        options: Sequence[str] = (),
        program: Sequence[str] = PYTHON_GUNICORN,
        cwd: Path = ROOT,
        ready_path: str = "/verify",
        log: Path | None = None,
        start_timeout: float = 30,
    ) -> None:
        self.env = env
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [
            *program,
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{self.port}",
            *options,
            app,
        ]
        self.cwd = cwd
        self.ready_path = ready_path
        self._own_log = log is None
        self.log = log or Path(tempfile.mkstemp(prefix="a1w-gunicorn-", suffix=".log")[1])
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + self.start_timeout
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                message = f"gunicorn did not start: {self.log_tail()}"
                if self._own_log:
                    self.log.unlink(missing_ok=True)
                raise GunicornDidNotStart(message)
            time.sleep(0.1)

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", self.ready_path)
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def log_tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def kill(self) -> None:
        """SIGKILL to the master and its workers at once (a power cut, as far as they know)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)  # the group this helper started
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (a graceful stop); SIGKILL to the group if it is not done within 15 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> Gunicorn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self._own_log:
            self.log.unlink(missing_ok=True)

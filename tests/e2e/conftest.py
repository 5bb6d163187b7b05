"""The running system for the end-to-end tests: `vejviser run` (what `make run` calls) with the
demo data, on the nats-server with users it starts itself, started once for every test in
tests/e2e and stopped with Ctrl-C at the end (which must stop every process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from shared.nats_auth import ADMIN, load_credentials
from shared.natsserver import free_port, port_free
from shared.settings import SERVICE_PORTS
from tests.helpers import tls

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class System:
    var: Path  # VEJVISER_VAR_DIR: databases, logs, mail, dev-tokens.json
    tokens: dict[str, str]  # role -> bearer token
    nats_url: str  # its own NATS, as its operator (admin)


def wait_for(check, timeout: float, what: str):  # type: ignore[no-untyped-def]
    """Poll `check` until it holds; the pauses start at 50 ms and double up to half a second."""
    deadline = time.monotonic() + timeout
    last: object = None
    pause = 0.05
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except httpx.TransportError as exc:
            last = exc
        time.sleep(pause)
        pause = min(pause * 2, 0.5)
    raise AssertionError(f"{what} within {timeout}s (last: {last!r})")


@pytest.fixture(scope="package")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    busy = [p for p in SERVICE_PORTS.values() if not port_free(p)]
    if busy:
        pytest.skip(f"ports {busy} are in use, so the local system cannot start here")
    var = tmp_path_factory.mktemp("var")
    # No NATS_URL: `vejviser run` starts its own server with users under var/nats (on a free
    # port when the machine's own NATS has 4222), and the harness is its operator.
    outside = ("NATS_URL", "NATS_USER", "NATS_PASSWORD", "NATS_CREDENTIALS_FILE")
    env = {k: v for k, v in os.environ.items() if k not in outside}
    env |= {"VEJVISER_VAR_DIR": str(var), "SMTP_PORT": str(free_port())}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vejviser", "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # As a shell's background job: SIGINT ignored on entry; Ctrl-C must still work.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        tokens_file = var / "dev-tokens.json"
        wait_for(lambda: tokens_file.exists() and all(_ready(p) for p in SERVICE_PORTS.values()), 120, "ready")
        yield System(var, json.loads(tokens_file.read_text()), operator_url(var))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            output = proc.communicate(timeout=40)[0].decode()
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output = proc.communicate()[0].decode()
            raise AssertionError("vejviser run did not stop on Ctrl-C:\n" + output) from None
    assert "stopped" in output
    for port in SERVICE_PORTS.values():
        assert port_free(port), f"something still listens on {port} after Ctrl-C"


def operator_url(var: Path) -> str:
    """The URL `vejviser run` wrote for its own NATS, with the admin user's credentials."""
    url = urlsplit((var / "nats" / "url").read_text().strip())
    password = load_credentials(var / "nats" / "credentials.json")[ADMIN]
    return urlunsplit(url._replace(netloc=f"{ADMIN}:{password}@{url.netloc}"))


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2, verify=tls()).status_code == 200
    except httpx.TransportError:
        return False


def get(port: int, path: str, token: str) -> httpx.Response:
    return httpx.get(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10, verify=tls()
    )

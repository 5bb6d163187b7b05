"""The system as production runs it, one OS process per part: a nats-server with its own store,
the services (each on its own SQLite file and port), and an SMTP server that keeps every mail.

The fault suite kills these processes (SIGKILL, no clean-up) and starts them again on the same
port, store and database, as a process supervisor would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller

from shared.nats_auth import generate_credentials
from shared.natsserver import NatsServer, free_port
from tests.helpers import MailBox, session_keys, tls

REPO = Path(__file__).resolve().parents[2]
# What the load touches: catalogue (communities), referrals (ingest, referrals, welcomes),
# notifications (the mails) and analytics (the metrics). The web client holds no state.
SERVICES = ("catalogue", "referrals", "notifications", "analytics")
READY_TIMEOUT = 90.0


@dataclass
class Service:
    name: str
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.name}"],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,  # a signal for this process reaches it alone
            )
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, whatever was in flight is cut off."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None  # down on purpose: not a crash

    def stop(self) -> None:
        self.terminate()
        self.wait_stopped()

    def terminate(self) -> None:
        """SIGTERM: the service shuts down as it would under a supervisor's stop."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def wait_stopped(self) -> None:
        if self.process is not None:
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2, verify=tls()).status_code == 200
        except httpx.TransportError:
            return False

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exited():
                raise AssertionError(f"{self.name} exited with {self.process.returncode if self.process else '?'}")
            if self.ready():
                return
            time.sleep(0.05)
        raise AssertionError(f"{self.name} was not ready within {timeout}s; see {self.log}")


@dataclass
class System:
    root: Path
    nats: NatsServer
    admin_url: str  # raw clients (the check) are the operator
    smtp: Controller
    mailbox: MailBox
    services: dict[str, Service] = field(default_factory=dict)

    def database_url(self, name: str) -> str:
        return f"sqlite:///{self.root / f'{name}.db'}"

    def url(self, name: str) -> str:
        return self.services[name].url

    def kill_nats(self) -> None:
        assert self.nats.process is not None
        os.kill(self.nats.process.pid, signal.SIGKILL)
        self.nats.process.wait()
        self.nats.process = None

    def start_nats(self) -> None:
        self.nats.start()  # the same port and store: JetStream recovers what it had written


def _service_env(root: Path, name: str, port: int, nats_url: str, smtp_port: int, credentials: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "SERVICE": name,
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{root / f'{name}.db'}",
        "VEJVISER_VAR_DIR": str(root),
        "NATS_URL": nats_url,
        # The session's test keys (tests/conftest.py): tokens of tests/helpers.token pass.
        **session_keys().environment(),
        "DEMO": "0",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "PYTHONUNBUFFERED": "1",
        # Mail goes out at once, and every implied mail is sent: no quiet hours, no daily cap.
        "QUIET_START": "00:00",
        "QUIET_END": "00:00",
        "DAILY_CAP": "1000000",
        # A delivery claimed by a killed worker is sent again after its lease: seconds, not minutes.
        "DELIVERY_LEASE_SECONDS": "10",
        "NATS_CREDENTIALS_FILE": str(credentials),
    }
    env.pop("NATS_USER", None)  # each logs in as itself: the user is the service's name
    env.pop("NATS_PASSWORD", None)
    return env


@contextlib.contextmanager
def running_system(root: Path) -> Iterator[System]:
    """Start everything, wait until every service answers /readyz, stop everything after."""
    (root / "log").mkdir(parents=True, exist_ok=True)
    store = root / "nats"
    store.mkdir(parents=True, exist_ok=True)
    # As in production, each service logs in as its own NATS user and may publish and read
    # only what it owns; the audit is the operator (admin).
    credentials_file = root / "nats-credentials.json"
    nats = NatsServer(store, log_file=root / "log" / "nats.log", credentials=generate_credentials(credentials_file))
    mailbox = MailBox()
    smtp_port = free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    nats.start()
    smtp.start()
    system = System(root, nats, nats.admin_url, smtp, mailbox)
    try:
        for name in SERVICES:
            port = free_port()
            env = _service_env(root, name, port, nats.url, smtp_port, credentials_file)
            system.services[name] = Service(name, port, env, root / "log" / f"{name}.log")
        for service in system.services.values():
            service.start()
        for service in system.services.values():
            service.wait_ready()
        yield system
    finally:
        # All at once: each takes a second or so to shut down.
        for service in system.services.values():
            service.terminate()
        for service in system.services.values():
            service.wait_stopped()
        smtp.stop()
        nats.stop()

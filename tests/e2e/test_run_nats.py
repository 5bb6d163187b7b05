"""`vejviser run` and NATS: its own server with users under var/nats unless NATS_URL is set,
and a clear exit when NATS_URL names a server that does not answer (never another one)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import nats
import pytest
from nats.errors import Error as NatsError

from shared.natsserver import free_port
from tests.e2e.conftest import REPO, System


def test_a_nats_url_that_does_not_answer_stops_the_run_with_the_reason(tmp_path: Path) -> None:
    dead = f"nats://127.0.0.1:{free_port()}"
    env = {**os.environ, "VEJVISER_VAR_DIR": str(tmp_path), "NATS_URL": dead, "SMTP_PORT": str(free_port())}
    run = subprocess.run(
        [sys.executable, "-m", "vejviser", "run"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"NATS_URL={dead} does not answer" in run.stdout
    assert "unset NATS_URL" in run.stdout
    assert not (tmp_path / "nats").exists()  # it started no server of its own instead
    assert not list((tmp_path / "log").glob("*.log"))  # nor any service


def test_the_system_runs_on_its_own_nats_with_users(system: System) -> None:
    home = system.var / "nats"
    url = (home / "url").read_text().strip()
    assert (home / "jetstream").is_dir()  # the store is the run's own
    assert oct((home / "credentials.json").stat().st_mode & 0o777) == "0o600"

    async def check() -> list[str]:
        with pytest.raises(NatsError, match="Authorization Violation"):
            await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0)
        nc = await nats.connect(system.nats_url)  # the operator: admin
        try:
            return sorted(info.config.name or "" for info in await nc.jetstream().streams_info())
        finally:
            await nc.close()

    assert "REFERRALS" in asyncio.run(check())

"""`vejviser run` (what `make run` calls) brings up the whole system with demo data: four
ready services, tokens, the demo catalogue, demo referrals, a dashboard, and mail in the
sink when a referral is made; Ctrl-C stops every process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.natsserver import NatsServer, free_port
from shared.settings import SERVICE_PORTS

REPO = Path(__file__).resolve().parents[2]


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not a listener
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def wait_for(check, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except httpx.TransportError as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"{what} within {timeout}s (last: {last!r})")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    busy = [p for p in SERVICE_PORTS.values() if not port_free(p)]
    if busy:
        pytest.skip(f"ports {busy} are in use, so the local system cannot start here")
    var = tmp_path_factory.mktemp("var")
    with NatsServer(var / "nats-test") as nats_server:
        env = {**os.environ, "VEJVISER_VAR_DIR": str(var), "NATS_URL": nats_server.url, "SMTP_PORT": str(free_port())}
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
            yield var, json.loads(tokens_file.read_text())
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


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def get(port: int, path: str, token: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_tokens_for_every_role(system: tuple[Path, dict[str, str]]) -> None:
    _, tokens = system
    assert set(tokens) == {
        "guide",
        "professional",
        "ambassador",
        "community_contact",
        "analyst",
        "admin",
        "municipal_system",
    }


def test_demo_catalogue_is_served(system: tuple[Path, dict[str, str]]) -> None:
    _, tokens = system

    def communities() -> int:
        response = get(8001, "/v1/communities?per_page=100", tokens["guide"])
        body = response.json()
        return int(body.get("total", len(body.get("items", [])))) if response.status_code == 200 else 0

    assert wait_for(lambda: communities() >= 50, 60, "50 demo communities")


def test_demo_referrals_arrive_in_every_service(system: tuple[Path, dict[str, str]]) -> None:
    _, tokens = system

    def referrals() -> int:
        response = get(8002, "/v1/referrals", tokens["guide"])
        if response.status_code != 200:
            return 0
        body = response.json()
        return len(body["items"] if isinstance(body, dict) else body)

    wait_for(lambda: referrals() > 10, 150, "demo referrals")

    def dashboard() -> bool:
        response = get(8004, "/dashboard", tokens["analyst"])
        return response.status_code == 200 and "<svg" in response.text

    wait_for(dashboard, 90, "a dashboard with charts")

    # The demo story: most citizens join a community in their own area, a minority cross.
    def cross_area_share() -> float | None:
        response = get(8004, "/v1/metrics?suppress=false", tokens["admin"])
        areas = response.json()["areas"] if response.status_code == 200 else {}
        return areas.get("cross_area_share") if areas.get("welcomed_by_area") else None

    share = wait_for(cross_area_share, 90, "welcomed demo referrals with both areas known")
    assert 0 < share < 0.5


def test_a_new_referral_puts_mail_in_the_sink(system: tuple[Path, dict[str, str]]) -> None:
    var, tokens = system
    mail = var / "mail"
    wait_for(lambda: get(8002, "/v1/referrals", tokens["guide"]).status_code == 200, 60, "referrals API")
    before = set(mail.glob("*.eml")) if mail.exists() else set()
    headers = {"Authorization": f"Bearer {tokens['guide']}"}
    communities = get(8001, "/v1/communities?per_page=5", tokens["guide"]).json()["items"]
    citizen = httpx.post(
        "http://127.0.0.1:8002/v1/citizens",
        headers=headers,
        timeout=10,
        json={
            "contact": {"name": "Test Borger", "phone": "+45 20 00 00 00"},
        },
    )
    assert citizen.status_code in (200, 201), citizen.text
    referral = httpx.post(
        "http://127.0.0.1:8002/v1/referrals",
        headers=headers,
        timeout=10,
        json={
            "citizen_ref": citizen.json()["citizen_ref"],
            "community_id": communities[0]["id"],
            "referrer_id": "guide-anne",
            "override_full": True,
        },
    )
    assert referral.status_code in (200, 201), referral.text
    new = wait_for(lambda: set(mail.glob("*.eml")) - before, 30, "a new .eml under var/mail")
    assert new

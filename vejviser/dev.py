"""`make run` / `vejviser run`: the whole system on one machine with embedded defaults.

Starts its own NATS with JetStream under var/nats, with a user per service (unless `NATS_URL`
is set: then that server, and exit 1 when it does not answer), a local SMTP sink writing every
mail to var/mail/, and the services (the web client first) as separate processes with demo
data; writes var/dev-tokens.json; prints the URLs; Ctrl-C stops everything.

Tokens: a development key pair made once under var/keys/ (kid `dev-…`) signs them; every
service trusts its JWKS (TOKEN_JWKS) and the web client signs its calls with it. The tokens in
var/dev-tokens.json live 12 hours (development's TOKEN_MAX_LIFETIME_SECONDS) and are minted
afresh every hour while the system runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from shared.bus import nats_servers
from shared.demo import DEMO_ACTORS, DEMO_CONTACT_COMMUNITY_ID
from shared.nats_auth import generate_credentials, local_nats_dir
from shared.natsserver import NatsServer, has_jetstream, port_free
from shared.settings import (
    DEV_KEYS_DIR,
    DEV_TOKEN_ISSUER,
    DEV_TOKEN_MAX_LIFETIME_SECONDS,
    REPO_ROOT,
    SERVICE_PORTS,
    SERVICES,
    TOKEN_AUDIENCES,
    VAR_DIR,
)
from shared.tokens import DevKeys, Issuer, ensure_dev_keys, load_signing_keys

SMTP_PORT = int(os.environ.get("SMTP_PORT", "8025"))
READY_TIMEOUT = 90.0
DEFAULT_NATS_PORT = 4222
# Development allows 12-hour tokens so the demo tokens outlast a working session; production's
# default is an hour, and the web client's own calls carry 5-minute tokens everywhere.
DEV_TOKEN_LIFETIME = timedelta(seconds=DEV_TOKEN_MAX_LIFETIME_SECONDS)
DEV_TOKEN_RENEWAL_SECONDS = 3600.0


def say(message: str) -> None:
    print(f"vejviser: {message}", flush=True)


def write_tokens(keys: DevKeys) -> Path:
    """var/dev-tokens.json: a token per demo role, for every service, living 12 hours."""
    issuer = Issuer(load_signing_keys(keys.signing_key_file), DEV_TOKEN_ISSUER)
    tokens = {
        role: issuer.mint(
            audience=list(TOKEN_AUDIENCES),
            actor_id=actor,
            role=role,
            communities=[DEMO_CONTACT_COMMUNITY_ID] if role == "community_contact" else (),
            ttl=DEV_TOKEN_LIFETIME,
        )
        for role, actor in DEMO_ACTORS.items()
    }
    path = VAR_DIR / "dev-tokens.json"
    path.write_text(json.dumps(tokens, indent=2) + "\n")
    path.chmod(0o600)
    return path


class NatsUnreachable(Exception):
    """NATS_URL names a server that does not answer: say so, never fall back to another."""


def choose_nats() -> tuple[str, NatsServer | None, dict[str, str]]:
    """The NATS the services use, the server we started (if any), and what the services'
    environment needs to log in to it.

    With NATS_URL: that server, whose users are the caller's business (NATS_USER, NATS_PASSWORD
    or NATS_CREDENTIALS_FILE pass through). Else our own under var/nats, with the users of
    shared/nats_auth.py (passwords in var/nats/credentials.json, kept across runs), on 4222
    when free, else on a free port. A server someone else runs on 4222 is never joined: two
    checkouts sharing durables steal each other's events, and `make reset` would not reset it."""
    url = os.environ.get("NATS_URL")
    if url:
        if not any(has_jetstream(server) for server in nats_servers(url)):
            raise NatsUnreachable(
                f"NATS_URL={url} does not answer with JetStream. Start that server, or unset NATS_URL "
                "and `make run` starts its own under var/nats."
            )
        say(f"using NATS at {url} (from NATS_URL)")
        return url, None, {}
    home = local_nats_dir()
    credentials_file = home / "credentials.json"
    credentials = generate_credentials(credentials_file)
    port = DEFAULT_NATS_PORT if port_free(DEFAULT_NATS_PORT) else None
    if port is None:
        say(f"port {DEFAULT_NATS_PORT} is taken by another server; starting our own NATS on a free port")
    server = NatsServer(home, port=port, log_file=VAR_DIR / "log" / "nats.log", credentials=credentials).start()
    (home / "url").write_text(server.url + "\n")
    say(f"started nats-server with JetStream at {server.url} (data in {home}, users in {credentials_file})")
    return server.url, server, {"NATS_CREDENTIALS_FILE": str(credentials_file)}


def wait_ready(name: str, port: int, process: subprocess.Popen[bytes], deadline: float) -> bool:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            say(f"{name} exited with code {process.returncode}; see var/log/{name}.log")
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    say(f"{name} did not become ready; see var/log/{name}.log")
    return False


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # A shell that starts us in the background ignores SIGINT for us; Ctrl-C and SIGTERM must
    # both stop everything cleanly wherever we were started from.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    VAR_DIR.mkdir(exist_ok=True)
    (VAR_DIR / "log").mkdir(exist_ok=True)
    (VAR_DIR / "mail").mkdir(exist_ok=True)
    keys = ensure_dev_keys(DEV_KEYS_DIR)
    try:
        nats_url, nats_server, nats_env = choose_nats()
    except NatsUnreachable as exc:
        say(str(exc))
        return 1
    children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def spawn(name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(VAR_DIR / "log" / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        process = subprocess.Popen([sys.executable, *args], cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
        children.append((name, process))
        return process

    def stop_all(*_: object) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        for _name, process in reversed(children):
            if process.poll() is None:
                process.terminate()
        for _name, process in children:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if nats_server is not None:
            nats_server.stop()
            (local_nats_dir() / "url").unlink(missing_ok=True)  # the operator CLIs must not find a dead one

    # On our own server each service logs in as itself: a NATS_USER/NATS_PASSWORD meant for
    # another server must not make them all one user.
    inherited = {k: v for k, v in os.environ.items() if nats_server is None or k not in ("NATS_USER", "NATS_PASSWORD")}
    env = {
        **inherited,
        "NATS_URL": nats_url,
        **nats_env,
        **keys.environment(DEV_TOKEN_ISSUER, DEV_TOKEN_LIFETIME),  # development's keys, whatever is set
        "DEMO": os.environ.get("DEMO", "1"),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(SMTP_PORT),
        "PYTHONUNBUFFERED": "1",
        # No default quiet hours locally, so a person trying `make run` at night sees the mail
        # at once; demo recipients with their own preferences keep theirs.
        "QUIET_START": os.environ.get("QUIET_START", "00:00"),
        "QUIET_END": os.environ.get("QUIET_END", "00:00"),
    }
    try:
        if (REPO_ROOT / "services" / "notifications" / "smtp_sink.py").exists():
            spawn(
                "smtp-sink",
                ["-m", "services.notifications.smtp_sink", "--port", str(SMTP_PORT), "--dir", str(VAR_DIR / "mail")],
                env,
            )
        processes = {name: spawn(name, ["-m", f"services.{name}"], {**env, "SERVICE": name}) for name in SERVICES}
        tokens = write_tokens(keys)
        renewed = time.monotonic()
        deadline = time.monotonic() + READY_TIMEOUT
        ready = all(wait_ready(name, SERVICE_PORTS[name], processes[name], deadline) for name in SERVICES)
        if not ready:
            stop_all()
            return 1
        say("all services are ready:")
        say(f"  web            http://localhost:{SERVICE_PORTS['web']}   (log in as a demo person)")
        for name in SERVICES:
            if name != "web":
                say(f"  {name:<14} http://localhost:{SERVICE_PORTS[name]}   (API docs: /docs)")
        say(f"  dashboard      http://localhost:{SERVICE_PORTS['web']}/evaluering   (analyst, guide or admin)")
        say(f"  demo tokens    {tokens} (roles as keys; each lives 12 h, renewed hourly while running)")
        say(f"  mail sent      {VAR_DIR / 'mail'} (every message as an .eml file)")
        say(f"  logs           {VAR_DIR / 'log'}")
        say(f"  nats           {nats_url}   (`vejviser dlq list` connects to it as admin)")
        say(f'  try: TOKEN=$(python3 -c \'import json;print(json.load(open("{tokens}"))["guide"])\')')
        say('       curl -H "Authorization: Bearer $TOKEN" http://localhost:8001/v1/communities')
        say("press Ctrl-C to stop")
        while True:
            for name, process in children:
                if process.poll() is not None:
                    say(f"{name} stopped unexpectedly (code {process.returncode}); see var/log/{name}.log")
                    raise KeyboardInterrupt
            if time.monotonic() - renewed >= DEV_TOKEN_RENEWAL_SECONDS:
                write_tokens(keys)
                renewed = time.monotonic()
            time.sleep(0.5)
    except KeyboardInterrupt:
        say("stopping…")
        return 0
    finally:
        stop_all()
        say("stopped")


if __name__ == "__main__":
    raise SystemExit(main())

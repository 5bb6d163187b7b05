"""`purge-bus` after a JetStream restore: a backup of the streams taken before an erasure brings
the citizen's attribute-bearing messages back; the command purges them again for every citizen
whose key the key store has destroyed, and leaves everyone else's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from services.referrals.kek import FileKek
from services.referrals.keystore import KeyStore
from shared.db import Database
from shared.events import Envelope
from shared.events.referrals import CitizenRegistered
from shared.settings import REPO_ROOT
from tests.helpers import publish, stream_events


def registered(ref: str) -> Envelope:
    event = CitizenRegistered(citizen_ref=ref, age_band="25-34", area="vestervang", target_groups=["newcomer"])
    return Envelope.wrap(event, source="/services/referrals")


async def test_purge_bus_removes_the_erased_citizens_messages_again(nats_clean: str, tmp_path: Path) -> None:
    key_store_url = f"sqlite:///{tmp_path / 'keys.db'}"
    store = KeyStore(Database(key_store_url), FileKek.ensure(tmp_path / "kek.json"))
    try:
        store.create_many(["c-gone", "c-kept"])
        assert store.destroy("c-gone")
    finally:
        store.dispose()
    # As a restored JetStream holds them: both registrations, the erased citizen's included.
    await publish(nats_clean, registered("c-gone"), registered("c-kept"))
    assert sorted(e.subject for e in await stream_events(nats_clean, "referrals")) == ["c-gone", "c-kept"]

    env = {
        **os.environ,
        "KEY_STORE_URL": key_store_url,
        "CITIZEN_KEK_FILE": str(tmp_path / "kek.json"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}",
        "NATS_URL": nats_clean,
    }
    done = subprocess.run(
        [sys.executable, "-m", "services.referrals", "purge-bus"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "purged the bus of 1 erased citizens' attributes" in done.stdout
    assert [e.subject for e in await stream_events(nats_clean, "referrals")] == ["c-kept"]

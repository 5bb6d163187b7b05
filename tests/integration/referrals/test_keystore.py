"""The key store on its own database (SQLite and PostgreSQL): citizens' keys made, read,
destroyed for good; KEK rotation by the operator command, after which the old KEK is gone
from the file and every key still opens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from services.referrals.crypto import CitizenKey
from services.referrals.kek import FileKek, KeyStoreError
from services.referrals.keystore import KeyDestroyed, KeyStore, StoredKey
from shared.db import Database
from shared.settings import REPO_ROOT
from tests.helpers import production_settings
from tests.integration.referrals.support import second_database


@pytest.fixture
def kek(tmp_path: Path) -> FileKek:
    return FileKek.create(tmp_path / "kek.json")


@pytest.fixture
def key_store_url(database_url: str) -> Iterator[str]:
    with second_database(database_url) as url:
        yield url


@pytest.fixture
def store(key_store_url: str, kek: FileKek) -> Iterator[KeyStore]:
    keys = KeyStore(Database(key_store_url), kek)
    yield keys
    keys.dispose()


def stored(store: KeyStore, ref: str) -> StoredKey | None:
    with store.db.read() as session:
        return session.get(StoredKey, ref)


def test_keys_are_made_once_read_and_destroyed_for_good(store: KeyStore) -> None:
    one = store.create("c-1")
    assert len(one) == 32 and store.create("c-1") == one  # asked again: the same key
    two = store.create("c-2")
    assert one != two
    assert store.get("c-1") == one and store.get("c-9") is None
    assert store.get_many(["c-1", "c-2", "c-9"]) == {"c-1": one, "c-2": two}
    row = stored(store, "c-1")
    assert row is not None and row.wrapped_key is not None and one not in row.wrapped_key  # wrapped at rest

    assert store.destroy("c-1") is True
    assert store.destroy("c-1") is False  # once is enough
    assert store.get("c-1") is None and store.get_many(["c-1", "c-2"]) == {"c-2": two}
    tombstone = stored(store, "c-1")
    assert tombstone is not None and (tombstone.wrapped_key, tombstone.kek_id) == (None, None)
    with pytest.raises(KeyDestroyed):
        store.create("c-1")  # an erased citizen never gets a key again
    # A citizen erased before they had a key: none can be made afterwards either.
    assert store.destroy("c-3") is False and store.is_destroyed("c-3")
    with pytest.raises(KeyDestroyed):
        store.create("c-3")
    assert store.count() == 1


def test_two_batches_making_the_same_citizens_keys_at_once_get_the_same_keys(store: KeyStore) -> None:
    """Two ingestion requests name the same new citizens: whoever writes second meets the
    first one's keys (on PostgreSQL a unique violation, taken one by one) and uses them."""
    store.destroy("c-gone")  # an erased citizen among them gets no key from either
    rounds = [[f"c-{n}-{i}" for i in range(30)] + ["c-gone"] for n in range(15)]
    barrier = threading.Barrier(2)
    answers: list[list[dict[str, bytes]]] = [[], []]
    failures: list[BaseException] = []

    def batches(side: int) -> None:
        try:
            for refs in rounds:
                barrier.wait(timeout=10)
                answers[side].append(store.create_many(refs))
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
            barrier.abort()

    workers = [threading.Thread(target=batches, args=(side,)) for side in (0, 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not failures, failures
    for refs, first, second in zip(rounds, answers[0], answers[1], strict=True):
        assert first == second and set(first) == set(refs) - {"c-gone"}
        assert first == store.get_many(refs)


def test_a_key_from_another_citizen_s_row_does_not_open(store: KeyStore) -> None:
    store.create("c-1")
    store.create("c-2")
    with store.db.transaction() as session:
        first, second = session.get(StoredKey, "c-1"), session.get(StoredKey, "c-2")
        assert first is not None and second is not None
        second.wrapped_key = first.wrapped_key  # copied over by someone with write access
    with pytest.raises(KeyStoreError, match="does not open"):
        store.get("c-2")


def test_on_sqlite_the_destroyed_key_leaves_no_bytes_in_the_files(tmp_path: Path, kek: FileKek) -> None:
    # (A PostgreSQL server's files are the server's: docs/operations.md says what vacuum and rotation do.)
    path = tmp_path / "keys.db"
    store = KeyStore(Database(f"sqlite:///{path}"), kek)
    for n in range(20):
        store.create(f"c-{n}")
    row = stored(store, "c-7")
    assert row is not None and row.wrapped_key is not None
    wrapped = row.wrapped_key

    def on_disk() -> bytes:  # what a copy of the files would hold, the write-ahead log included
        return b"".join(p.read_bytes() for p in tmp_path.glob("keys.db*"))

    assert wrapped in on_disk()
    store.destroy("c-7")
    assert wrapped not in on_disk()  # while the service keeps running
    store.dispose()


def rotate_command(database_url: str, key_store_url: str, kek_file: Path) -> subprocess.CompletedProcess[str]:
    env = {"DATABASE_URL": database_url, "KEY_STORE_URL": key_store_url, "CITIZEN_KEK_FILE": str(kek_file)}
    return run_cli({**os.environ, **env})


def test_rotation_rewraps_every_key_and_the_old_kek_is_gone(
    database_url: str, store: KeyStore, key_store_url: str, kek: FileKek
) -> None:
    keys = {f"c-{n}": store.create(f"c-{n}") for n in range(7)}
    sealed = CitizenKey("c-3", keys["c-3"]).seal_note("r-1", "Noten om Birthe")
    store.destroy("c-6")
    old_id, old_file = kek.active_id, kek.path.read_text()
    backup = stored(store, "c-0")  # as a backup of the key store holds it
    assert backup is not None and backup.kek_id == old_id

    done = rotate_command(database_url, key_store_url, kek.path)
    assert done.returncode == 0, done.stderr
    assert "6 keys rewrapped" in done.stdout and f"dropped from the file: {old_id}" in done.stdout
    assert "6/6" in done.stderr  # the progress bar reached the end

    after = json.loads(kek.path.read_text())
    assert old_id not in after["keys"] and list(after["keys"]) == [after["active"]]
    assert old_file not in kek.path.read_text()
    assert oct(kek.path.stat().st_mode & 0o777) == "0o600"
    with store.db.read() as session:
        in_use = set(session.scalars(select(StoredKey.kek_id).where(StoredKey.kek_id.is_not(None))))
    assert in_use == {after["active"]}
    # The store here read the file before the rotation: it follows it, and everything opens.
    assert store.get_many(keys) == {ref: key for ref, key in keys.items() if ref != "c-6"}
    assert CitizenKey("c-3", store.get("c-3") or b"").open_note("r-1", sealed) == "Noten om Birthe"
    assert store.get("c-6") is None

    # A key-store backup from before the rotation opens no more: its KEK is gone.
    with store.db.transaction() as session:
        row = session.get(StoredKey, "c-0")
        assert row is not None
        row.kek_id, row.wrapped_key = backup.kek_id, backup.wrapped_key
    with pytest.raises(KeyStoreError, match=f"KEK '{old_id}' is not in"):
        store.get("c-0")


def run_cli(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "services.referrals", "keys", "rotate"]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_outside_development_rotate_names_what_is_missing(tmp_path: Path) -> None:
    production = {
        **os.environ,
        **{name.upper(): value for name, value in production_settings().items()},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}",
        "KEY_STORE_URL": f"sqlite:///{tmp_path / 'k.db'}",
    }
    unset = run_cli(production)
    assert unset.returncode == 2 and "CITIZEN_KEK_FILE must be set outside development" in unset.stderr
    missing = run_cli({**production, "CITIZEN_KEK_FILE": str(tmp_path / "missing.json")})
    assert missing.returncode == 1 and "CITIZEN_KEK_FILE: no key file" in missing.stderr
    assert not (tmp_path / "missing.json").exists()  # made only in development

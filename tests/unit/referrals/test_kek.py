"""The KEK file (`FileKek`) and the settings that point at the key store and the KEK: made
0600 in development, required elsewhere, refused when broken, with the setting named."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from services.referrals.kek import FileKek, KeyStoreError
from services.referrals.settings import ReferralsSettings
from tests.helpers import production_settings

KEY = os.urandom(32)


def test_a_new_file_is_private_and_wraps_and_unwraps(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    kek = FileKek.create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    kek_id, wrapped = kek.wrap(KEY, b"c-1")
    assert kek_id == kek.active_id and KEY not in wrapped
    assert FileKek(path).unwrap(kek_id, wrapped, b"c-1") == KEY
    with pytest.raises(KeyStoreError, match="does not open"):
        kek.unwrap(kek_id, wrapped, b"c-2")  # bound to the citizen it was wrapped for
    with pytest.raises(KeyStoreError, match="exists already"):
        FileKek.create(path)


def test_ensure_makes_the_file_once(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "kek.json"
    first = FileKek.ensure(path)
    assert FileKek.ensure(path).active_id == first.active_id


def test_a_service_sees_a_rotation_made_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    running, operator = FileKek.create(path), FileKek(path)
    old_id, wrapped = running.wrap(KEY)
    new_id = operator.add_active()
    assert running.active_id == new_id  # the file changed: read again
    assert running.unwrap(old_id, wrapped) == KEY
    rewrapped_id, rewrapped = operator.wrap(KEY)
    assert operator.keep_only({rewrapped_id}) == [old_id]
    assert running.unwrap(rewrapped_id, rewrapped) == KEY
    with pytest.raises(KeyStoreError, match="not in"):
        running.unwrap(old_id, wrapped)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not a key file"),
        (json.dumps({"active": "a", "keys": {"b": "AAAA"}}), "active KEK 'a' is not among"),
        (json.dumps({"active": "a", "keys": {"a": "c2hvcnQ="}}), "not 32 bytes"),
    ],
)
def test_a_broken_file_is_refused_by_name(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "kek.json"
    path.write_text(content)
    with pytest.raises(KeyStoreError, match=f"CITIZEN_KEK_FILE: .*{message}"):
        FileKek(path)
    with pytest.raises(KeyStoreError, match="CITIZEN_KEK_FILE: no key file"):
        FileKek(tmp_path / "missing.json")


def test_development_keeps_keys_beside_the_database(tmp_path: Path) -> None:
    settings = ReferralsSettings(database_url=f"sqlite:///{tmp_path / 'referrals.db'}")
    assert settings.key_store_url == f"sqlite:///{tmp_path / 'referrals-keys.db'}"
    assert settings.citizen_kek_file == str(tmp_path / "referrals-kek.json")


def test_outside_development_the_key_settings_are_required(tmp_path: Path) -> None:
    production = production_settings(database_url="postgresql://h/referrals")
    with pytest.raises(ValueError, match="KEY_STORE_URL must be set outside development"):
        ReferralsSettings(**production, citizen_kek_file=str(tmp_path / "kek.json"))
    with pytest.raises(ValueError, match="CITIZEN_KEK_FILE must be set outside development"):
        ReferralsSettings(**production, key_store_url="postgresql://h/referrals_keys")
    with pytest.raises(ValueError, match="KEY_STORE_URL must not be DATABASE_URL"):
        ReferralsSettings(
            **production, key_store_url="postgresql://h/referrals", citizen_kek_file=str(tmp_path / "kek.json")
        )

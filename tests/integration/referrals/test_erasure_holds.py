"""Erasure that holds, over real HTTP, NATS and SQLite + PostgreSQL (the key store on a
database of its own): the note is read only by those it is for; erasing a citizen leaves no
readable byte of what was written about them in the live database, cancels their open
referrals (reason `erased`, on the stream), and a backup taken before the erasure, restored
afterwards, cannot be read either."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from services.referrals.tables import Citizen, Loneliness, Referral
from shared.db import make_engine
from shared.settings import REPO_ROOT
from tests.helpers import eventually
from tests.integration.referrals.support import (
    AMB,
    CITIZEN_CONTACT,
    CONTACT,
    GUIDE,
    OTHER_CONTACT,
    PROF,
    Svc,
    running,
    second_database,
    serving,
)

NOTE = "Birthe har angst efter sin skilsmisse og bor alene; hun vil gerne strikke om tirsdagen"
CONSENT = {"purpose": "Henvisning; Birthe vil helst kontaktes gennem sin søster Grethe", "date": "2023-02-17"}
# Codes no other row of the test's world holds (its communities and referrers are elsewhere).
ATTRIBUTES: dict[str, Any] = {
    "consent": CONSENT,
    "age_band": "18-24",
    "area": "roennebaerparken",
    "target_groups": ["single_parents"],
    "languages": ["tigrinya"],
}
# Every piece of what was written or recorded about the citizen, as it would appear in a file
# or a dump. (The age band is too short to scan raw bytes for, as a UUID may hold "18-24";
# `attribute_values` looks for it in the citizen's row.)
SECRETS = ["Birthe", "Testesen", "87 65 43 21", "birthe.testesen", "skilsmisse", "Grethe"]
NOT_IN_EVENTS = ["tigrinya", "2023-02-17"]  # the language and the consent date
CODES = ["roennebaerparken", "single_parents", *NOT_IN_EVENTS]


def readable(blob: bytes, secrets: list[str] = SECRETS + CODES) -> list[str]:
    """The secrets found in `blob`, as text or as PostgreSQL's hex of a bytea."""
    low = blob.lower()
    return [s for s in secrets if s.encode() in blob or s.encode().hex().encode() in low]


def attribute_values(citizen: Any) -> list[str]:
    """The citizen's attribute values (the age band included) readable in any column of their row."""
    wanted = ["18-24", *CODES]
    return [w for w in wanted if any(w in str(value) for value in citizen._mapping.values() if value is not None)]


async def relayed(svc: Svc) -> None:
    """Every outbox row sent: a sent row that carries attributes is deleted at once by the relay
    (shared/outbox.py), the others are kept a week and hold no citizen data."""
    runtime = svc.service.runtime

    def sent() -> bool:
        with runtime.db.read() as session:
            return runtime.outbox.unsent_count(session) == 0

    await eventually(sent, timeout=15)


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def take_backup(database_url: str, to: Path) -> Path:
    """SQLite: a copy of the database file (its online-backup API: the log included);
    PostgreSQL: pg_dump, custom format, uncompressed (so the test can read its bytes)."""
    if database_url.startswith("sqlite"):
        with sqlite3.connect(sqlite_path(database_url)) as source, sqlite3.connect(to) as copy:
            source.backup(copy)
        return to
    subprocess.run(["pg_dump", "--format=custom", "--compress=0", "--file", str(to), database_url], check=True)
    return to


def dump(database_url: str, to: Path) -> bytes:
    """Every byte the live database holds that a copy of it would."""
    if database_url.startswith("sqlite"):
        path = sqlite_path(database_url)
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    return take_backup(database_url, to).read_bytes()


@contextmanager
def restored(database_url: str, backup: Path, tmp_path: Path) -> Iterator[str]:
    """The backup restored into a fresh database."""
    if database_url.startswith("sqlite"):
        (tmp_path / "restored").mkdir()
        target = tmp_path / "restored" / "referrals.db"
        shutil.copy(backup, target)
        yield f"sqlite:///{target}"
        return
    with second_database(database_url, "restored") as url:
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", url, str(backup)], check=True)
        yield url


def rows(database_url: str, ref: str) -> tuple[Any, list[Any], int]:
    """The citizen's row, their referrals' rows and how many loneliness measures they have."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            citizen = conn.execute(select(Citizen).where(Citizen.citizen_ref == ref)).one()
            referrals = list(conn.execute(select(Referral).where(Referral.citizen_ref == ref)).all())
            measures = conn.scalar(
                select(func.count())
                .select_from(Loneliness)
                .where(Loneliness.referral_id.in_([r.referral_id for r in referrals]))
            )
    finally:
        engine.dispose()
    return citizen, referrals, int(measures or 0)


async def note_and_contact(svc: Svc, tok: str, referral_id: str) -> tuple[Any, Any]:
    seen = await svc.ok(tok, "GET", f"/v1/referrals/{referral_id}")
    return seen["note"], seen["shared_contact"]


async def test_the_note_is_for_the_referrer_and_staff_and_shared_only_with_consent(
    database_url: str, nats_clean: str
) -> None:
    async with running(database_url, nats_clean) as svc:
        with_consent = await svc.citizen(consent={})
        shared = await svc.referral(
            citizen_ref=with_consent, note=NOTE, share_note_with_community=True, needs_accompaniment=True
        )
        kept = await svc.referral(citizen_ref=with_consent, note=NOTE, needs_accompaniment=True)
        assert (shared["note"], shared["share_note_with_community"]) == (NOTE, True)
        assert kept["share_note_with_community"] is False
        for referral in (shared, kept):
            arranged = await svc.ok(
                PROF,
                "POST",
                f"/v1/referrals/{referral['referral_id']}/arrange_accompaniment",
                json={"companion_id": "amb-lars"},
            )
            assert arranged["note"] == NOTE  # the referrer's answer shows it

        for tok, sees_shared, sees_kept in (
            (PROF, True, True),
            (GUIDE, True, True),
            (CONTACT, True, False),  # the community's contact: only the shared one
            (AMB, True, False),  # the arranged companion: likewise
        ):
            assert (await note_and_contact(svc, tok, shared["referral_id"]))[0] == (NOTE if sees_shared else None)
            assert (await note_and_contact(svc, tok, kept["referral_id"]))[0] == (NOTE if sees_kept else None)
        listed = {r["referral_id"]: r["note"] for r in await svc.ok(CONTACT, "GET", "/v1/referrals")}
        assert listed == {shared["referral_id"]: NOTE, kept["referral_id"]: None}
        assert (await svc.call(OTHER_CONTACT, "GET", f"/v1/referrals/{shared['referral_id']}")).status_code == 403

        # Without recorded consent the note cannot be marked for sharing: a 422 naming the field.
        without = await svc.citizen()
        body = {"citizen_ref": without, "community_id": "strik", "note": NOTE, "share_note_with_community": True}
        refused = await svc.call(PROF, "POST", "/v1/referrals", json=body)
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["details"] == {"field": "share_note_with_community"} and "consent" in error["message"]
        assert await svc.ok(PROF, "GET", "/v1/referrals", params={"citizen": without}) == []  # no half-write

        # Sealed at rest: the database holds no word of it, and no event carries it.
        engine = make_engine(database_url)
        try:
            with engine.connect() as conn:
                sealed = conn.scalar(
                    select(Referral.note_ciphertext).where(Referral.referral_id == kept["referral_id"])
                )
        finally:
            engine.dispose()
        assert sealed is not None and b"angst" not in sealed
        assert NOTE not in str([e.to_dict() for e in await svc.events()])


async def test_erasure_leaves_nothing_readable_now_nor_in_a_backup_taken_before(
    database_url: str, nats_clean: str, tmp_path: Path
) -> None:
    assert readable(CITIZEN_CONTACT["name"].encode()) == ["Birthe", "Testesen"]  # the check finds what is there
    kek_file = str(tmp_path / "citizen-kek.json")
    with second_database(database_url) as keys_url:
        async with running(database_url, nats_clean, key_store_url=keys_url, citizen_kek_file=kek_file) as svc:
            ref = await svc.citizen(**ATTRIBUTES)
            still_open = await svc.referral(
                citizen_ref=ref, note=NOTE, share_note_with_community=True, share_contact_with_community=True
            )
            welcomed = await svc.referral(citizen_ref=ref, community_id="kor", note=NOTE)
            open_id, welcomed_id = still_open["referral_id"], welcomed["referral_id"]
            await svc.ok(GUIDE, "POST", f"/v1/referrals/{welcomed_id}/welcome")
            measure = {"moment": "referral", "answers": [3, 2, 3], "consent": True}
            await svc.ok(PROF, "POST", f"/v1/referrals/{open_id}/loneliness", 201, json=measure)
            assert await note_and_contact(svc, CONTACT, open_id) == (
                NOTE,
                {"first_name": "Birthe", "phone": "+45 87 65 43 21"},
            )
            record = await svc.ok(PROF, "GET", f"/v1/citizens/{ref}")
            assert (record["consent"]["purpose"], record["consent"]["date"]) == (CONSENT["purpose"], "2023-02-17")
            opened = {k: record[k] for k in ("age_band", "area", "target_groups", "languages")}
            assert opened == {k: v for k, v in ATTRIBUTES.items() if k != "consent"}

            await relayed(svc)
            backup = take_backup(database_url, tmp_path / "before-erasure.backup")
            assert readable(backup.read_bytes()) == []  # sealed at rest: the backup holds ciphertext only

            erased = await svc.ok(GUIDE, "DELETE", f"/v1/citizens/{ref}")
            assert erased["referrals_cancelled"] == 1
            twice = await svc.call(GUIDE, "DELETE", f"/v1/citizens/{ref}")
            assert twice.status_code == 410

            # The service: nothing to read, the open referral cancelled, the welcomed one kept.
            assert (await svc.call(GUIDE, "GET", f"/v1/citizens/{ref}/contact")).status_code == 410
            for tok in (GUIDE, PROF, CONTACT):
                assert await note_and_contact(svc, tok, open_id) == (None, None)
            cancelled = await svc.ok(GUIDE, "GET", f"/v1/referrals/{open_id}")
            assert (cancelled["status"], cancelled["allowed_actions"], cancelled["loneliness"]) == ("cancelled", [], [])
            assert (await svc.ok(GUIDE, "GET", f"/v1/referrals/{welcomed_id}"))["status"] == "welcomed"
            timeline = await svc.ok(GUIDE, "GET", f"/v1/referrals/{open_id}/timeline")
            assert (timeline[-1]["type"], timeline[-1]["data"]) == ("ReferralCancelled", {"reason": "erased"})
            record = await svc.ok(GUIDE, "GET", f"/v1/citizens/{ref}")
            assert (record["erased"], record["consent"], record["area"], record["target_groups"]) == (
                True,
                None,
                None,
                [],
            )

            # On the stream: the cancellation with its reason, then the erasure; no other referral moved.
            cancels = await svc.wait_events(1, type_suffix="ReferralCancelled.v1")
            assert [(e.subject, e.data) for e in cancels] == [(open_id, {"referral_id": open_id, "reason": "erased"})]
            erasures = await svc.wait_events(1, type_suffix="CitizenErased.v1")
            assert [e.data for e in erasures] == [{"citizen_ref": ref}]
            assert cancels[0].time <= erasures[0].time

            # The live database: the ciphertexts and attributes gone, the measures deleted, and
            # not one readable byte of any of it in the files (or the dump) a copy would take.
            citizen, referrals, measures = rows(database_url, ref)
            sealed = (citizen.contact_ciphertext, citizen.attributes_ciphertext, citizen.consent_purpose_ciphertext)
            assert sealed == (None, None, None) and attribute_values(citizen) == []
            assert [r.note_ciphertext for r in referrals] == [None, None] and measures == 0
            assert readable(dump(database_url, tmp_path / "live.backup")) == []
            # The key store: the citizen's key is destroyed for good.
            assert svc.service.vault.key_of(ref) is None and svc.service.vault.keys.is_destroyed(ref)

        # The backup from before, restored into a fresh database, with today's key store.
        with restored(database_url, backup, tmp_path) as old_url:
            old_citizen, old_referrals, _ = rows(old_url, ref)
            assert old_citizen.contact_ciphertext is not None  # the ciphertext is there…
            assert old_citizen.attributes_ciphertext is not None and attribute_values(old_citizen) == []
            assert all(r.note_ciphertext is not None for r in old_referrals)
            async with serving(old_url, nats_clean, key_store_url=keys_url, citizen_kek_file=kek_file) as old:
                # …and nothing opens it.
                assert (await old.call(GUIDE, "GET", f"/v1/citizens/{ref}/contact")).status_code == 410
                for tok in (GUIDE, PROF, CONTACT):
                    assert await note_and_contact(old, tok, open_id) == (None, None)
                assert (await old.ok(GUIDE, "GET", f"/v1/referrals/{welcomed_id}"))["note"] is None
                record = await old.ok(GUIDE, "GET", f"/v1/citizens/{ref}")
                assert (record["erased"], record["has_contact"], record["consent"]) == (True, False, None)
                assert (record["age_band"], record["area"], record["target_groups"], record["languages"]) == (
                    None,
                    None,
                    [],
                    [],
                )
            # The operator erases again whom the key store says was erased since the backup.
            env = {"DATABASE_URL": old_url, "KEY_STORE_URL": keys_url, "CITIZEN_KEK_FILE": kek_file}
            again = subprocess.run(
                [sys.executable, "-m", "services.referrals", "reapply-erasures"],
                cwd=REPO_ROOT,
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert again.returncode == 0 and again.stdout.startswith("1 citizens erased again"), again.stderr
            citizen, referrals, measures = rows(old_url, ref)
            assert citizen.erased_at is not None
            assert (citizen.contact_ciphertext, citizen.attributes_ciphertext) == (None, None)
            assert {r.referral_id: r.status for r in referrals} == {open_id: "cancelled", welcomed_id: "welcomed"}
            assert [r.note_ciphertext for r in referrals] == [None, None] and measures == 0

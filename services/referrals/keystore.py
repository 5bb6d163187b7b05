"""The key store: every citizen's own data key, wrapped by a key-encryption key (KEK), in a
database of its own (`KEY_STORE_URL`), never in the referrals database.

Why apart: a copy of the referrals database (a backup, a replica, a dump on a laptop) holds
only ciphertext; a copy of the key store holds only wrapped keys; and the KEK is in neither,
but in a file (`CITIZEN_KEK_FILE`) or, behind `KekProvider`, a KMS. Erasure destroys the
citizen's key here (crypto-shredding): every copy of their ciphertext, backups taken before
included, is noise from then on.

A destroyed key leaves a tombstone (the row without key bytes), so a citizen's key is never
made again after their erasure, whatever request races the erasure. On SQLite the destroyed
bytes are overwritten (`secure_delete`) and the write-ahead log is emptied at once; on
PostgreSQL the old row version stays in the files until vacuum reuses its space, still
wrapped by the KEK: rotating the KEK (`rotate`) is what retires such leftovers and every
key-store backup taken before.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary, MetaData, String, Table, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.referrals.kek import FileKek, KekProvider, KeyStoreError
from shared.db import Database, UtcDateTime, insert_rows

log = logging.getLogger("vejviser.referrals.keystore")

CHUNK = 500  # refs per IN (…) and keys per rewrap transaction


class KeyDestroyed(KeyStoreError):
    """The citizen's key was destroyed (erased): it is never made again."""


# ---------------------------------------------------------------------- the store


class KeyBase(DeclarativeBase):
    metadata = MetaData()
    type_annotation_map = {datetime: UtcDateTime()}  # noqa: RUF012


class StoredKey(KeyBase):
    """A citizen's data key wrapped by KEK `kek_id`; both null once destroyed (a tombstone)."""

    __tablename__ = "citizen_key"
    citizen_ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    kek_id: Mapped[str | None] = mapped_column(String(60), index=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    destroyed_at: Mapped[datetime | None]


def _aad(citizen_ref: str) -> bytes:
    # Bound to the citizen: a wrapped key copied onto another citizen's row does not open.
    return b"citizen-key|" + citizen_ref.encode()


class KeyStore:
    def __init__(self, database: Database, kek: KekProvider) -> None:
        self.db, self.kek = database, kek
        database.create_schema(KeyBase.metadata)

    def dispose(self) -> None:
        self.db.dispose()

    def create(self, citizen_ref: str) -> bytes:
        """A new random key for the citizen (their existing one if they have one already)."""
        key = AESGCM.generate_key(bit_length=256)
        kek_id, wrapped = self.kek.wrap(key, _aad(citizen_ref))
        try:
            with self.db.transaction() as session:
                found = session.get(StoredKey, citizen_ref)
                if found is None:
                    session.add(
                        StoredKey(
                            citizen_ref=citizen_ref,
                            kek_id=kek_id,
                            wrapped_key=wrapped,
                            created_at=datetime.now(UTC),
                            destroyed_at=None,
                        )
                    )
                    return key
        except IntegrityError:
            pass  # made by a concurrent request a moment ago: theirs counts
        existing = self.get(citizen_ref)
        if existing is None:
            raise KeyDestroyed(f"the key of citizen {citizen_ref!r} has been destroyed (erased)")
        return existing

    def create_many(self, citizen_refs: Iterable[str]) -> dict[str, bytes]:
        """The keys of these citizens, made now (CHUNK per transaction) for those who have
        none; a destroyed key is left out, never made again. One transaction per chunk reads
        the stored keys and writes the new ones."""
        wanted = sorted(set(citizen_refs))
        keys: dict[str, bytes] = {}
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            try:
                with self.db.transaction() as session:
                    stored = list(session.scalars(select(StoredKey).where(StoredKey.citizen_ref.in_(chunk))))
                    known = {row.citizen_ref for row in stored}
                    now = datetime.now(UTC)
                    made = {ref: AESGCM.generate_key(bit_length=256) for ref in chunk if ref not in known}
                    rows = []
                    for ref, key in made.items():
                        kek_id, wrapped = self.kek.wrap(key, _aad(ref))
                        rows.append({"citizen_ref": ref, "kek_id": kek_id, "wrapped_key": wrapped, "created_at": now})
                    insert_rows(session, cast(Table, StoredKey.__table__), rows)  # destroyed_at stays null
            except IntegrityError:  # some made by a concurrent request a moment ago: one by one
                for ref in chunk:
                    with contextlib.suppress(KeyDestroyed):  # erased: left out below
                        self.create(ref)
                keys.update(self.get_many(chunk))
                continue
            keys.update(made)
            for row in stored:
                opened = self._open(row)
                if opened is not None:  # None: destroyed (erased), left out
                    keys[row.citizen_ref] = opened
        return keys

    def get(self, citizen_ref: str) -> bytes | None:
        """The citizen's key; None when they never had one or it was destroyed."""
        with self.db.read() as session:
            row = session.get(StoredKey, citizen_ref)
            return self._open(row) if row is not None else None

    def get_many(self, citizen_refs: Iterable[str]) -> dict[str, bytes]:
        wanted = sorted(set(citizen_refs))
        found: dict[str, bytes] = {}
        with self.db.read() as session:
            for start in range(0, len(wanted), CHUNK):
                query = select(StoredKey).where(StoredKey.citizen_ref.in_(wanted[start : start + CHUNK]))
                for row in session.scalars(query):
                    key = self._open(row)
                    if key is not None:
                        found[row.citizen_ref] = key
        return found

    def is_destroyed(self, citizen_ref: str) -> bool:
        with self.db.read() as session:
            row = session.get(StoredKey, citizen_ref)
            return row is not None and row.wrapped_key is None

    def destroyed(self) -> set[str]:
        """The citizens whose key was destroyed (the erasures, as the key store remembers them)."""
        with self.db.read() as session:
            return set(session.scalars(select(StoredKey.citizen_ref).where(StoredKey.wrapped_key.is_(None))))

    def destroy(self, citizen_ref: str) -> bool:
        """Crypto-shred: the key is gone for good. True when there was a key to destroy."""
        try:
            had_key = self._destroy(citizen_ref)
        except IntegrityError:  # a key was made at the same moment as our tombstone: destroy it
            had_key = self._destroy(citizen_ref)
        if had_key and not self.db.forget_wal():
            # The page that held the key is also in the write-ahead log (SQLite).
            log.warning("the key store's write-ahead log could not be truncated; retried at the next erasure")
        return had_key

    def _destroy(self, citizen_ref: str) -> bool:
        now = datetime.now(UTC)
        with self.db.transaction() as session:
            destroyed = session.execute(
                update(StoredKey)
                .where(StoredKey.citizen_ref == citizen_ref, StoredKey.wrapped_key.is_not(None))
                .values(wrapped_key=None, kek_id=None, destroyed_at=now)
            )
            if destroyed.rowcount:  # type: ignore[attr-defined]
                return True
            if session.get(StoredKey, citizen_ref) is None:  # never had one: none may be made now
                session.add(
                    StoredKey(citizen_ref=citizen_ref, kek_id=None, wrapped_key=None, created_at=now, destroyed_at=now)
                )
            return False

    # ------------------------------------------------------------------ rotation

    def count(self) -> int:
        """How many live (not destroyed) keys there are: what a rotation rewraps."""
        with self.db.read() as session:
            query = select(func.count()).select_from(StoredKey).where(StoredKey.wrapped_key.is_not(None))
            return int(session.scalar(query) or 0)

    def kek_ids_in_use(self) -> set[str]:
        with self.db.read() as session:
            query = select(StoredKey.kek_id).where(StoredKey.kek_id.is_not(None)).distinct()
            return {kek_id for kek_id in session.scalars(query) if kek_id is not None}

    def rewrap_all(self, progress: Callable[[int], None] | None = None) -> int:
        """Wrap every key with the active KEK (those wrapped by another), CHUNK keys per
        transaction; returns how many. A key destroyed meanwhile stays destroyed."""
        active, done = self.kek.active_id, 0
        while True:
            with self.db.transaction() as session:
                query = select(StoredKey).where(StoredKey.kek_id != active).order_by(StoredKey.citizen_ref)
                # Locked (PostgreSQL), so an erasure meanwhile waits and is not undone by our write.
                rows = list(session.scalars(query.limit(CHUNK).with_for_update()))
                for row in rows:
                    assert row.kek_id is not None and row.wrapped_key is not None  # a tombstone has no kek_id
                    key = self.kek.unwrap(row.kek_id, row.wrapped_key, _aad(row.citizen_ref))
                    row.kek_id, row.wrapped_key = self.kek.wrap(key, _aad(row.citizen_ref))
            done += len(rows)
            if progress is not None and rows:
                progress(len(rows))
            if len(rows) < CHUNK:
                return done

    def _open(self, row: StoredKey) -> bytes | None:
        if row.wrapped_key is None or row.kek_id is None:
            return None
        return self.kek.unwrap(row.kek_id, row.wrapped_key, _aad(row.citizen_ref))


@dataclass(frozen=True)
class Rotation:
    active: str
    rewrapped: int
    dropped: list[str]


def rotate(kek: FileKek, store: KeyStore, *, progress: Callable[[int], None] | None = None) -> Rotation:
    """A new active KEK, every key rewrapped with it, and KEKs no key uses any more dropped
    from the file. Safe to run again after a crash; a KEK still in use is never dropped."""
    active = kek.add_active()
    rewrapped = store.rewrap_all(progress)
    dropped = kek.keep_only(store.kek_ids_in_use())
    return Rotation(active, rewrapped, dropped)

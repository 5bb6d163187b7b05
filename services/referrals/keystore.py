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

import base64
import contextlib
import json
import logging
import os
import secrets
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary, MetaData, String, event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import Database, UtcDateTime

log = logging.getLogger("vejviser.referrals.keystore")

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12
CHUNK = 500  # refs per IN (…) and keys per rewrap transaction


class KeyStoreError(Exception):
    """The key store or its KEK cannot do what was asked (the message says what to fix)."""


class KeyDestroyed(KeyStoreError):
    """The citizen's key was destroyed (erased): it is never made again."""


# ---------------------------------------------------------------------- the KEK


class KekProvider(Protocol):
    """Wraps citizens' keys with the active key-encryption key and unwraps with any it holds."""

    @property
    def active_id(self) -> str: ...

    def wrap(self, key: bytes, aad: bytes = b"") -> tuple[str, bytes]: ...

    def unwrap(self, kek_id: str, wrapped: bytes, aad: bytes = b"") -> bytes: ...


def new_kek_id() -> str:
    # Dated so an operator sees at a glance which rotation a key came from.
    return f"kek-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FileKek:
    """KEKs from a JSON file `{"active": "<id>", "keys": {"<id>": "<urlsafe b64 of 32 bytes>"}}`.

    The file is read again whenever it changed, so a service that runs through a rotation
    wraps new keys with the new KEK, opens rewrapped ones, and forgets the KEKs dropped."""

    SETTING = "CITIZEN_KEK_FILE"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._seen: tuple[int, int, int] | None = None
        self._active = ""
        self._keys: dict[str, bytes] = {}
        self._load()

    # ------------------------------------------------------------------ the file

    @classmethod
    def create(cls, path: Path | str) -> FileKek:
        """A new file with one fresh KEK (mode 0600); refuses to overwrite one."""
        path = Path(path)
        if path.exists():
            raise KeyStoreError(f"{cls.SETTING}: {path} exists already; rotate it (`keys rotate`) instead")
        path.parent.mkdir(parents=True, exist_ok=True)
        kek_id = new_kek_id()
        _write_exclusive(path, {"active": kek_id, "keys": {kek_id: _b64(AESGCM.generate_key(bit_length=256))}})
        return cls(path)

    @classmethod
    def ensure(cls, path: Path | str) -> FileKek:
        """The file at `path`, made first if it is missing (development only)."""
        path = Path(path)
        if not path.exists():
            try:
                created = cls.create(path)
                log.warning("made a new citizen KEK file %s (development)", path)
                return created
            except (FileExistsError, KeyStoreError):
                pass  # another process made it at the same moment: use theirs
        return cls(path)

    def _stat(self) -> tuple[int, int, int]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            raise KeyStoreError(f"{self.SETTING}: no key file at {self.path}") from None
        # Every save is a new file (write, then rename): a new inode, whatever the clock says.
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _load(self) -> None:
        seen = self._stat()
        try:
            data = json.loads(self.path.read_text())
            active, keys = data["active"], {str(k): _unb64(str(v)) for k, v in data["keys"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyStoreError(
                f"{self.SETTING}: {self.path} is not a key file "
                '{"active": "<id>", "keys": {"<id>": "<urlsafe base64 of 32 bytes>"}}'
            ) from exc
        if active not in keys:
            raise KeyStoreError(f"{self.SETTING}: the active KEK {active!r} is not among the file's keys")
        short = [k for k, v in keys.items() if len(v) != KEY_BYTES]
        if short:
            raise KeyStoreError(f"{self.SETTING}: KEK {short[0]!r} is not 32 bytes (AES-256)")
        self._active, self._keys, self._seen = active, keys, seen

    def _fresh(self) -> None:
        if self._stat() != self._seen:
            self._load()

    def _save(self, active: str, keys: dict[str, bytes]) -> None:
        _replace_file(self.path, {"active": active, "keys": {k: _b64(v) for k, v in keys.items()}})
        self._load()

    # ------------------------------------------------------------------ KekProvider

    @property
    def active_id(self) -> str:
        self._fresh()
        return self._active

    @property
    def ids(self) -> list[str]:
        self._fresh()
        return list(self._keys)

    def wrap(self, key: bytes, aad: bytes = b"") -> tuple[str, bytes]:
        self._fresh()
        nonce = os.urandom(NONCE_BYTES)
        return self._active, nonce + AESGCM(self._keys[self._active]).encrypt(nonce, key, aad)

    def unwrap(self, kek_id: str, wrapped: bytes, aad: bytes = b"") -> bytes:
        self._fresh()  # a KEK dropped by a rotation is gone from running services too
        kek = self._keys.get(kek_id)
        if kek is None:
            raise KeyStoreError(f"{self.SETTING}: KEK {kek_id!r} is not in {self.path} (dropped, or another file)")
        try:
            return AESGCM(kek).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)
        except (InvalidTag, ValueError) as exc:
            raise KeyStoreError(f"a key wrapped by KEK {kek_id!r} does not open (tampered, or another file)") from exc

    # ------------------------------------------------------------------ rotation

    def add_active(self) -> str:
        """A new KEK, made the active one; the old ones stay until no key uses them."""
        self._fresh()
        kek_id = new_kek_id()
        self._save(kek_id, {**self._keys, kek_id: AESGCM.generate_key(bit_length=256)})
        return kek_id

    def keep_only(self, in_use: Iterable[str]) -> list[str]:
        """Drop every KEK but the active one and those in `in_use`; returns the dropped ids."""
        self._fresh()
        keep = {self._active, *in_use}
        dropped = [k for k in self._keys if k not in keep]
        if dropped:
            self._save(self._active, {k: v for k, v in self._keys.items() if k in keep})
        return dropped


def _write_exclusive(path: Path, data: dict[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=2)
        out.flush()
        os.fsync(out.fileno())


def _replace_file(path: Path, data: dict[str, Any]) -> None:
    """Write-then-rename: a crash leaves the old file or the new one, never half of one."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


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


def _secure_delete(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA secure_delete=ON")  # freed space is zeroed, not left readable
    cursor.close()


class KeyStore:
    def __init__(self, database: Database, kek: KekProvider) -> None:
        self.db, self.kek = database, kek
        self.sqlite = database.engine.dialect.name == "sqlite"
        if self.sqlite:
            event.listen(database.engine, "connect", _secure_delete)
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
        none; a destroyed key is left out, never made again."""
        wanted = sorted(set(citizen_refs))
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            try:
                with self.db.transaction() as session:
                    known = set(session.scalars(select(StoredKey.citizen_ref).where(StoredKey.citizen_ref.in_(chunk))))
                    now = datetime.now(UTC)
                    for ref in chunk:
                        if ref not in known:
                            kek_id, wrapped = self.kek.wrap(AESGCM.generate_key(bit_length=256), _aad(ref))
                            session.add(
                                StoredKey(
                                    citizen_ref=ref,
                                    kek_id=kek_id,
                                    wrapped_key=wrapped,
                                    created_at=now,
                                    destroyed_at=None,
                                )
                            )
            except IntegrityError:  # some made by a concurrent request a moment ago: one by one
                for ref in chunk:
                    with contextlib.suppress(KeyDestroyed):  # erased: left out below
                        self.create(ref)
        return self.get_many(wanted)

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
        if had_key and self.sqlite:
            # The page that held the key is also in the write-ahead log: write it back and
            # empty the log, so the file system keeps no copy of the destroyed key.
            raw = self.db.engine.raw_connection()  # outside a transaction, as a checkpoint must be
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
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

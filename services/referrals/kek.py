"""The key-encryption key (KEK) that wraps every citizen's data key: a file of its own
(`CITIZEN_KEK_FILE`, mode 0600, read only by the referrals service), or any KMS behind
`KekProvider`. Rotation adds a KEK, makes it active, and drops those no key uses any more
(keystore.rotate)."""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.referrals import aead

log = logging.getLogger("vejviser.referrals.kek")

KEY_BYTES = 32  # AES-256


class KeyStoreError(Exception):
    """The key store or its KEK cannot do what was asked (the message says what to fix)."""


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
        return self._active, aead.seal(self._keys[self._active], key, aad)

    def unwrap(self, kek_id: str, wrapped: bytes, aad: bytes = b"") -> bytes:
        self._fresh()  # a KEK dropped by a rotation is gone from running services too
        kek = self._keys.get(kek_id)
        if kek is None:
            raise KeyStoreError(f"{self.SETTING}: KEK {kek_id!r} is not in {self.path} (dropped, or another file)")
        try:
            return aead.unseal(kek, wrapped, aad)
        except aead.Broken as exc:
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

"""Sealing what is written about a citizen with the citizen's own key (crypto-shredding).

Each citizen's contact data, the notes on their referrals, their consent attributes
(attributes.py) and the purpose recorded with their consent are sealed with AES-256-GCM under
the citizen's own random key, which lives only in the key store (`keystore.py`: its own
database, the key wrapped by the KEK from a file). The referrals database holds ciphertext and
no key. Erasure destroys the key: the ciphertext, in the live database and in every backup,
can no longer be read.

Each kind of sealed text has associated data naming what it is and whose: a ciphertext copied
to another citizen's row, or a note copied to another referral, does not open.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from services.referrals import aead
from services.referrals.attributes import CitizenAttributes
from services.referrals.kek import FileKek
from services.referrals.keystore import KeyDestroyed, KeyStore
from services.referrals.settings import ReferralsSettings
from shared.db import Database


class Unreadable(Exception):
    """Sealed data cannot be opened (the citizen's key destroyed, or the data tampered with)."""


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    try:
        return aead.unseal(key, sealed, aad)
    except aead.Broken as exc:
        raise Unreadable("the sealed data cannot be opened") from exc


T = TypeVar("T")


def opened(key: CitizenKey | None, sealed: bytes | None, how: Callable[[CitizenKey, bytes], T]) -> T | None:
    """What `sealed` holds, opened with the citizen's `key` by `how`; None when there is
    nothing to open, or it no longer opens (the citizen erased: their key is gone)."""
    if key is None or sealed is None:
        return None
    try:
        return how(key, sealed)
    except Unreadable:
        return None


def opened_note(key: CitizenKey | None, referral_id: str, sealed: bytes | None) -> str | None:
    """`opened` for a referral's note, which is bound to its referral."""

    def note(citizen_key: CitizenKey, ciphertext: bytes) -> str:
        return citizen_key.open_note(referral_id, ciphertext)

    return opened(key, sealed, note)


@dataclass(frozen=True)
class CitizenKey:
    """One citizen's key, and what is sealed with it."""

    citizen_ref: str
    key: bytes

    def _aad(self, kind: str, *more: str) -> bytes:
        return "|".join((kind, self.citizen_ref, *more)).encode()

    def seal_contact(self, contact: Mapping[str, str | None]) -> bytes:
        return aead.seal(self.key, json.dumps(contact, ensure_ascii=False).encode(), self._aad("contact"))

    def open_contact(self, sealed: bytes) -> dict[str, str | None]:
        data: dict[str, str | None] = json.loads(_open(self.key, sealed, self._aad("contact")))
        return data

    def seal_note(self, referral_id: str, note: str) -> bytes:
        return aead.seal(self.key, note.encode(), self._aad("note", referral_id))

    def open_note(self, referral_id: str, sealed: bytes) -> str:
        return _open(self.key, sealed, self._aad("note", referral_id)).decode()

    def seal_consent_purpose(self, purpose: str) -> bytes:
        return aead.seal(self.key, purpose.encode(), self._aad("consent"))

    def open_consent_purpose(self, sealed: bytes) -> str:
        return _open(self.key, sealed, self._aad("consent")).decode()

    def seal_attributes(self, attributes: CitizenAttributes) -> bytes:
        return aead.seal(self.key, attributes.to_json(), self._aad("attributes"))

    def open_attributes(self, sealed: bytes) -> CitizenAttributes:
        return CitizenAttributes.from_json(_open(self.key, sealed, self._aad("attributes")))


class CitizenVault:
    """Citizens' keys from the key store, as `CitizenKey`s. The store is opened on first use
    (or by `open()` at start-up), so building the app (e.g. for its OpenAPI document) touches
    no key file and no key database."""

    def __init__(self, open_keys: Callable[[], KeyStore]) -> None:
        self._open_keys = open_keys
        self._keys: KeyStore | None = None
        self._lock = threading.Lock()

    @property
    def keys(self) -> KeyStore:
        with self._lock:
            if self._keys is None:
                self._keys = self._open_keys()
            return self._keys

    def open(self) -> None:
        """Open the key store now: a missing or broken KEK file stops the start-up, by name."""
        self.keys  # noqa: B018 - opening is the point

    def close(self) -> None:
        with self._lock:
            if self._keys is not None:
                self._keys.dispose()
                self._keys = None

    def key_of(self, citizen_ref: str) -> CitizenKey | None:
        """The citizen's key; None when they have none (never had, or erased)."""
        key = self.keys.get(citizen_ref)
        return CitizenKey(citizen_ref, key) if key is not None else None

    def keys_of(self, citizen_refs: Iterable[str]) -> dict[str, CitizenKey]:
        return {ref: CitizenKey(ref, key) for ref, key in self.keys.get_many(citizen_refs).items()}

    def key_to_seal(self, citizen_ref: str) -> CitizenKey:
        """The citizen's key, made now if they have none; Unreadable once they are erased."""
        found = self.key_of(citizen_ref)
        if found is not None:
            return found
        try:
            return CitizenKey(citizen_ref, self.keys.create(citizen_ref))
        except KeyDestroyed as exc:
            raise Unreadable(str(exc)) from exc

    def keys_to_seal(self, citizen_refs: Iterable[str]) -> dict[str, CitizenKey]:
        """`key_to_seal` for many citizens in one round trip; the erased are left out."""
        return {ref: CitizenKey(ref, key) for ref, key in self.keys.create_many(citizen_refs).items()}

    def destroy(self, citizen_ref: str) -> bool:
        return self.keys.destroy(citizen_ref)


def kek_from_settings(settings: ReferralsSettings) -> FileKek:
    """The KEK file: made (0600) when missing in development, required everywhere else."""
    path = Path(settings.citizen_kek_file)
    if settings.development:
        return FileKek.ensure(path)
    return FileKek(path)


def vault_from_settings(settings: ReferralsSettings) -> CitizenVault:
    """The vault over the key store's own database (`KEY_STORE_URL`) and the KEK file."""
    return CitizenVault(lambda: KeyStore(Database(settings.key_store_url), kek_from_settings(settings)))

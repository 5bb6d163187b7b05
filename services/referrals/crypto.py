"""Envelope encryption of citizens' contact data (crypto-shredding).

Each citizen's contact data is sealed with its own random AES-256-GCM key; that key is stored
only wrapped (encrypted) by the service's master key (`CITIZEN_MASTER_KEY`). Erasure deletes
the wrapped key: the ciphertext may live on in backups, but nobody can read it any more.
The citizen_ref is bound as associated data, so a ciphertext copied to another citizen's
row does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class ContactUnreadable(Exception):
    """The contact data cannot be decrypted (key destroyed, wrong master key, tampering)."""


def master_key_from_setting(value: str, token_secret: str) -> bytes:
    """The 32-byte master key: CITIZEN_MASTER_KEY (urlsafe base64 of 32 bytes), or in
    development a key derived from the token secret so `make run` needs no configuration."""
    if value:
        try:
            key = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except ValueError as exc:
            raise ValueError("CITIZEN_MASTER_KEY must be urlsafe base64 of 32 random bytes") from exc
        if len(key) != 32:
            raise ValueError("CITIZEN_MASTER_KEY must decode to exactly 32 bytes (AES-256)")
        return key
    return hashlib.sha256(b"vejviser-citizen-master-key|" + token_secret.encode()).digest()


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except (InvalidTag, ValueError) as exc:
        raise ContactUnreadable("the contact data cannot be decrypted") from exc


@dataclass(frozen=True)
class Sealed:
    wrapped_key: bytes
    ciphertext: bytes


class CitizenVault:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self._master = master_key

    def seal(self, citizen_ref: str, contact: dict[str, str | None]) -> Sealed:
        aad = citizen_ref.encode()
        citizen_key = AESGCM.generate_key(bit_length=256)
        ciphertext = _seal(citizen_key, json.dumps(contact, ensure_ascii=False).encode(), aad)
        return Sealed(wrapped_key=_seal(self._master, citizen_key, b"key|" + aad), ciphertext=ciphertext)

    def open(self, citizen_ref: str, wrapped_key: bytes | None, ciphertext: bytes) -> dict[str, str | None]:
        if wrapped_key is None:
            raise ContactUnreadable("the citizen's key has been destroyed (erased)")
        aad = citizen_ref.encode()
        citizen_key = _open(self._master, wrapped_key, b"key|" + aad)
        data: dict[str, str | None] = json.loads(_open(citizen_key, ciphertext, aad))
        return data

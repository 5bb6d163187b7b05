"""The one sealing primitive of the referrals service: AES-256-GCM with a random nonce in
front of the ciphertext. Citizen data is sealed with the citizen's key (crypto.py), citizens'
keys with the key-encryption key (kek.py); associated data binds each to where it belongs."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class Broken(Exception):
    """The sealed bytes do not open with this key and associated data (wrong key, tampered)."""


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except (InvalidTag, ValueError) as exc:
        raise Broken from exc

"""Per-citizen envelope encryption and crypto-shredding."""

from __future__ import annotations

import base64
import os

import pytest

from services.referrals.crypto import CitizenVault, ContactUnreadable, master_key_from_setting

CONTACT = {"name": "Birthe Hansen", "phone": "+45 12 34 56 78", "email": "birthe@example.dk"}


def test_seal_and_open() -> None:
    vault = CitizenVault(os.urandom(32))
    sealed = vault.seal("c-1", CONTACT)
    assert b"Birthe" not in sealed.ciphertext and b"Birthe" not in sealed.wrapped_key
    assert vault.open("c-1", sealed.wrapped_key, sealed.ciphertext) == CONTACT


def test_each_citizen_has_their_own_key() -> None:
    vault = CitizenVault(os.urandom(32))
    one, two = vault.seal("c-1", CONTACT), vault.seal("c-2", CONTACT)
    assert one.wrapped_key != two.wrapped_key
    with pytest.raises(ContactUnreadable):  # a ciphertext moved to another citizen's row
        vault.open("c-2", two.wrapped_key, one.ciphertext)


def test_without_the_key_nothing_can_be_read() -> None:
    master = os.urandom(32)
    sealed = CitizenVault(master).seal("c-1", CONTACT)
    with pytest.raises(ContactUnreadable):
        CitizenVault(master).open("c-1", None, sealed.ciphertext)
    with pytest.raises(ContactUnreadable):
        CitizenVault(os.urandom(32)).open("c-1", sealed.wrapped_key, sealed.ciphertext)


def test_master_key_setting() -> None:
    key = os.urandom(32)
    assert master_key_from_setting(base64.urlsafe_b64encode(key).decode(), "s") == key
    assert master_key_from_setting("", "dev") == master_key_from_setting("", "dev") != master_key_from_setting("", "x")
    with pytest.raises(ValueError, match="32 bytes"):
        master_key_from_setting(base64.urlsafe_b64encode(b"short").decode(), "s")

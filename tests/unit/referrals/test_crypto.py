"""What is sealed with a citizen's own key opens only with that key, for that citizen, for
that referral: contact data, notes, the consent purpose and attributes."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.referrals.attributes import CitizenAttributes
from services.referrals.crypto import CitizenKey, Unreadable

CONTACT = {"name": "Birthe Hansen", "phone": "+45 12 34 56 78", "email": "birthe@example.dk"}
NOTE = "Birthe har svært ved at komme ud efter sin depression; hun vil gerne strikke."


def key(ref: str = "c-1") -> CitizenKey:
    return CitizenKey(ref, os.urandom(32))


def test_seal_and_open_contact_note_and_consent_purpose() -> None:
    mine = key()
    contact, note, purpose = mine.seal_contact(CONTACT), mine.seal_note("r-1", NOTE), mine.seal_consent_purpose("Tlf 1")
    for sealed in (contact, note, purpose):
        assert b"Birthe" not in sealed and b"Tlf" not in sealed
    assert mine.open_contact(contact) == CONTACT
    assert mine.open_note("r-1", note) == NOTE
    assert mine.open_consent_purpose(purpose) == "Tlf 1"
    assert mine.seal_note("r-1", NOTE) != note  # a fresh nonce every time


def test_a_copied_ciphertext_does_not_open_elsewhere() -> None:
    mine = key("c-1")
    note = mine.seal_note("r-1", NOTE)
    with pytest.raises(Unreadable):
        mine.open_note("r-2", note)  # moved to another referral
    with pytest.raises(Unreadable):
        CitizenKey("c-2", mine.key).open_note("r-1", note)  # to another citizen (same key bytes even)
    with pytest.raises(Unreadable):
        mine.open_consent_purpose(mine.seal_contact(CONTACT))  # one kind read as another


def test_without_the_key_nothing_can_be_read() -> None:
    sealed = key().seal_contact(CONTACT)
    with pytest.raises(Unreadable):
        key().open_contact(sealed)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(Unreadable):
        key().open_contact(tampered)


ATTRIBUTES = CitizenAttributes(
    consent_date=datetime(2023, 2, 17, 11, tzinfo=UTC),
    consent_recorded_by="prof-mette",
    age_band="18-24",
    area="roennebaerparken",
    target_groups=("single_parents",),
    languages=("tigrinya",),
)


def test_the_consent_attributes_are_sealed_for_that_citizen_only() -> None:
    mine = key("c-1")
    sealed = mine.seal_attributes(ATTRIBUTES)
    assert not any(code in sealed for code in (b"roennebaerparken", b"single_parents", b"tigrinya", b"2023-02-17"))
    assert mine.open_attributes(sealed) == ATTRIBUTES
    with pytest.raises(Unreadable):
        CitizenKey("c-2", mine.key).open_attributes(sealed)  # copied to another citizen's row
    with pytest.raises(Unreadable):
        mine.open_contact(sealed)  # one kind read as another
    with pytest.raises(Unreadable):
        key("c-1").open_attributes(sealed)  # the key destroyed: another one does not do


def test_a_sealed_attributes_length_does_not_tell_how_many_groups_or_languages() -> None:
    few = replace(ATTRIBUTES, target_groups=(), languages=())
    many = replace(ATTRIBUTES, target_groups=("single_parents", "newcomer", "disability"), languages=("da", "ar"))
    mine = key()
    assert len(mine.seal_attributes(few)) == len(mine.seal_attributes(many))
    assert mine.open_attributes(mine.seal_attributes(many)) == many

from __future__ import annotations

import pytest

from shared.privacy import contains_cpr, find_cpr
from shared.welcome import InvalidWelcomeToken, sign_welcome, verify_welcome


@pytest.mark.parametrize("text", ["CPR 010190-1234", "0101901234", "født 311299 1234", "x 150575-4321."])
def test_cpr_shaped_numbers_are_found(text: str) -> None:
    assert contains_cpr(text)


@pytest.mark.parametrize("text", ["tlf. 12 34 56 78", "kl. 19.00-21.00", "320190-1234", "011390-1234", "12345678901"])
def test_other_numbers_are_not_cpr(text: str) -> None:
    assert not contains_cpr(text)


def test_find_cpr_names_the_path() -> None:
    assert find_cpr({"a": {"notes": ["ok", "ring 010190-1234"]}}) == "a.notes.1"
    assert find_cpr({"a": "fine"}) is None


def test_welcome_link_signature_and_expiry() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2024, 1, 1, tzinfo=UTC)
    token = sign_welcome("k", "r-1", now + timedelta(days=1))
    assert verify_welcome("k", token, now=now) == "r-1"
    with pytest.raises(InvalidWelcomeToken, match="expired"):
        verify_welcome("k", token, now=now + timedelta(days=2))
    with pytest.raises(InvalidWelcomeToken):
        verify_welcome("k2", token, now=now)
    with pytest.raises(InvalidWelcomeToken):
        verify_welcome("k", token[:-2] + "AA", now=now)

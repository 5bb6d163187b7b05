"""The pages over plain HTTP (no JavaScript): search, the card, the wizard end to end, the
worklist, a refused consent storing nothing, and another professional's referral."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.integration.web.pages_system import GUIDE, System, call, professional, running_system


@pytest.fixture
async def system(nats_clean: str, tmp_path: Path) -> AsyncIterator[System]:
    async with running_system(nats_clean, tmp_path) as running:
        yield running


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


async def test_a_professional_refers_a_new_citizen_without_javascript(system: System) -> None:
    async with httpx.AsyncClient(base_url=system.web.base_url, cookies=system.session_cookie(professional())) as web:
        found = await web.get("/soeg", params={"q": "strik"})
        assert found.status_code == 200, found.text
        assert "Strikkeklubben Vestervang" in found.text and "fællesskaber fundet" in found.text
        card = await web.get(f"/faellesskaber/{system.knitting_id}")
        assert card.status_code == 200, card.text
        assert "Henvis en borger" in card.text and "åben" in card.text.lower()
        token = csrf(card.text)
        started = await web.post("/henvis", data={"csrf_token": token, "community_id": system.knitting_id})
        assert started.status_code == 303, started.text
        step = started.headers["location"]
        draft = step.split("/")[2]

        async def answer(slug: str, data: dict[str, str], status: int = 303) -> httpx.Response:
            response = await web.post(f"/henvis/{draft}/{slug}", data={"csrf_token": token, **data})
            assert response.status_code == status, response.text
            return response

        await answer("borger", {"citizen_mode": "new"})
        await answer("samtykke", {"consent": "ja", "consent_purpose": "Henvisning til et fællesskab"})
        invalid = await answer("kontakt", {"contact_name": "", "contact_email": "ikke-en-mail"}, status=422)
        assert 'href="#contact_name"' in invalid.text and 'aria-invalid="true"' in invalid.text
        await answer("kontakt", {"contact_name": "Kim Hansen", "contact_phone": "12 34 56 78"})
        back = await web.get(f"/henvis/{draft}/kontakt")
        assert "Kim Hansen" in back.text  # the back button loses nothing
        await answer("behov", {"note": "Vil gerne lære at strikke", "special_considerations": "ja"})
        await answer("foelgeskab", {"accompaniment": "needed"})
        await answer("faellesskab", {"community_id": system.knitting_id})
        check = await web.get(f"/henvis/{draft}/tjek")
        assert check.status_code == 200 and "Tjek dine svar" in check.text and "Kim Hansen" in check.text
        sent = await web.post(f"/henvis/{draft}/send", data={"csrf_token": token})
        assert sent.status_code == 303, sent.text
        receipt = await web.get(sent.headers["location"])
        reference = re.search(r'id="referral-reference">([^<]+)<', receipt.text)
        assert reference, receipt.text
        worklist = await web.get("/henvisninger")
        assert reference.group(1) in worklist.text
        detail = await web.get(f"/henvisninger/{reference.group(1)}")
        assert detail.status_code == 200 and "Annuller henvisningen" in detail.text
    stored = await call(system.referrals, GUIDE, "GET", f"/v1/referrals/{reference.group(1)}", 200)
    assert stored["community_id"] == system.knitting_id and stored["needs_accompaniment"]

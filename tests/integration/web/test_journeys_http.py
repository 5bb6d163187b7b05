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


async def citizens_registered_by(system: System, actor: str) -> int:
    referrals = await call(system.referrals, GUIDE, "GET", "/v1/referrals", 200, params={"referrer": actor})
    return len(referrals)


async def start_draft(web: httpx.AsyncClient, community_id: str) -> tuple[str, str]:
    card = await web.get(f"/faellesskaber/{community_id}")
    token = csrf(card.text)
    started = await web.post("/henvis", data={"csrf_token": token, "community_id": community_id})
    return started.headers["location"].split("/")[2], token


async def test_consent_no_stores_nothing(system: System) -> None:
    registered = system.referrals.app.state.runtime
    async with httpx.AsyncClient(base_url=system.web.base_url, cookies=system.session_cookie(professional())) as web:
        draft, token = await start_draft(web, system.knitting_id)
        await web.post(f"/henvis/{draft}/borger", data={"csrf_token": token, "citizen_mode": "new"})
        refused = await web.post(f"/henvis/{draft}/samtykke", data={"csrf_token": token, "consent": "nej"})
        assert refused.status_code == 303 and refused.headers["location"] == "/henvis/ikke-samtykke"
        explained = await web.get("/henvis/ikke-samtykke")
        assert "Der er ikke gemt noget om borgeren" in explained.text
        gone = await web.get(f"/henvis/{draft}/borger")
        assert gone.status_code == 404  # the draft is deleted too
    from sqlalchemy import func, select

    from services.referrals.tables import Citizen

    count = registered.read(lambda session: session.scalar(select(func.count()).select_from(Citizen)))
    assert count == 0
    assert await citizens_registered_by(system, "prof-jobcenter-mette") == 0


async def test_a_full_community_needs_an_explicit_override_with_a_reason(system: System) -> None:
    async with httpx.AsyncClient(base_url=system.web.base_url, cookies=system.session_cookie(professional())) as web:
        draft, token = await start_draft(web, system.full_id)
        refused = await web.post(
            f"/henvis/{draft}/faellesskab", data={"csrf_token": token, "community_id": system.full_id}
        )
        assert refused.status_code == 422
        assert 'href="#override_full"' in refused.text and 'href="#override_reason"' in refused.text
        accepted = await web.post(
            f"/henvis/{draft}/faellesskab",
            data={
                "csrf_token": token,
                "community_id": system.full_id,
                "override_full": "ja",
                "override_reason": "Aftalt med Birthe",
            },
        )
        assert accepted.status_code == 303


async def test_another_professionals_referral_is_the_403_page_and_a_stale_move_a_message(system: System) -> None:
    citizen = await call(
        system.referrals,
        GUIDE,
        "POST",
        "/v1/citizens",
        201,
        json={"consent": {"purpose": "Henvisning til et fællesskab"}},
    )
    referral = await call(
        system.referrals,
        GUIDE,
        "POST",
        "/v1/referrals",
        201,
        json={
            "citizen_ref": citizen["citizen_ref"],
            "community_id": system.knitting_id,
            "referrer_id": "prof-jobcenter-mette",
        },
    )
    path = f"/henvisninger/{referral['referral_id']}"
    other = system.session_cookie(professional("prof-sundhed-jens"))
    async with httpx.AsyncClient(base_url=system.web.base_url, cookies=other) as web:
        forbidden = await web.get(path)
        assert forbidden.status_code == 403 and "Du har ikke adgang" in forbidden.text
    async with httpx.AsyncClient(base_url=system.web.base_url, cookies=system.session_cookie(professional())) as web:
        page = await web.get(path)
        token = csrf(page.text)
        await call(system.referrals, GUIDE, "POST", f"/v1/referrals/{referral['referral_id']}/cancel", 200)
        stale = await web.post(f"{path}/cancel", data={"csrf_token": token})
        assert stale.status_code == 409 and "Henvisningen er lige blevet ændret" in stale.text
        assert "Annulleret" in stale.text
        no_csrf = await web.post(f"{path}/cancel", data={})
        assert no_csrf.status_code == 403

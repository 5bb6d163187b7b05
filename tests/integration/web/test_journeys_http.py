"""The pages over plain HTTP (no JavaScript): search, the card, the wizard end to end, the
worklist, a refused consent storing nothing, and another professional's referral."""

from __future__ import annotations

import re

import httpx

from services.referrals.tables import Citizen
from tests.integration.web.conftest import WebSystem, http_login


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def start_draft(web: httpx.Client, community_id: str) -> tuple[str, str]:
    card = web.get(f"/faellesskaber/{community_id}")
    token = csrf(card.text)
    started = web.post("/henvis", data={"csrf_token": token, "community_id": community_id}, follow_redirects=False)
    assert started.status_code == 303, started.text
    return started.headers["location"].split("/")[2], token


def test_a_professional_refers_a_new_citizen_without_javascript(web_system: WebSystem) -> None:
    with http_login(web_system, "professional") as web:
        found = web.get("/soeg", params={"q": "strik"})
        assert found.status_code == 200, found.text
        assert "Strikkeklubben Vestervang" in found.text and "fællesskaber fundet" in found.text
        card = web.get(f"/faellesskaber/{web_system.knitting_id}")
        assert card.status_code == 200, card.text
        assert "Henvis en borger" in card.text and "åben" in card.text.lower()
        draft, token = start_draft(web, web_system.knitting_id)

        def answer(slug: str, data: dict[str, str], status: int = 303) -> httpx.Response:
            response = web.post(f"/henvis/{draft}/{slug}", data={"csrf_token": token, **data}, follow_redirects=False)
            assert response.status_code == status, response.text
            return response

        answer("borger", {"citizen_mode": "new"})
        answer("samtykke", {"consent": "ja", "consent_purpose": "Henvisning til et fællesskab"})
        invalid = answer("kontakt", {"contact_name": "", "contact_email": "ikke-en-mail"}, status=422)
        assert 'href="#contact_name"' in invalid.text and 'aria-invalid="true"' in invalid.text
        answer("kontakt", {"contact_name": "Kim Hansen", "contact_phone": "12 34 56 78"})
        back = web.get(f"/henvis/{draft}/kontakt")
        assert "Kim Hansen" in back.text  # the back button loses nothing
        answer("behov", {"note": "Vil gerne lære at strikke", "special_considerations": "ja"})
        answer("foelgeskab", {"accompaniment": "needed"})
        answer("faellesskab", {"community_id": web_system.knitting_id})
        answer("ensomhed", {"spring_over": "ja"})
        check = web.get(f"/henvis/{draft}/tjek")
        assert check.status_code == 200 and "Tjek dine svar" in check.text and "Kim Hansen" in check.text
        receipt = web.post(f"/henvis/{draft}/send", data={"csrf_token": token})
        reference = re.search(r'id="referral-reference">([^<]+)<', receipt.text)
        assert reference, receipt.text
        worklist = web.get("/henvisninger")
        assert reference.group(1) in worklist.text
        detail = web.get(f"/henvisninger/{reference.group(1)}")
        assert detail.status_code == 200 and "Annuller henvisningen" in detail.text
        # people are named by name, not by their actor id
        assert "<dt>Henvist af</dt><dd>Mette Holm</dd>" in detail.text and "prof-jobcenter-mette" not in detail.text
    stored = web_system.api(web_system.referrals, "GET", f"/v1/referrals/{reference.group(1)}")
    assert stored["community_id"] == web_system.knitting_id and stored["needs_accompaniment"]


def test_consent_no_stores_nothing_and_drops_the_draft(web_system: WebSystem) -> None:
    from sqlalchemy import func, select

    runtime = web_system.referrals.app.state.runtime

    def citizens() -> int:
        return runtime.read(lambda session: session.scalar(select(func.count()).select_from(Citizen)))

    before = citizens()
    with http_login(web_system, "professional") as web:
        draft, token = start_draft(web, web_system.knitting_id)
        web.post(f"/henvis/{draft}/borger", data={"csrf_token": token, "citizen_mode": "new"})
        refused = web.post(
            f"/henvis/{draft}/samtykke", data={"csrf_token": token, "consent": "nej"}, follow_redirects=False
        )
        assert refused.status_code == 303 and refused.headers["location"] == "/henvis/ikke-samtykke"
        explained = web.get("/henvis/ikke-samtykke")
        assert "Der er ikke gemt noget om borgeren" in explained.text
        gone = web.get(f"/henvis/{draft}/borger")
        assert gone.status_code == 404  # the draft is deleted too
    assert citizens() == before


def test_a_full_community_needs_an_explicit_override_with_a_reason(web_system: WebSystem) -> None:
    with http_login(web_system, "professional") as web:
        draft, token = start_draft(web, web_system.full_id)
        choice = {"csrf_token": token, "community_id": web_system.full_id}
        refused = web.post(f"/henvis/{draft}/faellesskab", data=choice)
        assert refused.status_code == 422
        assert 'href="#override_full"' in refused.text and 'href="#override_reason"' in refused.text
        override = {"override_full": "ja", "override_reason": "Aftalt med Birthe"}
        accepted = web.post(f"/henvis/{draft}/faellesskab", data=choice | override, follow_redirects=False)
        assert accepted.status_code == 303


def test_another_professionals_referral_is_the_403_page_and_a_stale_move_a_message(web_system: WebSystem) -> None:
    referrals = web_system.referrals
    consent = {"consent": {"purpose": "Henvisning til et fællesskab"}}
    citizen = web_system.api(referrals, "POST", "/v1/citizens", 201, json=consent)
    body = {
        "citizen_ref": citizen["citizen_ref"],
        "community_id": web_system.knitting_id,
        "referrer_id": "prof-jobcenter-mette",
    }
    referral = web_system.api(referrals, "POST", "/v1/referrals", 201, json=body)
    path = f"/henvisninger/{referral['referral_id']}"
    with http_login(web_system, "professional-2") as web:
        forbidden = web.get(path)
        assert forbidden.status_code == 403 and "Du har ikke adgang" in forbidden.text
    with http_login(web_system, "professional") as web:
        token = csrf(web.get(path).text)
        web_system.api(referrals, "POST", f"/v1/referrals/{referral['referral_id']}/cancel")
        stale = web.post(f"{path}/cancel", data={"csrf_token": token})
        assert stale.status_code == 409 and "Henvisningen er lige blevet ændret" in stale.text
        assert "Annulleret" in stale.text
        no_csrf = web.post(f"{path}/cancel", data={})
        assert no_csrf.status_code == 403


def test_contact_data_opens_only_for_a_chosen_purpose_and_the_read_is_audited(web_system: WebSystem) -> None:
    referrals = web_system.referrals
    body = {
        "consent": {"purpose": "Henvisning til et fællesskab"},
        "contact": {"name": "Lone Kirk", "phone": "+4522334455"},
    }
    ref = web_system.api(referrals, "POST", "/v1/citizens", 201, json=body)["citizen_ref"]
    referral = {"citizen_ref": ref, "community_id": web_system.knitting_id, "referrer_id": "prof-jobcenter-mette"}
    web_system.api(referrals, "POST", "/v1/referrals", 201, json=referral)
    with http_login(web_system, "professional") as web:
        page = web.get(f"/borgere/{ref}")
        assert page.status_code == 200 and "Lone Kirk" not in page.text
        token = csrf(page.text)
        # A free-text purpose could carry a name or a diagnosis into the audit log: only codes.
        refused = web.post(f"/borgere/{ref}/kontakt", data={"csrf_token": token, "purpose": "ringe til Lone"})
        assert refused.status_code == 422 and "Vælg hvorfor" in refused.text and "Lone Kirk" not in refused.text
        shown = web.post(f"/borgere/{ref}/kontakt", data={"csrf_token": token, "purpose": "contact_citizen"})
        assert shown.status_code == 200 and "Lone Kirk" in shown.text
        assert "logget med formålet: Kontakt til borgeren" in shown.text
    entries = web_system.api(referrals, "GET", f"/v1/citizens/{ref}/audit")
    contact_reads = [e for e in entries if e["what"] == "contact"]
    assert [(e["actor_id"], e["purpose"]) for e in contact_reads] == [("prof-jobcenter-mette", "contact_citizen")]

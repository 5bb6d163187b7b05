"""The referral wizard's issue-12 parts through the running system: the optional loneliness
questions (shown only where the municipality's profile has them, kept only with the
citizen's "ja", skipping never blocks) reach the referrals service after the referral, as
does the citizen's choice to share first name and phone; `/henvis?borger=<ref>` ("Henvis
igen") refers a registered citizen without registering anyone new. In Chromium with axe on
each page state (and screenshots), and over plain HTTP for the profile switched off."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from services.referrals.tables import Citizen
from shared.profile import DEFAULT_PROFILE
from tests.helpers import eventually, stream_events, tls, token
from tests.integration.web.conftest import (
    WebSystem,
    axe_check,
    http_login,
    login_as,
    no_foreign_requests,
    screenshot,
)

pytestmark = pytest.mark.browser
METTE = "prof-jobcenter-mette"
LONELINESS_QUESTION = "Vil borgeren svare på tre spørgsmål om ensomhed?"


def as_mette(web_system: WebSystem, method: str, path: str, status: int, **kwargs: Any) -> Any:
    """A call to the referrals API as the professional Mette herself."""
    headers = {"Authorization": f"Bearer {token('professional', METTE)}"}
    with httpx.Client(base_url=web_system.referrals.base_url, headers=headers, timeout=30, verify=tls()) as client:
        response = client.request(method, path, **kwargs)
    assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


def citizens(web_system: WebSystem) -> int:
    runtime = web_system.referrals.app.state.runtime
    count: int = runtime.read(lambda session: session.scalar(select(func.count()).select_from(Citizen)))
    return count


def proceed(page: Any) -> None:
    page.get_by_role("button", name="Fortsæt").click()


def through_to_community(page: Any, web_system: WebSystem, *, share: bool) -> None:
    """From the knitting club's card: a new citizen with consent and contact data, up to and
    including the community step."""
    page.goto(f"/faellesskaber/{web_system.knitting_id}")
    page.get_by_role("button", name="Henvis en borger").click()
    new_citizen(page, "Kim Hansen", "12 34 56 78", share=share)
    page.get_by_label("Hvad betyder noget for borgeren?").fill("Vil gerne møde andre og strikke")
    proceed(page)
    page.get_by_label("Ja, find en følgeperson").check()
    proceed(page)
    expect(page.get_by_label(re.compile("Strikkeklubben Vestervang"))).to_be_checked()
    proceed(page)


def pick_knitting_club(page: Any) -> None:
    """On the community step: search "strik" and choose the knitting club."""
    page.get_by_role("searchbox", name="Find et fællesskab").fill("strik")
    page.get_by_role("button", name="Søg", exact=True).click()
    page.get_by_label(re.compile("Strikkeklubben Vestervang")).check()


def new_citizen(page: Any, name: str, phone: str, *, share: bool = False, recorder: str = "") -> None:
    """The wizard's first steps for a new citizen: consent "ja" (recorded by whoever is
    logged in, today: `recorder`'s name when given), name and phone, and the choice to share."""
    page.get_by_label("En ny borger").check()
    proceed(page)
    if recorder:
        expect(page.get_by_text(f"Samtykket registreres af {recorder}")).to_be_visible()
    page.get_by_label("Ja, borgeren giver samtykke").check()
    proceed(page)
    page.get_by_label("Borgerens navn").fill(name)
    page.get_by_label("Telefon", exact=True).fill(phone)
    if share:
        page.get_by_label(re.compile("ser fornavn og telefonnummer")).check()
        axe_check(page, "wizard: contact, sharing chosen")
    proceed(page)


def answer(page: Any, question: str, word: str) -> None:
    page.get_by_role("group", name=re.compile(question)).get_by_label(word, exact=True).check()


async def loneliness_scores(nats_url: str, referral_id: str) -> list[tuple[str, int]] | None:
    """The LonelinessMeasured events of a referral on the bus (None until there is one)."""
    found = [
        (envelope.data["moment"], envelope.data["score"])
        for envelope in await stream_events(nats_url, "referrals")
        if envelope.type == "dk.vejviser.LonelinessMeasured.v1" and envelope.data["referral_id"] == referral_id
    ]
    return found or None


def test_loneliness_answers_and_sharing_reach_the_referrals_service(
    page: Any, web_system: WebSystem, nats_url: str
) -> None:
    foreign = no_foreign_requests(page)
    login_as(page, "professional")
    through_to_community(page, web_system, share=True)
    expect(page.get_by_role("heading", level=1)).to_have_text(LONELINESS_QUESTION)
    axe_check(page, "wizard: loneliness")
    screenshot(page, "wizard-loneliness")
    answer(page, "savner nogen at være sammen med", "Ofte")
    answer(page, "holdt udenfor", "En gang imellem")
    answer(page, "isoleret fra andre", "Ofte")
    # answers without the citizen's "ja" are not kept: the summary says what to choose
    proceed(page)
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name=re.compile("Borgeren skal sige ja"))).to_have_attribute(
        "href", "#loneliness_consent"
    )
    axe_check(page, "wizard: loneliness without consent")
    screenshot(page, "wizard-loneliness-error")
    page.get_by_label("Borgeren vil gerne svare").check()
    expect(page.get_by_role("group", name=re.compile("holdt udenfor")).get_by_label("En gang imellem")).to_be_checked()
    proceed(page)
    expect(page.get_by_role("heading", name="Tjek dine svar")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Spørgsmål om ensomhed"))).to_contain_text(
        "Besvaret med borgerens samtykke: ofte, en gang imellem, ofte"
    )
    expect(page.get_by_role("row", name=re.compile("må se fornavn og telefon"))).to_contain_text("Ja")
    axe_check(page, "wizard: check with loneliness")
    page.get_by_role("button", name="Send henvisning").click()
    expect(page.get_by_text("svar på spørgsmålene om ensomhed er gemt")).to_be_visible()
    axe_check(page, "wizard: receipt with loneliness")
    reference = page.locator("#referral-reference").inner_text().strip()
    stored = as_mette(web_system, "GET", f"/v1/referrals/{reference}", 200)
    assert stored["share_contact_with_community"] is True
    assert stored["loneliness"] == ["referral"]
    assert stored["shared_contact"] == {"first_name": "Kim", "phone": "12 34 56 78"}
    # only the sum travels (Ofte 3 + En gang imellem 2 + Ofte 3), for the analytics
    assert web_system.run(eventually(lambda: loneliness_scores(nats_url, reference))) == [("referral", 8)]
    assert foreign == []


def test_skipping_the_loneliness_questions_sends_the_referral(page: Any, web_system: WebSystem) -> None:
    login_as(page, "professional")
    through_to_community(page, web_system, share=False)
    answer(page, "holdt udenfor", "Ofte")  # "Spring over" forgets what was ticked
    page.get_by_role("button", name="Spring over").click()
    expect(page.get_by_role("row", name=re.compile("Spørgsmål om ensomhed"))).to_contain_text("Ikke besvaret")
    page.get_by_role("button", name="Send henvisning").click()
    expect(page.get_by_role("heading", name="Henvisningen er sendt")).to_be_visible()
    expect(page.get_by_text("ensomhed")).to_have_count(0)
    stored = as_mette(web_system, "GET", f"/v1/referrals/{page.locator('#referral-reference').inner_text()}", 200)
    assert stored["loneliness"] == [] and stored["share_contact_with_community"] is False
    assert stored["shared_contact"] is None


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def test_no_loneliness_step_where_the_profile_has_none(
    web_system: WebSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads(DEFAULT_PROFILE.read_text(encoding="utf-8")) | {"loneliness_scale": False}
    (tmp_path / "profile.json").write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("MUNICIPALITY_PROFILE", str(tmp_path / "profile.json"))
    with http_login(web_system, "professional") as web:
        card = web.get(f"/faellesskaber/{web_system.knitting_id}")
        form = {"csrf_token": csrf(card.text), "community_id": web_system.knitting_id}
        started = web.post("/henvis", data=form, follow_redirects=False)
        draft = started.headers["location"].split("/")[2]
        steps = (
            ("borger", {"citizen_mode": "new"}),
            ("samtykke", {"consent": "ja"}),
            ("kontakt", {"contact_name": "Kim Hansen", "contact_phone": "12 34 56 78"}),
            ("behov", {"note": "Vil gerne strikke"}),
            ("foelgeskab", {"accompaniment": "none"}),
        )
        for slug, answers in steps:
            assert web.post(f"/henvis/{draft}/{slug}", data=form | answers).status_code == 200
        chosen = web.post(f"/henvis/{draft}/faellesskab", data=form, follow_redirects=False)
        assert chosen.headers["location"] == f"/henvis/{draft}/tjek"
        check = web.get(f"/henvis/{draft}/tjek")
        assert "Tjek dine svar" in check.text and "ensomhed" not in check.text.lower()
        asked = web.get(f"/henvis/{draft}/ensomhed", follow_redirects=False)
        assert asked.status_code == 303 and asked.headers["location"] == f"/henvis/{draft}/tjek"
        sent = web.post(f"/henvis/{draft}/send", data={"csrf_token": form["csrf_token"]})
        assert "Henvisningen er sendt" in sent.text and "ensomhed" not in sent.text


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_refer_a_registered_citizen_again(new_page: Any, web_system: WebSystem, javascript: bool) -> None:
    consent = {"consent": {"purpose": "Henvisning til et fællesskab"}, "contact": {"name": "Kim Hansen"}}
    citizen_ref = as_mette(web_system, "POST", "/v1/citizens", 201, json=consent)["citizen_ref"]
    first = {"citizen_ref": citizen_ref, "community_id": web_system.full_id, "override_full": True}
    as_mette(web_system, "POST", "/v1/referrals", 201, json=first)
    before = citizens(web_system)
    page = new_page(javascript=javascript)
    foreign = no_foreign_requests(page)
    login_as(page, "professional")
    page.goto(f"/henvis?borger={citizen_ref}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Henvis borgeren igen")
    expect(page.get_by_text(citizen_ref)).to_be_visible()
    axe_check(page, "wizard: refer again")
    if javascript:
        screenshot(page, "wizard-refer-again")
    page.get_by_role("button", name="Start henvisning").click()
    # no consent or contact again: straight to the needs, where sharing is asked instead
    expect(page.get_by_role("heading", level=1)).to_have_text("Hvad betyder noget for borgeren?")
    expect(page.get_by_text("Trin 2 af 6")).to_be_visible()
    page.get_by_label("Hvad betyder noget for borgeren?").fill("Kom ikke sidst; vil prøve et mindre fællesskab")
    page.get_by_label(re.compile("ser fornavn og telefonnummer")).check()
    axe_check(page, "wizard: needs of a registered citizen")
    proceed(page)
    page.get_by_label("Nej, borgeren kommer selv").check()
    proceed(page)
    pick_knitting_club(page)
    proceed(page)
    page.get_by_role("button", name="Spring over").click()
    expect(page.get_by_role("row", name=re.compile("^Borger Allerede"))).to_contain_text(citizen_ref)
    page.get_by_role("button", name="Send henvisning").click()
    expect(page.get_by_role("heading", name="Henvisningen er sendt")).to_be_visible()
    reference = page.locator("#referral-reference").inner_text().strip()
    stored = as_mette(web_system, "GET", f"/v1/referrals/{reference}", 200)
    assert stored["citizen_ref"] == citizen_ref and stored["community_id"] == web_system.knitting_id
    assert stored["share_contact_with_community"] is True
    assert citizens(web_system) == before  # nobody new registered
    assert foreign == []


def test_refer_again_refuses_an_unknown_citizen(page: Any, web_system: WebSystem) -> None:
    login_as(page, "professional")
    response = page.goto("/henvis?borger=ikke-en-reference")
    assert response is not None and response.status == 422
    expect(page.get_by_role("link", name="Borgerens reference er ikke gyldig")).to_be_visible()
    page.goto("/henvis?borger=c-00000000-0000-0000-0000-000000000000")
    page.get_by_role("button", name="Start henvisning").click()
    expect(page.get_by_role("link", name=re.compile("Vi kender ikke en borger"))).to_be_visible()
    axe_check(page, "wizard: refer again, unknown citizen")

"""The data protection officer's pages (issue 13), in Chromium with and without JavaScript and
axe on every state: Hanne Lund (dpo) logs in and starts at Revision.

- Revision searches the referrals service's audit log: by citizen, by user, by purpose and by
  period (Copenhagen days), 25 a page. Each entry shows when (Copenhagen time), who (id and
  role in Danish), which citizen, what was read, the purpose in Danish (shared/purposes.py)
  and through which client. A CPR number in the citizen field, a date that is none and a
  period that ends before it begins are error summaries.
- Indsigt answers a citizen's access request: the Danish summary on screen and everything as a
  JSON file to download; the export itself appears in the audit log (Indsigt, via the web).
  An unknown reference, an erased citizen and a CPR number are said on the field.
- Only dpo and admin get the pages (others the 403 page); nobody without login.

The numbers on the pages are checked against `GET /v1/audit` itself, asked as an admin."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from services.web.devidp.personas import BY_KEY
from shared.clock import local
from shared.danish import da_datetime
from tests.helpers import tls
from tests.integration.web.conftest import (
    ADMIN_TOKEN,
    WebSystem,
    axe_check,
    csp_violations,
    http_login,
    login_as,
    no_foreign_requests,
    screenshot,
)

pytestmark = pytest.mark.browser
DPO = BY_KEY["dpo"].actor_id
GUIDE = BY_KEY["guide"].actor_id
REFERRER = BY_KEY["professional"].actor_id  # a known referrer in the web system
PAGE_SIZE = 25
RECORD_READS = 27  # more than a page of one citizen's record reads


def audit(web_system: WebSystem, **params: str) -> dict[str, Any]:
    """`GET /v1/audit` as an admin: the oracle for what the pages show."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=web_system.referrals.base_url, headers=headers, timeout=30, verify=tls()) as client:
        answer = client.get("/v1/audit", params={"limit": 100, **params})
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def new_citizen(web_system: WebSystem, name: str) -> tuple[str, str]:
    """A citizen (consent, contact) the guide registers and refers to the knitting club for a
    professional: (ref, referral id)."""
    body = {"consent": {"purpose": "Henvisning til et fællesskab"}, "contact": {"name": name, "phone": "+4520304050"}}
    citizen = web_system.api(web_system.referrals, "POST", "/v1/citizens", 201, json=body)
    referral = {"citizen_ref": citizen["citizen_ref"], "community_id": web_system.knitting_id, "referrer_id": REFERRER}
    made = web_system.api(web_system.referrals, "POST", "/v1/referrals", 201, json=referral)
    return citizen["citizen_ref"], made["referral_id"]


@pytest.fixture(scope="module")
def read_citizen(web_system: WebSystem) -> Iterator[str]:
    """A citizen whose record the guide read through the web and over the API, more than a
    page of times, and whose contact she read once (purpose: contact the citizen)."""
    ref, _ = new_citizen(web_system, "Ida Indsigt")
    with http_login(web_system, "guide") as web:
        assert web.get(f"/borgere/{ref}").status_code == 200
    for _ in range(RECORD_READS):
        web_system.api(web_system.referrals, "GET", f"/v1/citizens/{ref}")
    web_system.api(web_system.referrals, "GET", f"/v1/citizens/{ref}/contact")
    yield ref


def search(page: Any, **fields: str) -> None:
    """Fill the Revision form (field label → text) and search."""
    page.goto("/revision")
    for label, text in fields.items():
        if label == "Formål":
            page.get_by_label(label).select_option(label=text)
        else:
            page.get_by_label(label).fill(text)
    page.get_by_role("button", name="Søg").click()


def shown_rows(page: Any) -> list[dict[str, str]]:
    headers = page.locator(".audit-table thead th").all_inner_texts()
    rows = []
    for row in page.locator(".audit-table tbody tr").all():
        cells = row.locator("td").all_inner_texts()
        rows.append(dict(zip(headers, cells, strict=True)))
    return rows


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_officer_searches_the_audit_log(
    new_page: Callable[..., Any], web_system: WebSystem, read_citizen: str, javascript: bool
) -> None:
    ref = read_citizen
    page = new_page(javascript=javascript)
    foreign, reports = no_foreign_requests(page), csp_violations(page)
    supervised = audit(web_system, actor_id=DPO, purpose="supervision")["total"]
    login_as(page, "dpo")
    expect(page).to_have_url(re.compile(r"/revision$"))  # the officer's first page
    menu = page.get_by_role("navigation", name="Hovedmenu")
    assert menu.get_by_role("link").all_inner_texts() == ["Revision", "Indsigt"]
    expect(page.get_by_role("heading", level=1)).to_have_text("Revision")
    # Opening the page searches nothing (a search is audited for every citizen it shows).
    expect(page.get_by_role("heading", name=re.compile("opslag$"))).to_have_count(0)
    assert audit(web_system, actor_id=DPO, purpose="supervision")["total"] == supervised
    axe_check(page, "revision, start")

    # By citizen and purpose: the one read of the contact, in Danish, at Copenhagen time.
    search(page, **{"Borgerens reference": ref, "Formål": "Kontakt til borgeren"})
    [entry] = audit(web_system, citizen_ref=ref, purpose="contact_citizen")["entries"]
    expect(page.get_by_role("heading", name="1 opslag")).to_be_visible()
    [row] = shown_rows(page)
    at = datetime.fromisoformat(entry["at"])
    assert row["Tidspunkt"] == da_datetime(at, short=True) and f"kl. {local(at):%H.%M}" in row["Tidspunkt"]
    assert row["Bruger"].split("\n") == [GUIDE, "Fællesskabsguide"]
    assert (row["Borger"], row["Hvad"], row["Formål"]) == (ref, "Kontaktoplysninger", "Kontakt til borgeren")
    axe_check(page, "revision, one entry")

    # Paged: the record reads, 25 a page, newest first; the numbers are the audit log's.
    search(page, **{"Borgerens reference": ref, "Formål": "Opfølgning på henvisning"})
    total = audit(web_system, citizen_ref=ref, purpose="referral_followup")["total"]
    assert total >= RECORD_READS + 1  # the API's reads and the web's page
    expect(page.get_by_role("heading", name=f"{total} opslag")).to_be_visible()
    expect(page.get_by_text(f"Viser 1–{PAGE_SIZE} af {total}")).to_be_visible()
    first = shown_rows(page)
    assert len(first) == PAGE_SIZE and {row["Formål"] for row in first} == {"Opfølgning på henvisning"}
    if javascript:
        screenshot(page, "revision")
    page.get_by_role("link", name="Næste side").click()
    expect(page.get_by_text(f"Viser {PAGE_SIZE + 1}–{total} af {total}")).to_be_visible()
    rest = shown_rows(page)
    assert len(rest) == total - PAGE_SIZE
    # The newest are the API's reads; the guide's read through the web pages says so.
    assert {row["Kilde"] for row in first} == {"Henvisningstjenesten"}
    assert "Henvisningstjenesten via webklienten" in {row["Kilde"] for row in rest}
    expect(page.get_by_role("link", name="Forrige side")).to_be_visible()
    axe_check(page, "revision, page 2")

    # By user, and by period: today (Copenhagen) finds them, yesterday nothing.
    today = local(at).date()
    search(page, **{"Bruger-id": GUIDE, "Borgerens reference": ref, "Fra dato": f"{today}", "Til dato": f"{today}"})
    by_guide = audit(web_system, citizen_ref=ref, actor_id=GUIDE)["total"]
    assert by_guide >= total + 1  # the record reads and the contact
    expect(page.get_by_role("heading", name=f"{by_guide} opslag")).to_be_visible()
    assert {row["Bruger"].split("\n")[0] for row in shown_rows(page)} == {GUIDE}
    yesterday = today - timedelta(days=1)
    search(page, **{"Borgerens reference": ref, "Fra dato": f"{yesterday}", "Til dato": f"{yesterday}"})
    expect(page.get_by_role("heading", name="0 opslag")).to_be_visible()
    expect(page.get_by_text("Ingen opslag passer på søgningen.")).to_be_visible()

    # Refused input: a CPR number is never sent on; a period that ends before it begins.
    search(page, **{"Borgerens reference": "010203-1234", "Fra dato": f"{today}", "Til dato": f"{yesterday}"})
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("ikke et CPR-nummer")
    expect(summary).to_contain_text("Til-datoen skal være samme dag som fra-datoen eller senere")
    expect(page.get_by_label("Borgerens reference")).to_have_attribute("aria-invalid", "true")
    expect(page).to_have_title(re.compile("^Fejl: Revision"))
    axe_check(page, "revision, errors")
    assert foreign == [] and reports == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_officer_answers_an_access_request(
    new_page: Callable[..., Any], web_system: WebSystem, javascript: bool
) -> None:
    ref, referral_id = new_citizen(web_system, "Karl Kaffe")
    page = new_page(javascript=javascript)
    foreign, reports = no_foreign_requests(page), csp_violations(page)
    login_as(page, "dpo")
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Indsigt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Indsigt")
    axe_check(page, "indsigt, start")

    page.get_by_label("Borgerens reference").fill(ref)
    page.get_by_role("button", name="Vis oplysningerne").click()
    expect(page.get_by_role("heading", name=f"Sammendrag for borger {ref}")).to_be_visible()
    summary = page.locator(".access-summary")
    # Its lines kept: by the stylesheet (waited for: a loaded machine may paint before it applies).
    expect(summary).to_have_css("white-space", "pre-line")
    shown = summary.inner_text()
    assert "Karl Kaffe" in shown and len(shown.strip().splitlines()) > 3, shown
    axe_check(page, "indsigt, summary")
    if javascript:
        screenshot(page, "indsigt")

    with page.expect_download() as arrived:
        page.get_by_role("link", name="Hent alle oplysninger som JSON").click()
    download = arrived.value
    assert download.suggested_filename == f"indsigt-{ref}.json"
    exported = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert exported["citizen_ref"] == ref and exported["summary_da"].strip()
    assert [r["referral_id"] for r in exported["referrals"]] == [referral_id]
    assert exported["contact"]["name"] == "Karl Kaffe"

    # Both exports are in the audit log: by the officer, for the access request, via the web.
    exports = audit(web_system, citizen_ref=ref, purpose="access_request")["entries"]
    assert len(exports) == 2
    assert {(e["actor_id"], e["role"], e["what"], e["client"]) for e in exports} == {(DPO, "dpo", "export", "web")}
    page.get_by_role("link", name="Se hvem der har læst borgerens oplysninger").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Revision")
    rows = [row for row in shown_rows(page) if row["Formål"] == "Indsigt"]
    assert len(rows) == 2 and rows[0]["Hvad"] == "Alle oplysninger (indsigt)"
    assert rows[0]["Bruger"].split("\n") == [DPO, "Databeskyttelsesrådgiver"]

    # Said on the field: no such citizen, an erased one, a CPR number.
    web_system.api(web_system.referrals, "DELETE", f"/v1/citizens/{ref}")
    for entered, status, words in (
        ("no-such-citizen", 404, "Der findes ingen borger med den reference"),
        (ref, 410, "Borgeren er slettet i Vejviser"),
        ("0102031234", 422, "ikke et CPR-nummer"),
    ):
        response = page.goto(f"/indsigt?borger={entered}")
        assert response is not None and response.status == status, entered
        expect(page.locator(".error-summary")).to_contain_text(words)
        expect(page.get_by_label("Borgerens reference")).to_have_attribute("aria-invalid", "true")
        assert page.locator(".access-summary").count() == 0
        axe_check(page, f"indsigt, {status}")
    assert foreign == [] and reports == []


def test_only_the_officer_and_admins_get_the_pages(web_system: WebSystem) -> None:
    with http_login(web_system, "admin") as web:
        for path in ("/revision", "/indsigt"):
            shown = web.get(path)
            assert shown.status_code == 200 and 'href="/revision"' in shown.text and 'href="/indsigt"' in shown.text
    for persona in ("guide", "professional", "analyst", "community_contact", "ambassador"):
        with http_login(web_system, persona) as web:
            for path in ("/revision", "/indsigt", "/indsigt/eksport?borger=x"):
                refused = web.get(path)
                assert refused.status_code == 403 and "Du har ikke adgang til denne side" in refused.text, persona
            assert 'href="/revision"' not in refused.text and 'href="/indsigt"' not in refused.text
    with httpx.Client(base_url=web_system.url, verify=tls()) as anonymous:
        for path in ("/revision", "/indsigt"):
            sent = anonymous.get(path)
            assert sent.status_code == 303 and sent.headers["location"].startswith("/login?next=")

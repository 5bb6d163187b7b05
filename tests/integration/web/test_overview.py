"""The programme lead's journey (issue 12): an analyst opens Overblik in Chromium, with and
without JavaScript, picks a period and sees the key figures, the cascade drawn by
generation (an SVG with the same numbers in a table beside it) and small cells shown as
"<5", never as a number; a period that does not hold is an error summary; the CSV download
is the analytics service's, named for the period; the print version has no navigation and
makes an A4 PDF. A professional gets the 403 page. axe on every state, both ways.

The numbers checked come from a cohort ingested into the referrals service back-dated to
May 2021 (a month no other test writes to): a guide, a professional she activated, an
ambassador he activated, and six referrals between them, so the cells are known and small."""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from shared.events import Envelope, Event
from shared.events.referrals import (
    CitizenRegistered,
    LonelinessMeasured,
    ReferralAccepted,
    ReferralCreated,
    ReferrerActivated,
    WelcomeConfirmed,
)
from tests.helpers import eventually, tls, token
from tests.integration.web.conftest import (
    GUIDE_TOKEN,
    SCREENSHOTS,
    WebSystem,
    axe_check,
    http_login,
    login_as,
    no_foreign_requests,
    screenshot,
)

pytestmark = pytest.mark.browser
MONTH = "2021-05"
START = datetime(2021, 5, 3, 9, 0, tzinfo=UTC)
SYSTEM_TOKEN = token("municipal_system", "system-overblik")
# The PDF is kept beside the screenshots only while it stays small enough for the repository.
PDF_LIMIT = 400_000
REFERRAL_SCORES = (9, 8, 7, 3, 4, 5)  # three of six at 7 or more: 50 %


def _event(event: Event, hours: float) -> dict[str, Any]:
    # The system states the citizens' consent, as ingestion requires for attributes and scores.
    envelope = Envelope.wrap(event, source="/systems/overblik-test", time=START + timedelta(hours=hours))
    return {**envelope.to_dict(), "consentdate": "2024-01-01"}


def _cohort(community_id: str) -> list[dict[str, Any]]:
    """Generation 0 refers 2 citizens, generation 1 (sector health_centre) 3, generation 2 one;
    three are welcomed. Every breakdown cell is 1-4. All six answered the loneliness scale at
    the referral (shown: six), the three welcomed again after 12 weeks (hidden: three)."""
    tag = uuid.uuid4().hex[:8]
    guide, professional, ambassador = f"guide-ov-{tag}", f"prof-ov-{tag}", f"amb-ov-{tag}"
    events = [
        _event(ReferrerActivated(actor_id=guide, role="guide"), -200),
        _event(
            ReferrerActivated(actor_id=professional, role="professional", sector="health_centre", activated_by=guide),
            -100,
        ),
        _event(
            ReferrerActivated(actor_id=ambassador, role="ambassador", area="vestervang", activated_by=professional), -50
        ),
    ]
    referrers = [guide, guide, professional, professional, professional, ambassador]
    for n, referrer in enumerate(referrers):
        citizen, referral = f"c-ov-{tag}-{n}", f"r-ov-{tag}-{n}"
        group = "elderly_alone" if n % 2 else "newcomer"
        events += [
            _event(CitizenRegistered(citizen_ref=citizen, area="vestervang", target_groups=[group]), n),
            _event(
                ReferralCreated(
                    referral_id=referral, citizen_ref=citizen, community_id=community_id, referrer_id=referrer
                ),
                n + 0.5,
            ),
            _event(
                LonelinessMeasured(
                    referral_id=referral, moment="referral", score=REFERRAL_SCORES[n], citizen_ref=citizen
                ),
                n + 1,
            ),
        ]
        if n < 3:
            events += [
                _event(ReferralAccepted(referral_id=referral), n + 24),
                _event(
                    WelcomeConfirmed(referral_id=referral, community_id=community_id, confirmed_by="contact-ov"), n + 48
                ),
                _event(
                    LonelinessMeasured(referral_id=referral, moment="week_12", score=5, citizen_ref=citizen),
                    n + 12 * 7 * 24,
                ),
            ]
    return events


@pytest.fixture(scope="module")
def cohort(web_system: WebSystem) -> dict[str, Any]:
    """Ingest the May 2021 cohort and wait until analytics counts it; its metrics (as a guide
    with disclosure control, the way the web shows them)."""
    batch = _cohort(web_system.knitting_id)
    with httpx.Client(base_url=web_system.referrals.base_url, timeout=30, verify=tls()) as client:
        answer = client.post(
            "/v1/events",
            json=batch,
            headers={"Authorization": f"Bearer {SYSTEM_TOKEN}", "Content-Type": "application/cloudevents-batch+json"},
        )
    assert answer.status_code == 200 and answer.json()["rejected"] == 0, answer.text
    params = {"from": "2021-05-01", "to": "2021-05-31"}

    async def counted() -> dict[str, Any] | None:
        async with web_system.analytics.client(GUIDE_TOKEN) as client:  # in the servers' loop: no blocking
            metrics: dict[str, Any] = (await client.get("/v1/metrics", params=params)).json()
        lonely = metrics.get("loneliness") or {}
        done = (metrics["referrals"]["created"], metrics["referrals"]["welcomed"]) == (6, 3) and lonely.get("week_12")
        done = done and lonely["referral"]["measured"] == 6 and lonely["week_12"]["measured"] is None
        return metrics if done else None

    found: dict[str, Any] = web_system.run(eventually(counted, timeout=30))
    return found


def pick_month(page: Any, start: str, end: str) -> None:
    page.get_by_label("Fra måned").fill(start)
    page.get_by_label("Til måned").fill(end)
    page.get_by_role("button", name="Vis perioden").click()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_analyst_sees_the_dashboard_with_small_cells_hidden(
    new_page: Callable[..., Any], web_system: WebSystem, cohort: dict[str, Any], javascript: bool
) -> None:
    page = new_page(javascript=javascript)
    foreign = no_foreign_requests(page)
    login_as(page, "analyst", "/overblik")
    expect(page.get_by_role("heading", level=1)).to_have_text("Overblik")
    expect(page.get_by_role("link", name="Seneste 12 måneder")).to_have_attribute("aria-current", "true")
    axe_check(page, "overblik: the last 12 months")

    pick_month(page, MONTH, MONTH)
    expect(page.get_by_text("Periode: maj 2021.")).to_be_visible()
    assert cohort["referrers"]["referrals_by_sector"]["health_centre"] is None  # analytics hid it
    sector = page.locator("#sector-table")
    expect(sector.get_by_role("row", name="Sundhedscenter")).to_contain_text("<5")
    expect(sector.get_by_role("row", name="Sundhedscenter")).not_to_contain_text("3")
    reach = page.locator("#reach-table")
    expect(reach.get_by_role("row", name="Ældre, der bor alene")).to_contain_text("<5")
    expect(page.get_by_text("„<5“ betyder 1–4").first).to_be_visible()
    figures = page.locator(".ov-figures")
    expect(figures.locator("li", has_text="Henvisninger")).to_contain_text("6")
    expect(figures.locator("li", has_text="Budt velkommen")).to_contain_text("50 %")

    chart = page.get_by_role("img", name="Vejvisere og henvisninger pr. generation")
    expect(chart).to_be_visible()
    expect(chart.locator("desc")).to_have_text(
        "Guides: 1 vejviser, 2 henvisninger; Generation 1: 1 vejviser, 3 henvisninger; "
        "Generation 2: 1 vejviser, 1 henvisning."
    )
    assert chart.locator("rect").count() == 6
    lonely = page.locator("#loneliness-table")
    measured = lonely.get_by_role("row", name=re.compile("^Målt "))
    expect(measured).to_contain_text("6")  # six answered: shown
    expect(measured).to_contain_text("<5")  # three after 12 weeks: hidden
    expect(lonely.get_by_role("row", name="Andel med score 7 eller mere")).to_contain_text("50 %")
    change = page.locator("#loneliness-change-table")  # three paired: the count and their mean change hidden
    expect(change.get_by_role("row", name="Målt begge gange")).to_contain_text("<5")
    expect(change.get_by_role("row", name="Gennemsnitlig ændring")).to_contain_text("skjult (færre end 5 målt)")
    expect(change).not_to_contain_text("3")
    table = page.locator("#cascade-table")
    expect(table.get_by_role("row", name="Generation 1")).to_contain_text("3")
    axe_check(page, "overblik: May 2021 with hidden cells")
    if javascript:
        screenshot(page, "overblik")

    pick_month(page, "2021-06", MONTH)  # backwards
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("Fra-måneden skal ligge før til-måneden")
    expect(page.get_by_label("Fra måned")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Ret perioden ovenfor for at se tallene.")).to_be_visible()
    if javascript:
        expect(summary).to_be_focused()
        screenshot(page, "overblik-fejl")
    axe_check(page, "overblik: a period backwards")

    page.get_by_role("link", name="Sidste år").click()
    expect(page.get_by_role("link", name="Sidste år")).to_have_attribute("aria-current", "true")
    expect(page.get_by_label("Fra måned")).to_have_value(f"{datetime.now(UTC).year - 1}-01")
    axe_check(page, "overblik: last year")
    assert foreign == []


def test_a_professional_gets_the_403_page(page_without_js: Any) -> None:
    # Without JavaScript only: the 403 page is the server's either way (with JavaScript, and
    # axe, in test_journeys_browser's 403 test).
    page = page_without_js
    login_as(page, "professional")
    expect(page.get_by_role("link", name="Overblik")).to_have_count(0)  # not in their menu either
    response = page.goto("/overblik")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Du har ikke adgang til denne side")).to_be_visible()
    axe_check(page, "overblik: 403")
    for path in ("/overblik.csv", "/overblik/print"):
        answer = page.goto(path)
        assert answer is not None and answer.status == 403


def test_the_csv_download_is_the_periods_metrics(page: Any, web_system: WebSystem, cohort: dict[str, Any]) -> None:
    login_as(page, "analyst", f"/overblik?from={MONTH}&to={MONTH}")
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Hent tallene som CSV").click()
    download = waiting.value
    assert download.suggested_filename == f"vejviser-overblik-{MONTH}-{MONTH}.csv"
    with open(download.path(), encoding="utf-8") as file:
        rows = dict(csv.reader(file))
    assert rows["path"] == "value"
    assert rows["referrals.created"] == "6" and rows["referrals.welcomed"] == "3"
    assert rows["cascade.referrals_by_generation.1"] == "3"
    assert rows["referrers.referrals_by_sector.health_centre"] == ""  # hidden: no number
    assert rows["equity.by_target_group.newcomer.referred"] == ""


def test_a_guide_sees_the_same_hidden_cells(web_system: WebSystem, cohort: dict[str, Any]) -> None:
    # Guides may lift disclosure control in the analytics API; the dashboard never does.
    with http_login(web_system, "guide") as client:
        answer = client.get("/overblik", params={"from": MONTH, "to": MONTH})
    assert answer.status_code == 200 and 'aria-current="page"><span>Overblik' in answer.text
    sector = answer.text.split('id="sector-table"')[1].split("</table>")[0]
    assert "Sundhedscenter" in sector and "&lt;5" in sector and ">3<" not in sector


def test_a_bad_period_on_the_csv_and_print_addresses_is_explained(web_system: WebSystem) -> None:
    with http_login(web_system, "analyst") as client:
        csv_answer = client.get("/overblik.csv", params={"from": "2021-13", "to": MONTH})
        assert csv_answer.status_code == 422 and "text/html" in csv_answer.headers["content-type"]
        assert "Skriv fra-måneden som år og måned" in csv_answer.text
        printed = client.get("/overblik/print", params={"from": "2999-01", "to": "2999-02"})
        assert printed.status_code == 422 and "kan ikke ligge efter denne måned" in printed.text


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_print_version_makes_an_a4_pdf(
    new_page: Callable[..., Any], web_system: WebSystem, cohort: dict[str, Any], javascript: bool
) -> None:
    page = new_page(javascript=javascript)
    login_as(page, "analyst", f"/overblik?from={MONTH}&to={MONTH}")
    page.get_by_role("link", name="Udskriv").click()
    page.wait_for_url(f"**/overblik/print?from={MONTH}&to={MONTH}")
    expect(page.get_by_role("navigation", name="Hovedmenu")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Overblik")
    axe_check(page, "overblik: print version")

    # A4 at 96 dpi less the page margins is about 730 px: nothing may stick out sideways.
    page.set_viewport_size({"width": 730, "height": 1000})
    page.emulate_media(media="print")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    expect(page.get_by_text("Siden er lavet til at blive udskrevet")).to_be_hidden()
    if not javascript:
        return
    screenshot(page, "overblik-print")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 1
    if len(pdf) <= PDF_LIMIT:
        (SCREENSHOTS / "overblik-a4.pdf").write_bytes(pdf)

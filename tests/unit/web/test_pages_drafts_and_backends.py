"""Drafts keep contact data encrypted; a backing service's refusal becomes Danish field errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from services.web.drafts import Draft, DraftBox
from services.web.service.backends import danish_message, field_errors
from services.web.service.search import SearchForm


def test_contact_data_is_sealed_and_opened() -> None:
    box = DraftBox("a secret")
    plain, sealed = box.seal({"area": "vestervang", "contact_name": "Kim Hansen", "contact_phone": "12345678"})
    # (a short word like b"Kim" turns up in random base64 now and then: look for the whole value)
    assert plain == {"area": "vestervang"} and sealed is not None and b"Kim Hansen" not in sealed
    row = Draft(draft_id="d", session_hash="s", actor_id="a", answers=plain, contact_ciphertext=sealed)
    row.updated_at = datetime.now(UTC)
    assert box.open(row).answers["contact_name"] == "Kim Hansen"
    assert "contact_name" not in DraftBox("another secret").open(row).answers


def test_backend_422_details_become_page_fields() -> None:
    assert field_errors({"field": "consent.date"}) == [("consent_date", "Tjek datoen for samtykket")]
    listed = [{"field": "contact.email", "message": "x"}, {"field": "unknown"}]
    assert [field for field, _ in field_errors(listed)] == ["contact_email"]
    assert "fuldt" in danish_message("referrals", 409, "community 'x' is full; choose another")
    assert "svarer ikke" in danish_message("catalogue", 503, "")


def test_search_form_round_trips_and_removes_filters() -> None:
    form = SearchForm.parse({"q": ["strik"], "kategori": ["creative", "nonsense"], "ledige": ["ja"], "side": ["2"]})
    assert form.categories == ("creative",) and form.open_seats and form.page == 2
    assert SearchForm.parse({key: [value] for key, value in form.pairs()}) == form
    chips = {chip.label: chip.href for chip in form.chips()}
    assert chips["Kun med ledige pladser"] == "/soeg?q=strik&kategori=creative"
    assert form.api_params()["category"] == ["creative"]


def test_free_and_companion_filters_reach_the_catalogue_and_can_be_removed() -> None:
    form = SearchForm.parse({"q": ["gåtur"], "gratis": ["ja"], "foelgeskab": ["ja"]})
    assert form.free and form.companion
    params = form.api_params()
    assert params["free"] is True and params["accompaniment_welcome"] is True
    chips = {chip.label: chip.href for chip in form.chips()}
    assert chips["Gratis"] == "/soeg?q=g%C3%A5tur&foelgeskab=ja"
    assert chips["Man må tage en følgeperson med"] == "/soeg?q=g%C3%A5tur&gratis=ja"


def test_the_composition_root_makes_the_pages_once_and_closes_their_clients_at_shutdown(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from services.web.main import build
    from services.web.settings import WebSettings

    app = build(WebSettings(database_url=f"sqlite:///{tmp_path / 'web.db'}"))
    pages = app.state.pages
    with TestClient(app):
        assert not pages.backends.client.is_closed
    assert pages.backends.client.is_closed and app.state.pages is pages

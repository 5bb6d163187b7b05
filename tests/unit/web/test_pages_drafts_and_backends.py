"""Drafts keep contact data encrypted; a backing service's refusal becomes Danish field errors."""

from __future__ import annotations

from datetime import UTC, datetime

from services.web.drafts import Draft, DraftBox
from services.web.service.backends import danish_message, field_errors
from services.web.service.search import SearchForm


def test_contact_data_is_sealed_and_opened() -> None:
    box = DraftBox("a secret")
    plain, sealed = box.seal({"note": "Strik", "contact_name": "Kim Hansen", "contact_phone": "12345678"})
    assert plain == {"note": "Strik"} and sealed is not None and b"Kim" not in sealed
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

"""Ingestion's rules (shared/screening.py): the APIs' vocabulary, consent and personal-data
rules, every string of every event classified, and a reason a person can act on."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from shared import screening
from shared.events import REGISTRY, Envelope, Event
from shared.events.catalogue import CommunityRegistered, NeedRecorded, WelcomeContact
from shared.events.envelope import Id
from shared.events.referrals import (
    CitizenRegistered,
    LonelinessMeasured,
    ReferralCreated,
    ReferrerActivated,
    WorkContact,
)
from shared.screening import Kind, personal_data, screen
from tests.unit.test_profile import another_municipality

PROBE_AREA = "Testperson Ærlig, tlf +45 12345678"


def envelope(event: Event, **extensions: Any) -> Envelope:
    wrapped = Envelope.wrap(event, source="/systems/jobcenter")
    return Envelope.model_validate({**wrapped.to_dict(), **extensions}) if extensions else wrapped


def refusal(event: Event, **extensions: Any) -> str | None:
    env = envelope(event, **extensions)
    return screen(env, env.decode())


def community(**changes: Any) -> CommunityRegistered:
    values: dict[str, Any] = {
        "community_id": "k-1",
        "organization_id": "o-1",
        "name": "Strikkeklubben",
        "categories": ["creative"],
        "area": "vestervang",
        "kind": "permanent",
        "accepts_special_needs": True,
        **changes,
    }
    return CommunityRegistered(**values)


# ------------------------------------------------------------------ every string classified


def test_every_string_of_every_event_is_an_id_a_code_an_enum_a_time_or_a_named_directory_field() -> None:
    kinds = screening.classified_fields()  # raises Unclassified for a string nobody classified
    assert kinds["CitizenRegistered.target_groups"] is Kind.target_group
    assert kinds["CitizenRegistered.citizen_ref"] is Kind.id
    assert kinds["ReferralCancelled.reason"] is Kind.enum
    assert kinds["FirstVisitProposed.visit_at"] is Kind.time
    assert kinds["WelcomeContact.phone"] is Kind.work_contact
    # Each entry of the table is a field that exists: the table holds no stale names.
    assert set(screening.FIELDS) <= set(kinds)
    # Free text is the exception, and each such field is named.
    texts = {name for name, kind in kinds.items() if kind is Kind.directory_text}
    assert texts == {
        "ReferrerActivated.organization",
        "CommunityRegistered.name",
        "CommunityRegistered.description",
        "CommunityUpdated.name",
        "CommunityUpdated.description",
        "NeedRecorded.description",
        "NetworkMeetingHeld.topic",
    }
    assert len(REGISTRY) >= 27


class NoteTaken(Event):
    """A new event with a free-text field nobody classified."""

    context: ClassVar[str] = "referrals"
    aggregate: ClassVar[str] = "referral_id"
    referral_id: Id
    note: str


def test_a_new_free_text_field_is_refused_until_it_is_classified() -> None:
    with pytest.raises(screening.Unclassified, match=r"NoteTaken\.note is a string"):
        screening.fields_of(NoteTaken)
    event = NoteTaken(referral_id="r-1", note="Hr. Jensen er ked af det")
    env = Envelope(id="e-1", source="/systems/x", type="dk.vejviser.NoteTaken.v1", time=datetime.now(UTC), data={})
    with pytest.raises(screening.Unclassified):
        screening.content_problem(env, event)


# ------------------------------------------------------------------ the probes


def test_a_name_and_phone_number_as_the_area_is_refused_naming_the_field() -> None:
    reason = refusal(CitizenRegistered(citizen_ref="c-1", area=PROBE_AREA), consentdate="2025-03-01")
    assert reason is not None and reason.startswith("data.area: contains a phone number")
    assert "12345678" not in reason  # the answer does not echo the personal data


def test_an_age_band_without_consent_is_refused_and_with_stated_consent_accepted() -> None:
    event = CitizenRegistered(citizen_ref="c-1", age_band="25-34")
    reason = refusal(event)
    assert reason is not None and reason.startswith("data.age_band: stored only with the citizen's consent")
    assert "consentdate" in reason
    assert refusal(event, consentdate="2025-03-01") is None
    assert refusal(CitizenRegistered(citizen_ref="c-1")) is None  # no attributes: no consent needed


def test_area_and_target_groups_need_consent_too_and_must_be_codes() -> None:
    assert (refusal(CitizenRegistered(citizen_ref="c-1", area="vestervang")) or "").startswith("data.area: stored")
    assert (refusal(CitizenRegistered(citizen_ref="c-1", target_groups=["newcomer"])) or "").startswith(
        "data.target_groups: stored"
    )
    label = refusal(CitizenRegistered(citizen_ref="c-1", area="Vestervang"), consentdate="2025-03-01")
    assert label == "data.area: 'Vestervang' is the label of area 'vestervang'; events carry the code"
    unknown = refusal(CitizenRegistered(citizen_ref="c-1", target_groups=["lonely"]), consentdate="2025-03-01")
    assert unknown is not None and unknown.startswith(
        "data.target_groups[0]: unknown target group 'lonely'; use one of"
    )
    band = refusal(CitizenRegistered(citizen_ref="c-1", age_band="30-39"), consentdate="2025-03-01")
    assert band == "data.age_band: unknown age band '30-39'; use one of 18-24, 25-34, 35-44, 45-54, 55-64, 65-74, 75+"


def test_stated_consent_must_be_a_date_and_not_in_the_future() -> None:
    event = CitizenRegistered(citizen_ref="c-1", age_band="25-34")
    assert refusal(event, consentdate="sidste år") == "consentdate: 'sidste år' is not a date; give it as 2025-03-01"
    later = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    assert refusal(event, consentdate=later) == "consentdate: consent cannot be given in the future"
    assert refusal(event, consentdate="2025-03-01T10:00:00Z") is None


def test_a_loneliness_score_needs_stated_consent_and_its_citizen() -> None:
    measured = LonelinessMeasured(referral_id="r-1", moment="referral", score=7, citizen_ref="c-1")
    assert (refusal(measured) or "").startswith("data.score: stored only with the citizen's consent")
    assert refusal(measured, consentdate="2025-03-01") is None
    anonymous = LonelinessMeasured(referral_id="r-1", moment="referral", score=7)
    assert refusal(anonymous, consentdate="2025-03-01") == (
        "data.citizen_ref: name the referral's citizen, so that the score is erased with them"
    )


# ------------------------------------------------------------------ personal data


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("+45 12345678", "a phone number"),
        ("ring 12 34 56 78", "a phone number"),
        ("0045 1234 5678", "a phone number"),
        ("tlf. 12345678.", "a phone number"),
        ("skriv til borger@example.dk", "an e-mail address"),
        ("010190-1234", "a CPR number"),
        ("4100 Ringsted", None),
        ("Mødes tirsdag 10-12 i 2 timer", None),
        ("2025-03-01", None),
        ("c-3f2a1c90-1234-4a1b-9e4f-010190123412", None),  # a UUID's digits are no CPR or phone
    ],
)
def test_personal_data_is_recognised(text: str, found: str | None) -> None:
    assert personal_data(text) == found


def test_contact_data_is_allowed_only_in_the_directorys_contact_fields() -> None:
    contact = WelcomeContact(name="Agnete Friis", email="agnete@example.dk", phone="+45 12 34 56 78")
    assert refusal(community(contact=contact)) is None
    described = refusal(community(description="Ring til Agnete på 12345678"))
    assert (described or "").startswith("data.description: contains a phone number")
    named = refusal(community(name="Strik, agnete@example.dk"))
    assert (named or "").startswith("data.name: contains an e-mail address")
    need = NeedRecorded(need_id="n-1", area="vestervang", category="creative", description="x", recorded_by="a b")
    assert (
        refusal(need) == "data.recorded_by: 'a b' is not an identifier (letters, digits and - _ . : / only, no spaces)"
    )
    work = ReferrerActivated(
        actor_id="prof-1", role="professional", name="Mette Holm", contact=WorkContact(phone="+45 57 62 10 00")
    )
    assert refusal(work) is None


def test_no_cpr_number_anywhere_not_even_in_a_contact_field() -> None:
    reason = refusal(community(contact=WelcomeContact(name="Agnete 010190-1234")))
    assert (reason or "").startswith("data.contact.name: contains something shaped like a CPR number")


def test_identifiers_hold_no_spaces_and_no_phone_number() -> None:
    spaced = ReferralCreated(referral_id="r-1", citizen_ref="Testperson Ærlig", community_id="k", referrer_id="a")
    assert (refusal(spaced) or "").startswith("data.citizen_ref: 'Testperson Ærlig' is not an identifier")
    phone = ReferralCreated(referral_id="r-1", citizen_ref="+4512345678", community_id="k", referrer_id="a")
    assert (refusal(phone) or "").startswith("data.citizen_ref: contains a phone number")
    numbered = ReferralCreated(
        referral_id="r-20250301-17", citizen_ref=f"c-{uuid.uuid4()}", community_id="k", referrer_id="a"
    )
    assert refusal(numbered) is None


def test_an_unknown_extension_attribute_is_refused_rather_than_passed_on_to_the_bus() -> None:
    reason = refusal(CitizenRegistered(citizen_ref="c-1"), comment="Testperson Ærlig")
    assert reason == (
        "comment: extension attribute 'comment' is not part of Vejviser's contract and would travel on the bus "
        "as posted; leave it out (known: consentdate)"
    )
    assert (refusal(CitizenRegistered(citizen_ref="c-1"), subject="Testperson Ærlig") or "").startswith("subject:")


def test_a_code_that_passed_under_one_profile_is_refused_under_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Strings that passed are remembered (a back-fill repeats them), per profile: its
    vocabulary decides an area."""
    event = CitizenRegistered(citizen_ref="c-1", area="benloese")
    assert refusal(event, consentdate="2025-03-01") is None
    assert refusal(event, consentdate="2025-03-01") is None  # the second time from memory
    monkeypatch.setenv("MUNICIPALITY_PROFILE", str(another_municipality(tmp_path)))
    reason = refusal(event, consentdate="2025-03-01")
    assert reason is not None and reason.startswith("data.area:") and "soroe_by" in reason, reason

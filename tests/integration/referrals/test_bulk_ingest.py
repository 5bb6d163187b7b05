"""The bulk path of CloudEvents ingestion (`POST /v1/events` without HTTP) on SQLite and
PostgreSQL: rows a run adds are written at its end, so these check what lands when a run
is applied whole, when one refused event sends it event by event, and across requests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.referrals.crypto import vault_from_settings
from services.referrals.service import ReferralsService
from services.referrals.service.communities import on_registered
from services.referrals.settings import ReferralsSettings
from services.referrals.store import timeline_of
from services.referrals.tables import Base, Bridge, Citizen, Outreach, Referral, Referrer
from shared.events import Envelope, Event
from shared.events.catalogue import CommunityRegistered
from shared.events.referrals import (
    AccompanimentArranged,
    CitizenAccompanied,
    CitizenBridged,
    CitizenErased,
    CitizenRegistered,
    OutreachRecorded,
    ReadinessRecorded,
    ReferralAccepted,
    ReferralCreated,
    ReferrerActivated,
    WelcomeConfirmed,
)
from shared.inbox import batched
from shared.ingest import ingest
from shared.runtime import Runtime
from tests.integration.referrals.support import second_database

T0 = datetime(2024, 3, 1, 9, tzinfo=UTC)
ARRANGED = [("1d", "requested"), ("1e", "accompaniment_arranged")]
H6 = timedelta(hours=6)


@pytest.fixture
def service(database_url: str) -> Iterator[ReferralsService]:
    with second_database(database_url) as key_store_url:
        yield from _service(database_url, key_store_url)


def _service(database_url: str, key_store_url: str) -> Iterator[ReferralsService]:
    settings = ReferralsSettings(database_url=database_url, key_store_url=key_store_url, nats_url="nats://127.0.0.1:1")
    runtime = Runtime(settings, Base.metadata)
    runtime.db.create_schema(Base.metadata)
    service = ReferralsService(runtime, settings, vault_from_settings(settings))
    with runtime.unit_of_work() as uow:
        for community_id, kind in (("strik", "permanent"), ("spor", "practice_track")):
            event = CommunityRegistered(
                community_id=community_id, organization_id="o", name=community_id, categories=["crafts"],
                area="vestervang", kind=kind, accepts_special_needs=True,
            )  # fmt: skip
            on_registered(uow.session, Envelope.wrap(event, source="/catalogue", time=T0 - timedelta(days=9)), event)
        guide = ReferrerActivated(actor_id="guide-0", role="guide")
        envelope = Envelope.wrap(guide, source="/bench", time=T0 - timedelta(days=9))
        service.appliers.apply(uow.session, envelope, guide)
    yield service
    runtime.db.dispose()
    service.vault.close()


# The system states the citizens' consent (shared/screening.py), as ingestion requires for attributes.
CONSENT = {"consentdate": "2024-02-01"}


def post(service: ReferralsService, *events: tuple[Event, float, str]) -> list[tuple[str, str | None]]:
    raw = [
        {**Envelope.wrap(event, source="/systems/jobcenter", time=T0 + timedelta(hours=hours)).to_dict(), "id": id_}
        | CONSENT
        for event, hours, id_ in events
    ]
    apply = batched(service.appliers.apply_all)
    results = ingest(service.runtime, raw, apply, "referrals")
    return [(r.status, r.reason) for r in results]


def chain(n: int) -> list[tuple[Event, float, str]]:
    actor, ref, rid = f"amb-{n}", f"c-{n}", f"r-{n}"
    activated = ReferrerActivated(actor_id=actor, role="ambassador", activated_by="guide-0", offers_accompaniment=True)
    registered = CitizenRegistered(citizen_ref=ref, age_band="25-34", area="vestervang", target_groups=["newcomer"])
    return [
        (activated, 0, f"{n}a"),
        (ReadinessRecorded(actor_id=actor, level="trained"), 0.5, f"{n}b"),
        (registered, 1, f"{n}c"),
        (ReferralCreated(referral_id=rid, citizen_ref=ref, community_id="strik", referrer_id=actor), 2, f"{n}d"),
        (AccompanimentArranged(referral_id=rid, companion_id=actor), 3, f"{n}e"),
        (OutreachRecorded(actor_id=actor, kind="postcards", count=5, area="vestervang"), 3, f"{n}f"),
    ]  # fmt: skip


def stored(service: ReferralsService, rid: str) -> tuple[str, int, list[tuple[str, str]]]:
    def work(session: Session) -> tuple[str, int, list[tuple[str, str]]]:
        referral = session.get(Referral, rid)
        assert referral is not None
        return referral.status, referral.version, [(t.event_id, t.status) for t in timeline_of(session, rid)]

    return service.runtime.read(work)


def outreach(service: ReferralsService) -> list[str]:
    return service.runtime.read(lambda s: list(s.scalars(select(Outreach.event_id).order_by(Outreach.event_id))))


def test_a_whole_run_lands_with_its_timeline_outreach_and_defaults(service: ReferralsService) -> None:
    assert post(service, *chain(1), *chain(2)) == [("accepted", None)] * 12
    assert stored(service, "r-1") == (
        "accompaniment_arranged",
        2,
        [("1d", "requested"), ("1e", "accompaniment_arranged")],
    )
    assert outreach(service) == ["1f", "2f"]

    def rows(session: Session) -> tuple[Referrer | None, Citizen | None]:
        return session.get(Referrer, "amb-2"), session.get(Citizen, "c-2")

    referrer, citizen = service.runtime.read(rows)
    assert referrer is not None and citizen is not None
    # Recorded trained, then the first referral moved them up to referring by itself.
    assert (referrer.readiness, referrer.languages, referrer.name, referrer.activated_by) == (
        "referring",
        [],
        None,
        "guide-0",
    )
    # The attributes are sealed with the citizen's key, made for the run (one round trip).
    key = service.vault.key_of("c-2")
    assert key is not None and citizen.attributes_ciphertext is not None and citizen.erased_at is None
    attributes = key.open_attributes(citizen.attributes_ciphertext)
    assert (attributes.age_band, attributes.area, attributes.target_groups, attributes.languages) == (
        "25-34",
        "vestervang",
        ("newcomer",),
        (),
    )
    recorded = (attributes.consent_recorded_by, attributes.consent_date)
    assert recorded == ("/systems/jobcenter", datetime(2024, 2, 1, 12, tzinfo=UTC))


def test_a_refused_event_leaves_nothing_and_the_others_land_once(service: ReferralsService) -> None:
    again = ReferralCreated(referral_id="r-1", citizen_ref="c-1", community_id="strik", referrer_id="guide-0")
    refused = (again, 2.5, "bad")
    results = post(service, *chain(1)[:4], refused, *chain(1)[4:], *chain(2))
    assert [status for status, _ in results] == ["accepted"] * 4 + ["rejected"] + ["accepted"] * 8
    assert "already exists" in str(results[4][1])
    assert stored(service, "r-1") == (
        "accompaniment_arranged",
        2,
        [("1d", "requested"), ("1e", "accompaniment_arranged")],
    )
    assert stored(service, "r-2")[2] == [("2d", "requested"), ("2e", "accompaniment_arranged")]
    assert outreach(service) == ["1f", "2f"]


def test_a_later_request_moves_and_erases_what_an_earlier_one_stored(service: ReferralsService) -> None:
    post(service, *chain(1))
    later = [
        (ReferralAccepted(referral_id="r-1"), 4, "1g"),
        (CitizenAccompanied(referral_id="r-1", companion_id="amb-1"), 5, "1h"),
        (CitizenErased(citizen_ref="c-1"), 6, "1i"),
    ]
    assert [status for status, _ in post(service, *later)] == ["rejected", "accepted", "accepted"]
    status, version, timeline = stored(service, "r-1")
    # The erasure cancelled the open referral (reason erased) after the move it followed.
    assert (status, version, [event_id for event_id, _ in timeline][:3]) == ("cancelled", 4, ["1d", "1e", "1h"])
    cancel = service.runtime.read(lambda s: timeline_of(s, "r-1")[-1])
    assert (cancel.event_type, cancel.data, cancel.time) == ("ReferralCancelled", {"reason": "erased"}, T0 + H6)
    erased = service.runtime.read(lambda s: s.get(Citizen, "c-1"))
    assert erased is not None and erased.erased_at is not None and erased.attributes_ciphertext is None


def test_an_erasure_in_the_run_that_made_the_referral_cancels_it(service: ReferralsService) -> None:
    erased = (CitizenErased(citizen_ref="c-1"), 6, "1i")
    assert [status for status, _ in post(service, *chain(1), erased)] == ["accepted"] * 7
    assert stored(service, "r-1")[:2] == ("cancelled", 3)
    assert service.vault.keys.is_destroyed("c-1")  # the key the run made for the attributes


def test_events_at_the_same_moment_keep_their_order_in_the_timeline(service: ReferralsService) -> None:
    same = [(event, 2.0, event_id) for event, _, event_id in chain(1)[3:5]]
    accompanied = CitizenAccompanied(referral_id="r-1", companion_id="amb-1")
    post(service, *chain(1)[:3], *same, (accompanied, 2.0, "1z"))
    assert [event_id for event_id, _ in stored(service, "r-1")[2]] == ["1d", "1e", "1z"]


def test_a_bridge_in_a_run_sees_the_run_s_referrals_and_is_stored_once(service: ReferralsService) -> None:
    track = ReferralCreated(referral_id="r-track", citizen_ref="c-1", community_id="spor", referrer_id="amb-1")
    bridge = CitizenBridged(citizen_ref="c-1", from_community_id="spor", to_referral_id="r-1")
    arranged = chain(1)[4]
    # The bridge stores what the run added so far; the move after it changes a stored referral,
    # and the refused second bridge sends the request event by event.
    events = [*chain(1)[:4], (track, 2, "t"), (bridge, 3, "b1"), arranged, (bridge, 4, "b2")]
    results = post(service, *events)
    assert [status for status, _ in results] == ["accepted"] * 7 + ["rejected"]
    assert "already recorded as a bridge" in str(results[-1][1])
    assert service.runtime.read(lambda s: list(s.scalars(select(Bridge.event_id)))) == ["b1"]
    assert stored(service, "r-1") == ("accompaniment_arranged", 2, ARRANGED)


def test_text_with_tabs_newlines_backslashes_and_quotes_is_stored_as_posted(service: ReferralsService) -> None:
    name, organization = 'Åse "Ø" Tab\there', "Linje 1\nLinje 2 \\ C:\\sti\\N"
    activated = ReferrerActivated(actor_id="prof-x", role="professional", name=name, organization=organization)
    welcome = WelcomeConfirmed(referral_id="r-1", community_id="strik", confirmed_by='kontakt"\\N"')
    assert [s for s, _ in post(service, (activated, 0, "x"), *chain(1)[:4], (welcome, 3, "w"))] == ["accepted"] * 6
    referrer = service.runtime.read(lambda s: s.get(Referrer, "prof-x"))
    assert referrer is not None and (referrer.name, referrer.organization) == (name, organization)
    entry = service.runtime.read(lambda s: timeline_of(s, "r-1")[-1])
    assert entry.data["confirmed_by"] == 'kontakt"\\N"'

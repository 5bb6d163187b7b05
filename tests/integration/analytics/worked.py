"""A hand-built event history whose metrics are worked out by hand in the tests.

Times are UTC; Copenhagen is UTC+1 in winter, UTC+2 from 31 March 2024.
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.analytics import upsert
from services.analytics.projection import Changes
from shared.db import Database
from shared.events import Envelope, Event
from shared.events import catalogue as cat
from shared.events import referrals as ref


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


AS_OF = t("2024-07-01T12:00:00")


def _e(event: Event, when: str) -> Envelope:
    return Envelope.wrap(event, source="/test/worked", time=t(when))


def history() -> list[Envelope]:
    """In a deliberately awkward order: late activations, a welcome before its referral, an
    update before the registration it updates, an erasure before nothing else."""
    events = [
        # A welcome back-dated before its ReferralCreated arrives (r5).
        _e(
            ref.WelcomeConfirmed(referral_id="r5", community_id="com-1", confirmed_by="contact-1"),
            "2024-06-30T22:00:00",
        ),
        # prof-1's second activation (by guide-b) arrives first; only the first one counts.
        _e(
            ref.ReferrerActivated(actor_id="prof-1", role="professional", sector="health", activated_by="guide-b"),
            "2024-05-01T08:00:00",
        ),
        _e(ref.ReferrerActivated(actor_id="guide-a", role="guide"), "2024-01-01T08:00:00"),
        _e(ref.ReferrerActivated(actor_id="guide-b", role="guide"), "2024-01-01T08:00:00"),
        _e(
            ref.ReferrerActivated(actor_id="prof-1", role="professional", sector="health", activated_by="guide-a"),
            "2024-01-10T08:00:00",
        ),
        _e(
            ref.ReferrerActivated(actor_id="amb-1", role="ambassador", sector="volunteer", activated_by="prof-1"),
            "2024-02-01T08:00:00",
        ),
        # A citizen who became an ambassador: no activated_by, generation through cit-1.
        _e(ref.ReferrerActivated(actor_id="amb-c", role="ambassador", citizen_ref="cit-1"), "2024-03-01T08:00:00"),
        # Connected to no guide: unattributed.
        _e(ref.ReferrerActivated(actor_id="prof-x", role="professional", sector="library"), "2024-02-15T08:00:00"),
        # Communities: the update (area Nord) arrives before the registration (area Vest).
        _e(cat.CommunityUpdated(community_id="com-1", area="Nord"), "2024-02-01T08:00:00"),
        _e(
            cat.CommunityRegistered(
                community_id="com-1",
                organization_id="org-1",
                name="Strikkeklubben",
                categories=["crafts"],
                area="Vest",
                kind="permanent",
                accepts_special_needs=True,
            ),
            "2024-01-01T08:00:00",
        ),
        _e(
            cat.CommunityRegistered(
                community_id="com-2",
                organization_id="org-2",
                name="Spisevenner",
                categories=["food"],
                area="Syd",
                kind="practice_track",
                accepts_special_needs=True,
            ),
            "2024-01-01T08:00:00",
        ),
        _e(
            cat.CommunityCapacityChanged(community_id="com-1", available=0, total=12, status="full"),
            "2024-05-01T08:00:00",
        ),
        _e(
            cat.CommunityCapacityChanged(community_id="com-1", available=3, total=12, status="open"),
            "2024-07-01T10:00:00",
        ),
        _e(
            cat.CommunityCapacityChanged(community_id="com-2", available=0, total=8, status="waitlist"),
            "2024-03-01T08:00:00",
        ),
        # Citizens (pseudonymous attributes; cit-3 is erased later).
        _e(ref.CitizenErased(citizen_ref="cit-3"), "2024-06-01T08:00:00"),
        _e(
            ref.CitizenRegistered(citizen_ref="cit-1", age_band="30-39", area="Nord", target_groups=["unemployed"]),
            "2024-01-15T09:00:00",
        ),
        _e(
            ref.CitizenRegistered(
                citizen_ref="cit-2", age_band="50-59", area="Nord", target_groups=["mental_health", "unemployed"]
            ),
            "2024-03-10T09:00:00",
        ),
        _e(
            ref.CitizenRegistered(citizen_ref="cit-3", age_band="60-69", area="Syd", target_groups=["mental_health"]),
            "2024-03-20T09:00:00",
        ),
        _e(
            ref.CitizenRegistered(citizen_ref="cit-4", age_band="20-29", area="Syd", target_groups=["unemployed"]),
            "2024-06-30T21:00:00",
        ),
        _e(
            ref.CitizenRegistered(citizen_ref="cit-5", area="Vest", target_groups=["unemployed"]), "2024-06-30T22:00:00"
        ),
        # r1: prof-1 -> cit-1, welcomed after 5 days, still participating after 4 weeks.
        _e(
            ref.ReferralCreated(referral_id="r1", citizen_ref="cit-1", community_id="com-1", referrer_id="prof-1"),
            "2024-01-15T10:00:00",
        ),
        _e(ref.ReferralAccepted(referral_id="r1"), "2024-01-16T10:00:00"),
        _e(
            ref.WelcomeConfirmed(referral_id="r1", community_id="com-1", confirmed_by="contact-1"),
            "2024-01-20T10:00:00",
        ),
        _e(
            ref.ParticipationConfirmed(referral_id="r1", weeks_after=4, still_participating=True), "2024-02-17T10:00:00"
        ),
        # r2: amb-c -> cit-2 into the practice track, accompanied, welcomed after 2 days.
        _e(
            ref.ReferralCreated(
                referral_id="r2",
                citizen_ref="cit-2",
                community_id="com-2",
                referrer_id="amb-c",
                needs_accompaniment=True,
            ),
            "2024-03-10T10:00:00",
        ),
        _e(ref.AccompanimentArranged(referral_id="r2", companion_id="amb-1"), "2024-03-11T10:00:00"),
        _e(ref.CitizenAccompanied(referral_id="r2", companion_id="amb-1"), "2024-03-12T09:00:00"),
        _e(
            ref.WelcomeConfirmed(referral_id="r2", community_id="com-2", confirmed_by="contact-2"),
            "2024-03-12T10:00:00",
        ),
        _e(
            ref.ParticipationConfirmed(referral_id="r2", weeks_after=12, still_participating=False),
            "2024-06-04T10:00:00",
        ),
        # r3: the unattributed professional -> cit-3, rejected (full).
        _e(
            ref.ReferralCreated(referral_id="r3", citizen_ref="cit-3", community_id="com-1", referrer_id="prof-x"),
            "2024-03-20T10:00:00",
        ),
        _e(ref.ReferralRejected(referral_id="r3", reason="full"), "2024-03-21T10:00:00"),
        # r4: guide-a -> cit-2 (second referral), accompaniment arranged but not done, cancelled.
        _e(
            ref.ReferralCreated(
                referral_id="r4",
                citizen_ref="cit-2",
                community_id="com-1",
                referrer_id="guide-a",
                needs_accompaniment=True,
            ),
            "2024-04-01T10:00:00",
        ),
        _e(ref.AccompanimentArranged(referral_id="r4", companion_id="amb-1"), "2024-04-02T10:00:00"),
        _e(ref.ReferralCancelled(referral_id="r4"), "2024-04-03T10:00:00"),
        _e(
            ref.CitizenBridged(citizen_ref="cit-2", from_community_id="com-2", to_referral_id="r4"),
            "2024-04-01T10:00:00",
        ),
        # r5: amb-1 -> cit-4 at 23:30 Copenhagen on 30 June (inside a period ending 30 June).
        _e(
            ref.ReferralCreated(referral_id="r5", citizen_ref="cit-4", community_id="com-1", referrer_id="amb-1"),
            "2024-06-30T21:30:00",
        ),
        # r6: guide-b -> cit-5 at 00:30 Copenhagen on 1 July (outside it).
        _e(
            ref.ReferralCreated(referral_id="r6", citizen_ref="cit-5", community_id="com-1", referrer_id="guide-b"),
            "2024-06-30T22:30:00",
        ),
        # Needs: one just after the period end (Copenhagen).
        _e(
            cat.NeedRecorded(need_id="n1", area="Nord", category="transport", description="Kørsel", recorded_by="g"),
            "2024-02-01T08:00:00",
        ),
        _e(
            cat.NeedRecorded(need_id="n2", area="Syd", category="transport", description="Kørsel", recorded_by="g"),
            "2024-06-30T23:00:00",
        ),
        _e(
            cat.NeedRecorded(need_id="n3", area="Syd", category="crafts", description="Syning", recorded_by="g"),
            "2024-03-01T08:00:00",
        ),
        _e(ref.OutreachRecorded(actor_id="prof-1", kind="postcards", count=20), "2024-02-01T08:00:00"),
        _e(ref.OutreachRecorded(actor_id="prof-1", kind="postcards", count=5), "2024-07-01T08:00:00"),
        _e(ref.OutreachRecorded(actor_id="guide-a", kind="website_visit", count=100), "2024-03-01T08:00:00"),
    ]
    return events


def project(db: Database, envelopes: list[Envelope], batch: int) -> None:
    """Into the projections `batch` events a transaction (1: as the live consumers do)."""
    for start in range(0, len(envelopes), batch):
        changes = Changes()
        for envelope in envelopes[start : start + batch]:
            changes.add_envelope(envelope, envelope.decode())
        upsert.apply(db, changes)

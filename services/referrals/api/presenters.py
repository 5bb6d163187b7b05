"""Rows of the referrals service as the API shows them (codes with their Danish labels)."""

from __future__ import annotations

from services.referrals import access, domain, followup, visibility
from services.referrals.audit import AuditEntry
from services.referrals.schemas import (
    AccompanimentRequestOut,
    AuditOut,
    CitizenOut,
    CommunityOut,
    ConsentOut,
    RankedCompanionOut,
    ReferralOut,
    ReferrerOut,
    SharedContactOut,
    TimelineOut,
    TrainingOut,
    WorkContactOut,
)
from services.referrals.service.accompaniment import RequestView
from services.referrals.service.citizens import CitizenRecord
from services.referrals.service.referrals import Companion
from services.referrals.service.referrers import ReferrerView
from services.referrals.service.views import SharedContact, Shown
from services.referrals.settings import ReferralsSettings
from services.referrals.tables import Community, Referral, TimelineEntry
from shared.clock import local
from shared.principal import Principal
from shared.profile import profile
from shared.welcome import welcome_url


def area_label(code: str | None) -> str | None:
    return profile().area.label(code) if code else None


def referrer_out(view: ReferrerView) -> ReferrerOut:
    referrer = view.referrer
    return ReferrerOut(
        actor_id=referrer.actor_id,
        role=referrer.role,
        name=referrer.name,
        sector=referrer.sector,
        sector_label=profile().sector.label(referrer.sector) if referrer.sector else None,
        organization=referrer.organization,
        area=referrer.area,
        area_label=area_label(referrer.area),
        languages=list(referrer.languages or []),
        offers_accompaniment=referrer.offers_accompaniment,
        contact=WorkContactOut(email=referrer.contact_email, phone=referrer.contact_phone),
        activated_by=referrer.activated_by,
        activated_at=referrer.activated_at,
        was_referred_citizen=referrer.citizen_ref is not None,
        readiness=referrer.readiness,
        trainings=[
            TrainingOut(trained_on=t.trained_on, topic=t.topic, topic_label=profile().training_topic.label(t.topic))
            for t in view.trainings
        ],
        referral_count=view.referral_count,
        last_referral_at=view.last_referral_at,
    )


def citizen_out(record: CitizenRecord) -> CitizenOut:
    citizen, found = record.citizen, record.attributes
    # Attributes exist only with consent, and open only while the citizen's key does.
    if record.erased or found is None:
        return CitizenOut(
            citizen_ref=citizen.citizen_ref,
            age_band=None,
            area=None,
            area_label=None,
            target_groups=[],
            target_group_labels=[],
            languages=[],
            consent=None,
            has_contact=not record.erased and citizen.contact_ciphertext is not None,
            registered_at=citizen.registered_at,
            erased=record.erased,
        )
    consent = ConsentOut(
        # A municipal system's consent has no written purpose: it stated it holds consent.
        purpose=record.consent_purpose or f"recorded by {found.consent_recorded_by}",
        date=found.consent_date.date().isoformat(),
        recorded_by=found.consent_recorded_by,
    )
    return CitizenOut(
        citizen_ref=citizen.citizen_ref,
        age_band=found.age_band,
        area=found.area,
        area_label=area_label(found.area),
        target_groups=list(found.target_groups),
        target_group_labels=[profile().target_group.label(group) for group in found.target_groups],
        languages=list(found.languages),
        consent=consent,
        has_contact=citizen.contact_ciphertext is not None,
        registered_at=citizen.registered_at,
        erased=False,
    )


def audit_out(row: AuditEntry) -> AuditOut:
    return AuditOut(actor_id=row.actor_id, role=row.role, what=row.what, purpose=row.purpose, at=row.at)


def referrals_out(shown: Shown, principal: Principal, settings: ReferralsSettings) -> list[ReferralOut]:
    return [referral_out(r, principal, settings, shown) for r in shown.referrals]


def shared_contact_out(contact: SharedContact | None) -> SharedContactOut | None:
    return SharedContactOut(first_name=contact.first_name, phone=contact.phone) if contact else None


def referral_out(referral: Referral, principal: Principal, settings: ReferralsSettings, shown: Shown) -> ReferralOut:
    state = referral.state()
    link = None
    # The welcome link lets anyone holding it confirm the welcome: only guides hand it out.
    if principal.role in visibility.SEE_ALL and state.status in domain.OPEN:
        link = welcome_url(
            settings.referrals_public_url, settings.link_signing_key, referral.referral_id, referral.created_at
        )
    return ReferralOut(
        referral_id=referral.referral_id,
        citizen_ref=referral.citizen_ref,
        community_id=referral.community_id,
        community_name=shown.community_names.get(referral.community_id),
        referrer_id=referral.referrer_id,
        needs_accompaniment=referral.needs_accompaniment,
        special_considerations=referral.special_considerations,
        channel=referral.channel,
        note=shown.notes.get(referral.referral_id),
        share_note_with_community=referral.share_note,
        status=state.status,
        allowed_actions=[a.value for a in domain.allowed_actions_for(state)],
        version=referral.version,
        companion_id=referral.companion_id,
        rejection_reason=referral.rejection_reason,
        participation={str(weeks): still for weeks, still in state.participation.items()},
        created_at=referral.created_at,
        updated_at=referral.updated_at,
        welcome_url=link,
        visit_at=referral.visit_at,
        share_contact_with_community=referral.share_contact,
        shared_contact=shared_contact_out(shown.shared_contacts.get(referral.referral_id)),
        follow_up_due=followup.follow_up_due(state.status, state.welcomed_at, state.participation, shown.now),
        loneliness=shown.loneliness.get(referral.referral_id, []),
    )


def request_out(item: RequestView, shown: Shown) -> AccompanimentRequestOut:
    referral, community = item.referral, item.community
    mine = item.state is access.RequestState.mine
    return AccompanimentRequestOut(
        referral_id=referral.referral_id,
        community_id=referral.community_id,
        community_name=community.name if community else None,
        area=community.area if community else None,
        area_label=area_label(community.area if community else None),
        created_at=referral.created_at,
        special_considerations=referral.special_considerations,
        visit_at=referral.visit_at,
        status=domain.Status(referral.status),
        state=item.state.value,
        companion_id=referral.companion_id if mine else None,
        shared_contact=shared_contact_out(shown.shared_contacts.get(referral.referral_id)) if mine else None,
    )


def timeline_out(entry: TimelineEntry) -> TimelineOut:
    return TimelineOut(
        event_id=entry.event_id,
        type=entry.event_type,
        time=entry.time,
        time_local=local(entry.time).isoformat(timespec="seconds"),
        source=entry.source,
        status=entry.status,
        data=entry.data,
    )


def companion_out(companion: Companion) -> RankedCompanionOut:
    referrer = companion.referrer
    return RankedCompanionOut(
        actor_id=referrer.actor_id,
        name=referrer.name,
        area=referrer.area,
        area_label=area_label(referrer.area),
        languages=list(referrer.languages or []),
        score=companion.ranked.score,
        reasons=list(companion.ranked.reasons),
    )


def community_out(community: Community) -> CommunityOut:
    return CommunityOut(
        community_id=community.community_id,
        name=community.name,
        area=community.area,
        area_label=area_label(community.area),
        kind=community.kind,
        categories=list(community.categories or []),
        accepts_special_needs=community.accepts_special_needs,
        capacity_status=community.capacity_status,
        archived=community.archived,
    )

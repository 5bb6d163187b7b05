"""Rows of the referrals service as the API shows them (codes with their Danish labels)."""

from __future__ import annotations

from services.referrals import domain
from services.referrals.schemas import (
    AuditOut,
    CitizenOut,
    CommunityOut,
    ConsentOut,
    RankedCompanionOut,
    ReferralOut,
    ReferrerOut,
    TimelineOut,
    WorkContactOut,
)
from services.referrals.service.referrals import Companion, Shown
from services.referrals.settings import ReferralsSettings
from services.referrals.tables import Citizen, Community, ContactAudit, Referral, Referrer, TimelineEntry
from shared.clock import local
from shared.principal import Principal
from shared.profile import profile
from shared.welcome import welcome_url


def area_label(code: str | None) -> str | None:
    return profile().area.label(code) if code else None


def referrer_out(referrer: Referrer) -> ReferrerOut:
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
    )


def citizen_out(citizen: Citizen) -> CitizenOut:
    consent = None
    if citizen.consent_purpose:
        consent = ConsentOut(
            purpose=citizen.consent_purpose,
            date=citizen.consent_date.date().isoformat() if citizen.consent_date else None,
            recorded_by=citizen.consent_recorded_by,
        )
    groups = list(citizen.target_groups or [])
    return CitizenOut(
        citizen_ref=citizen.citizen_ref,
        age_band=citizen.age_band,
        area=citizen.area,
        area_label=area_label(citizen.area),
        target_groups=groups,
        target_group_labels=[profile().target_group.label(group) for group in groups],
        languages=list(citizen.languages or []),
        consent=consent,
        has_contact=citizen.wrapped_key is not None and citizen.contact_ciphertext is not None,
        registered_at=citizen.registered_at,
        erased=citizen.erased_at is not None,
    )


def audit_out(row: ContactAudit) -> AuditOut:
    return AuditOut(actor_id=row.actor_id, role=row.role, what=row.what, purpose=row.purpose, at=row.at)


def referrals_out(shown: Shown, principal: Principal, settings: ReferralsSettings) -> list[ReferralOut]:
    return [referral_out(r, principal, settings, shown.community_names) for r in shown.referrals]


def referral_out(
    referral: Referral, principal: Principal, settings: ReferralsSettings, community_names: dict[str, str]
) -> ReferralOut:
    state = referral.state()
    link = None
    # The welcome link lets anyone holding it confirm the welcome: only guides hand it out.
    if principal.role in domain.SEE_ALL and state.status in domain.OPEN:
        link = welcome_url(
            settings.referrals_public_url, settings.welcome_link_secret, referral.referral_id, referral.created_at
        )
    return ReferralOut(
        referral_id=referral.referral_id,
        citizen_ref=referral.citizen_ref,
        community_id=referral.community_id,
        community_name=community_names.get(referral.community_id),
        referrer_id=referral.referrer_id,
        needs_accompaniment=referral.needs_accompaniment,
        special_considerations=referral.special_considerations,
        channel=referral.channel,
        note=referral.note,
        status=state.status,
        allowed_actions=[a.value for a in domain.allowed_actions_for(state)],
        version=referral.version,
        companion_id=referral.companion_id,
        rejection_reason=referral.rejection_reason,
        participation={str(weeks): still for weeks, still in state.participation.items()},
        created_at=referral.created_at,
        updated_at=referral.updated_at,
        welcome_url=link,
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

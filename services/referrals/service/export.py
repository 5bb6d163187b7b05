"""A citizen's access request (GDPR art. 15): everything the referrals service holds about
them, opened with their key, and the same as a plain Danish text the citizen can read.

The export is itself a read (what `export`, purpose `access_request` unless refined), written
to the audit log in the unit of work that gathers it, so the export lists itself among the
reads. An erased citizen has nothing left to export: 410.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from services.referrals import audit, store
from services.referrals.audit import AuditEntry, Read, Reader
from services.referrals.crypto import CitizenKey, CitizenVault, opened, opened_note
from services.referrals.service.batch import get_citizen
from services.referrals.service.citizens import CitizenRecord, Citizens
from services.referrals.tables import Bridge, Loneliness, Referral, TimelineEntry
from shared.danish import da_date, da_datetime
from shared.profile import profile
from shared.purposes import label_da
from shared.runtime import Runtime
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class HeldReferral:
    referral: Referral
    community_name: str | None
    note: str | None
    loneliness: list[Loneliness] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)


@dataclass(frozen=True)
class Held:
    """Everything held about one citizen, as of `at`."""

    record: CitizenRecord
    contact: dict[str, str | None] | None
    referrals: list[HeldReferral]
    bridges: list[tuple[Bridge, str | None]]  # with the practice track's name
    audit: list[AuditEntry]
    at: datetime


class Exports:
    def __init__(self, runtime: Runtime, vault: CitizenVault, citizens: Citizens) -> None:
        self.runtime, self.vault, self.citizens = runtime, vault, citizens

    def citizen(self, principal: Reader, citizen_ref: str) -> Held:
        def work(uow: UnitOfWork) -> Held:
            citizen = get_citizen(uow.session, citizen_ref)  # 404 unknown, 410 erased
            audit.record(uow.session, principal, [Read(citizen_ref, "export")], uow.now())
            key = self.vault.key_of(citizen_ref)
            contact = opened(key, citizen.contact_ciphertext, CitizenKey.open_contact)
            return Held(
                record=self.citizens.opened(citizen),
                contact=contact,
                referrals=_referrals(uow.session, citizen_ref, key),
                bridges=_bridges(uow.session, citizen_ref),
                audit=audit.of_citizen(uow.session, citizen_ref),
                at=uow.now(),
            )

        return self.runtime.write(work)


def _referrals(session: Session, citizen_ref: str, key: CitizenKey | None) -> list[HeldReferral]:
    referrals = store.referrals_of(session, citizen_ref)
    ids = [r.referral_id for r in referrals]
    names = store.community_names(session, [r.community_id for r in referrals])
    timelines, scores = store.timelines_of(session, ids), store.loneliness_of(session, ids)
    return [
        HeldReferral(
            referral=r,
            community_name=names.get(r.community_id),
            note=opened_note(key, r.referral_id, r.note_ciphertext),
            loneliness=scores.get(r.referral_id, []),
            timeline=timelines.get(r.referral_id, []),
        )
        for r in referrals
    ]


def _bridges(session: Session, citizen_ref: str) -> list[tuple[Bridge, str | None]]:
    bridges = store.bridges_of(session, citizen_ref)
    names = store.community_names(session, [b.from_community_id for b in bridges])
    return [(b, names.get(b.from_community_id)) for b in bridges]


# ---------------------------------------------------------------------- the Danish summary

STATUS_DA = {
    "requested": "sendt til fællesskabet",
    "accepted": "accepteret af fællesskabet",
    "accompaniment_arranged": "følgeskab er aftalt",
    "accompanied": "du er fulgt derhen",
    "welcomed": "du er budt velkommen",
    "participating": "du deltager",
    "ended": "afsluttet",
    "rejected": "afvist af fællesskabet",
    "no_show": "afsluttet, du kom ikke",
    "cancelled": "annulleret",
}
EVENT_DA = {
    "ReferralCreated": "Henvisningen blev oprettet",
    "ReferralAccepted": "Fællesskabet accepterede henvisningen",
    "AccompanimentArranged": "Følgeskab blev aftalt",
    "CitizenAccompanied": "Du blev fulgt derhen",
    "WelcomeConfirmed": "Fællesskabet bekræftede, at du blev budt velkommen",
    "ParticipationConfirmed": "Din deltagelse blev fulgt op",
    "FirstVisitProposed": "Fællesskabet foreslog et første besøg",
    "NoShowReported": "Fællesskabet meldte, at du ikke kom",
    "ReferralRejected": "Fællesskabet afviste henvisningen",
    "ReferralCancelled": "Henvisningen blev annulleret",
    "LonelinessMeasured": "Du svarede på spørgsmålene om ensomhed",
}
ROLE_DA = {
    "guide": "fællesskabsguide",
    "professional": "fagperson",
    "ambassador": "ambassadør",
    "community_contact": "kontaktperson i et fællesskab",
    "analyst": "analytiker",
    "admin": "administrator",
    "dpo": "databeskyttelsesrådgiver",
    "municipal_system": "kommunalt system",
}
WHAT_DA = {
    "record": "din registrering",
    "contact": "dine kontaktoplysninger",
    "note": "noten om dig",
    "shared_contact": "dit fornavn og telefonnummer",
    "referral": "en henvisning",
    "timeline": "forløbet af en henvisning",
    "list": "dig på en liste",
    "export": "alle oplysninger (en udskrift som denne)",
}
MOMENT_DA = {"referral": "ved henvisningen", "week_12": "efter 12 uger"}
CHANNEL_DA = {
    "in_person": "ved et møde",
    "postcard": "via postkort",
    "website": "via hjemmesiden",
    "phone": "over telefonen",
    "system": "fra et kommunalt system",
}


def summary_da(held: Held) -> str:
    """The export as a Danish text for the citizen: who we hold, what, and who read it."""
    citizen = held.record.citizen
    lines = [
        f"Oplysninger om dig i {profile().programme}",
        f"Udskrevet {da_datetime(held.at)}. Din reference: {citizen.citizen_ref}.",
        "",
        "Om dig",
        f"- Registreret {da_date(citizen.registered_at)} af {citizen.registered_by or 'et kommunalt system'}.",
        *_attributes(held.record),
        *_contact(held.contact),
        "",
        *_referral_lines(held.referrals),
        *_bridge_lines(held.bridges),
        *_audit_lines(held.audit),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _attributes(record: CitizenRecord) -> list[str]:
    found, lines = record.attributes, []
    if found is None:
        return ["- Der er ikke registreret samtykke, så vi gemmer ikke alder, område eller målgrupper."]
    purpose = f" til: {record.consent_purpose}" if record.consent_purpose else ""
    lines.append(f"- Du gav samtykke {da_date(found.consent_date)}{purpose}.")
    if found.age_band:
        lines.append(f"- Aldersgruppe: {found.age_band} år.")
    if found.area:
        lines.append(f"- Område: {profile().area.label(found.area)}.")
    if found.target_groups:
        groups = ", ".join(profile().target_group.label(g) for g in found.target_groups)
        lines.append(f"- Målgrupper: {groups}.")
    if found.languages:
        lines.append(f"- Sprog: {', '.join(found.languages)}.")
    return lines


def _contact(contact: dict[str, str | None] | None) -> list[str]:
    labels = (("name", "Navn"), ("phone", "Telefon"), ("email", "E-mail"))
    found = [f"{label}: {contact[key]}" for key, label in labels if contact and contact.get(key)]
    if not found:
        return ["- Vi har ingen kontaktoplysninger på dig."]
    return [f"- Kontaktoplysninger (krypteret med din egen nøgle): {'; '.join(found)}."]


def _referral_lines(referrals: list[HeldReferral]) -> list[str]:
    if not referrals:
        return ["Henvisninger", "Du er ikke henvist til noget fællesskab.", ""]
    lines = [f"Henvisninger ({len(referrals)})"]
    for number, held in enumerate(referrals, start=1):
        r = held.referral
        where = held.community_name or r.community_id
        lines.append(
            f"{number}. Til {where}, {da_date(r.created_at)}, {CHANNEL_DA.get(r.channel, r.channel)}, "
            f"af {r.referrer_id}. Status: {STATUS_DA.get(r.status, r.status)}."
        )
        if held.note:
            lines.append(f"   Note fra den, der henviste dig: {held.note}")
        if r.companion_id:
            lines.append(f"   Følgeven: {r.companion_id}.")
        for score in held.loneliness:
            moment = MOMENT_DA.get(score.moment, score.moment)
            lines.append(f"   Spørgsmål om ensomhed {moment}: {score.score} point ({da_date(score.time)}).")
        for weeks, still in sorted(r.participation.items(), key=lambda item: int(item[0])):
            answer = "deltog du stadig" if still else "deltog du ikke længere"
            lines.append(f"   Efter {weeks} uger {answer}.")
        if held.timeline:
            lines.append("   Forløb:")
            lines += [
                f"   - {da_datetime(t.time, short=True)}: {EVENT_DA.get(t.event_type, t.event_type)}"
                for t in held.timeline
            ]
    return [*lines, ""]


def _bridge_lines(bridges: list[tuple[Bridge, str | None]]) -> list[str]:
    if not bridges:
        return []
    lines = [f"Videre fra en øvebane ({len(bridges)})"]
    lines += [
        f"- {da_date(b.time)}: fra {name or b.from_community_id} videre til henvisningen {b.to_referral_id}."
        for b, name in bridges
    ]
    return [*lines, ""]


def _audit_lines(entries: list[AuditEntry]) -> list[str]:
    lines = [f"Hvem har set oplysningerne om dig ({len(entries)} opslag)"]
    for e in entries:
        role = ROLE_DA.get(e.role, e.role)
        purpose = label_da(e.purpose)
        what = WHAT_DA.get(e.what, e.what)
        lines.append(f"- {da_datetime(e.at, short=True)}: {e.actor_id} ({role}) så {what}. Formål: {purpose}.")
    return lines

"""The referral wizard's use cases: a draft per referral in the making (server-side, under the
session), each step's answers checked and saved, and sending it: the citizen is registered
and the referral created only then (with the loneliness answers, when the citizen gave them),
so an abandoned or refused draft leaves nothing behind."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from services.web import drafts, wizard
from services.web.domain import WebUser
from services.web.drafts import Draft, DraftAnswers
from services.web.service import Pages
from services.web.service.answers import REFERRERS, Citizen, Community, CommunityPage, Referral
from services.web.service.backends import BackendError
from shared.clock import local
from shared.ids import new_id
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class Owner:
    """Whose draft: the session (its id's hash) and the person."""

    session_hash: str
    user: WebUser


@dataclass(frozen=True)
class Sent:
    referral: Referral
    loneliness_saved: bool | None  # None: the citizen was not asked, or did not answer


def start(pages: Pages, owner: Owner, community: Community | None, citizen: wizard.Answers | None = None) -> str:
    """A new draft; from a community's card it names the community, from "Henvis igen" a
    registered citizen (`citizen`: the citizen step's answers, checked by the caller)."""
    answers: wizard.Answers = {}
    if community is not None:
        answers = {"community_id": community.id, "community_name": community.name}
    if citizen:
        answers |= {**citizen, "done_borger": True}
    draft_id = new_id()

    def work(uow: UnitOfWork) -> None:
        drafts.remove_stale(uow.session, uow.now())
        plain, sealed = pages.drafts.seal(answers)
        uow.session.add(
            Draft(
                draft_id=draft_id,
                session_hash=owner.session_hash,
                actor_id=owner.user.actor_id,
                answers=plain,
                contact_ciphertext=sealed,
                updated_at=uow.now(),
            )
        )

    pages.runtime.write(work)
    return draft_id


def load(pages: Pages, owner: Owner, draft_id: str) -> DraftAnswers | None:
    def work(session: Session) -> DraftAnswers | None:
        row = drafts.find(session, draft_id, owner.session_hash, owner.user.actor_id)
        return pages.drafts.open(row) if row is not None else None

    return pages.runtime.read(work)


def save(pages: Pages, owner: Owner, draft: DraftAnswers, updates: wizard.Answers) -> None:
    draft.answers.update(updates)

    def work(uow: UnitOfWork) -> None:
        row = drafts.find(uow.session, draft.draft_id, owner.session_hash, owner.user.actor_id)
        if row is not None:
            row.answers, row.contact_ciphertext = pages.drafts.seal(draft.answers)
            row.updated_at = uow.now()

    pages.runtime.write(work)


def discard(pages: Pages, draft_id: str) -> None:
    pages.runtime.write(lambda uow: drafts.remove(uow.session, draft_id))


def named_companions(pages: Pages, user: WebUser) -> dict[str, str]:
    """Referrers who offer accompaniment (actor id → name), for naming a companion."""
    try:
        found = pages.referrals.get_list(user, "/v1/referrers", REFERRERS, params={"offers_accompaniment": True})
    except BackendError:
        return {}
    return {referrer.actor_id: referrer.display_name for referrer in found if referrer.actor_id != user.actor_id}


def check_step(
    pages: Pages, user: WebUser, slug: str, form: Mapping[str, str], draft: Mapping[str, object] | None = None
) -> tuple[wizard.Answers, list[wizard.FieldError]]:
    """A step's answers and errors (`draft`: the answers so far); the steps that name
    something elsewhere ask its service."""
    if slug == "borger":
        answers, errors = wizard.check_citizen(form)
        if not errors and answers["citizen_mode"] == "existing":
            try:
                citizen = pages.referrals.get(user, f"/v1/citizens/{answers['citizen_ref']}", Citizen)
            except BackendError as error:
                if error.status >= 500:
                    raise
                errors = [("citizen_ref", "Vi kender ikke en borger med den reference, som du har adgang til")]
            else:
                # Sharing the note may be asked only with the citizen's consent on record.
                answers["consent_on_record"] = citizen.consent is not None
        return answers, errors
    if slug == "samtykke":
        return wizard.check_consent(form, local(pages.runtime.clock.now()).date())
    if slug == "kontakt":
        return wizard.check_contact(form)
    if slug == "behov":
        so_far = draft or {}
        existing = so_far.get("citizen_mode") == "existing"
        return wizard.check_needs(form, existing=existing, offers_sharing=wizard.offers_note_sharing(so_far))
    if slug == "foelgeskab":
        return wizard.check_accompaniment(form, named_companions(pages, user))
    if slug == "ensomhed":
        return wizard.check_loneliness(form)
    if slug == "faellesskab":
        card = find_community(pages, user, (form.get("community_id") or "").strip())
        answers, errors = wizard.check_community(form, found=card is not None, full=bool(card and card.capacity.full))
        if card is not None:
            answers["community_name"] = card.name
        return answers, errors
    return {}, []


def find_community(pages: Pages, user: WebUser, community_id: str) -> Community | None:
    if not community_id:
        return None
    try:
        return pages.catalogue.get(user, f"/v1/communities/{community_id}", Community)
    except BackendError as error:
        if error.not_found or error.status == 422:
            return None
        raise


def send(pages: Pages, owner: Owner, draft: DraftAnswers) -> Sent:
    """Register the citizen (a new one, with consent and contact data), create the referral,
    arrange a named companion, record the loneliness answers, and forget the draft."""
    user, answers = owner.user, draft.answers
    citizen_ref = str(answers.get("citizen_ref") or "")
    if answers.get("citizen_mode") == "new" and not citizen_ref:
        contact = {name: answers.get(f"contact_{name}") or None for name in ("name", "phone", "email")}
        body = {
            "contact": contact,
            "consent": {"purpose": answers.get("consent_purpose"), "date": answers.get("consent_date")},
            "area": answers.get("area") or None,
        }
        citizen = pages.referrals.post(user, "/v1/citizens", Citizen, json=body)
        citizen_ref = citizen.citizen_ref
        # Kept so that a retry after a failed referral does not register the citizen twice.
        save(pages, owner, draft, {"citizen_ref": citizen_ref})
    referral = pages.referrals.post(
        user,
        "/v1/referrals",
        Referral,
        json={
            "citizen_ref": citizen_ref,
            "community_id": answers.get("community_id"),
            "needs_accompaniment": answers.get("accompaniment") in ("needed", "named"),
            "special_considerations": bool(answers.get("special_considerations")),
            "override_full": bool(answers.get("override_full")),
            "note": wizard.referral_note(answers) or None,
            "share_contact_with_community": bool(answers.get("share_contact")),
            "share_note_with_community": wizard.shares_note(answers),
        },
    )
    if answers.get("accompaniment") == "named" and answers.get("companion_id"):
        # The referral stands if this fails: the companion can be arranged from its page.
        with contextlib.suppress(BackendError):
            referral = pages.referrals.post(
                user,
                f"/v1/referrals/{referral.referral_id}/arrange_accompaniment",
                Referral,
                json={"companion_id": answers["companion_id"]},
            )
    loneliness = wizard.loneliness_answers(answers)
    saved = None if loneliness is None else _measure_loneliness(pages, user, referral.referral_id, loneliness)
    discard(pages, draft.draft_id)
    return Sent(referral, saved)


def _measure_loneliness(pages: Pages, user: WebUser, referral_id: str, loneliness: list[int]) -> bool:
    """The answers at referral; the referral stands if they are refused (the receipt says so)."""
    body = {"moment": "referral", "answers": loneliness, "consent": True}
    try:
        pages.referrals.call(user, "POST", f"/v1/referrals/{referral_id}/loneliness", json=body)
    except BackendError:
        return False
    return True


def community_choices(pages: Pages, user: WebUser, draft: DraftAnswers, query: str) -> list[Community]:
    """The communities the community step offers: the chosen one, and a search's first hits."""
    chosen = find_community(pages, user, str(draft.answers.get("community_id") or ""))
    found = [chosen] if chosen is not None else []
    if query:
        hits = pages.catalogue.get(user, "/v1/communities", CommunityPage, params={"q": query, "per_page": 10})
        found += [hit for hit in hits.items if chosen is None or hit.id != chosen.id]
    return found

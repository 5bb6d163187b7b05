"""The referral wizard's pure rules: its steps (one question a page), which of them a draft
goes through, and each step's validation of a posted form into draft fields or Danish errors.

A draft is a plain dict of answers (JSON in the drafts table); the contact fields are
encrypted there by `drafts.py`. No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from services.web import parsing
from shared.privacy import contains_cpr
from shared.profile import profile

Answers = dict[str, object]
FieldError = tuple[str, str]  # (field id, Danish message)


@dataclass(frozen=True)
class Step:
    slug: str
    title: str  # the step indicator's short name
    question: str  # the page's heading


STEPS = (
    Step("borger", "Borger", "Hvem henviser du?"),
    Step("samtykke", "Samtykke", "Har borgeren givet samtykke?"),
    Step("kontakt", "Kontakt", "Hvordan kan fællesskabet kontakte borgeren?"),
    Step("behov", "Behov", "Hvad betyder noget for borgeren?"),
    Step("foelgeskab", "Følgeskab", "Har borgeren brug for følgeskab?"),
    Step("faellesskab", "Fællesskab", "Hvilket fællesskab henviser du til?"),
    Step("ensomhed", "Ensomhed", "Vil borgeren svare på tre spørgsmål om ensomhed?"),
    Step("tjek", "Tjek", "Tjek dine svar"),
)
BY_SLUG = {step.slug: step for step in STEPS}
CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email")
# The three-item UCLA loneliness scale as the national survey "Hvordan har du det?" asks it.
UCLA_QUESTIONS = (
    "Hvor ofte føler du, at du savner nogen at være sammen med?",
    "Hvor ofte føler du dig holdt udenfor?",
    "Hvor ofte føler du dig isoleret fra andre?",
)
UCLA_ANSWERS = (("1", "Sjældent eller aldrig"), ("2", "En gang imellem"), ("3", "Ofte"))
UCLA_FIELDS = ("ucla_1", "ucla_2", "ucla_3")
# Encrypted in the draft: how to reach the citizen, how lonely they say they are, and the free
# text written about them (the note, and why a full community takes them anyway).
SEALED_FIELDS = (*CONTACT_FIELDS, *UCLA_FIELDS, "note", "override_reason")
# The form fields each step asks (a backing service's refusal of one is sent back to its step).
STEP_FIELDS = {
    "borger": ("citizen_mode", "citizen_ref"),
    "samtykke": ("consent", "consent_purpose", "consent_date"),
    "kontakt": (*CONTACT_FIELDS, "share_contact"),
    "behov": ("note", "share_note", "special_considerations", "area"),
    "foelgeskab": ("accompaniment", "companion_id"),
    "faellesskab": ("community_id", "override_full", "override_reason"),
    "ensomhed": ("loneliness_consent", *UCLA_FIELDS),
}
# Only a new citizen is asked for consent and contact data: a registered one has them.
NEW_CITIZEN_ONLY = ("samtykke", "kontakt")

CITIZEN_REF = re.compile(r"^c-[0-9a-f-]{8,64}$")
PHONE = re.compile(r"^\+?[0-9 ()-]{6,20}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def steps_for(answers: Mapping[str, object]) -> list[Step]:
    skipped = set(NEW_CITIZEN_ONLY) if answers.get("citizen_mode") == "existing" else set()
    if not profile().loneliness_scale:
        skipped.add("ensomhed")
    return [step for step in STEPS if step.slug not in skipped]


def asks(answers: Mapping[str, object], slug: str) -> bool:
    """Whether this draft goes through the step (a registered citizen skips consent and contact;
    the loneliness questions only where the municipality's profile has them)."""
    return any(step.slug == slug for step in steps_for(answers))


def next_slug(answers: Mapping[str, object], slug: str) -> str:
    slugs = [step.slug for step in steps_for(answers)]
    return slugs[min(slugs.index(slug) + 1, len(slugs) - 1)] if slug in slugs else slugs[0]


def previous_slug(answers: Mapping[str, object], slug: str) -> str | None:
    slugs = [step.slug for step in steps_for(answers)]
    return slugs[slugs.index(slug) - 1] if slug in slugs and slugs.index(slug) > 0 else None


def first_unanswered(answers: Mapping[str, object]) -> str | None:
    """The first step the draft has not answered yet (None: ready to check and send)."""
    for step in steps_for(answers):
        if step.slug != "tjek" and not answers.get(f"done_{step.slug}"):
            return step.slug
    return None


def _text(form: Mapping[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def _free_text(errors: list[FieldError], field: str, value: str, *, label: str, low: int, high: int) -> None:
    if len(value) < low:
        errors.append((field, f"Skriv {label}" if low <= 1 else f"Skriv {label} (mindst {low} tegn)"))
    elif len(value) > high:
        errors.append((field, f"{label.capitalize()} må højst være {high} tegn"))
    elif contains_cpr(value):
        errors.append((field, "Skriv ikke CPR-nummer her"))


def check_citizen(form: Mapping[str, str]) -> tuple[Answers, list[FieldError]]:
    mode, ref = _text(form, "citizen_mode"), _text(form, "citizen_ref").lower()
    if mode not in ("new", "existing"):
        return {}, [("citizen_mode", "Vælg om borgeren er ny eller allerede registreret")]
    if mode == "existing" and not CITIZEN_REF.match(ref):
        return {"citizen_mode": mode}, [("citizen_ref", "Skriv borgerens reference, fx c-1a2b3c4d-…")]
    return {"citizen_mode": mode, "citizen_ref": ref if mode == "existing" else ""}, []


def check_consent(form: Mapping[str, str], today: date) -> tuple[Answers, list[FieldError]]:
    consent, purpose = _text(form, "consent"), _text(form, "consent_purpose") or profile().consent_purpose
    given = _text(form, "consent_date")
    answers: Answers = {"consent": consent, "consent_purpose": purpose, "consent_date": given}
    errors: list[FieldError] = []
    if consent not in ("ja", "nej"):
        errors.append(("consent", "Vælg om borgeren har givet samtykke"))
    if consent == "nej":
        return answers, errors
    _free_text(errors, "consent_purpose", purpose, label="formålet med samtykket", low=3, high=500)
    day = parsing.day(given) if given else today
    if day is None:
        errors.append(("consent_date", "Skriv datoen som dag.måned.år, fx 2.12.2026"))
    elif day > today:
        errors.append(("consent_date", "Samtykket kan ikke være givet i fremtiden"))
    else:
        answers["consent_date"] = day.isoformat()
    return answers, errors


def check_contact(form: Mapping[str, str]) -> tuple[Answers, list[FieldError]]:
    name, phone, email = (_text(form, field) for field in CONTACT_FIELDS)
    answers: Answers = {
        "contact_name": name,
        "contact_phone": phone,
        "contact_email": email,
        "share_contact": form.get("share_contact") == "ja",
    }
    errors: list[FieldError] = []
    _free_text(errors, "contact_name", name, label="borgerens navn", low=1, high=200)
    if not phone and not email:
        errors.append(("contact_phone", "Skriv et telefonnummer eller en e-mailadresse"))
    if phone and not PHONE.match(phone):
        errors.append(("contact_phone", "Skriv telefonnummeret med cifre, fx 12 34 56 78"))
    if email and (not EMAIL.match(email) or len(email) > 200):
        errors.append(("contact_email", "Skriv e-mailadressen som navn@eksempel.dk"))
    return answers, errors


def offers_note_sharing(answers: Mapping[str, object]) -> bool:
    """Whether the wizard may ask to share the note with the community and the companion: only
    with the citizen's consent on record (a new citizen's "ja" in this draft, or a registered
    citizen's recorded consent); the referrals service refuses the choice otherwise."""
    if answers.get("citizen_mode") == "existing":
        return bool(answers.get("consent_on_record"))
    return answers.get("consent") == "ja"


def shares_note(answers: Mapping[str, object]) -> bool:
    """The choice as sent with the referral: "ja", and only where it may be asked."""
    return bool(answers.get("share_note")) and offers_note_sharing(answers)


def check_needs(
    form: Mapping[str, str], *, existing: bool = False, offers_sharing: bool = False
) -> tuple[Answers, list[FieldError]]:
    """`existing`: a registered citizen, who is asked here whether to share contact data (a
    new citizen is asked on the contact step). `offers_sharing`: the note-sharing choice is on
    the page (`offers_note_sharing`); without it the note is never shared."""
    note, area = _text(form, "note"), _text(form, "area")
    answers: Answers = {
        "note": note,
        "share_note": offers_sharing and form.get("share_note") == "ja",
        "special_considerations": form.get("special_considerations") == "ja",
        "area": area,
    }
    if existing:
        answers["share_contact"] = form.get("share_contact") == "ja"
    errors: list[FieldError] = []
    _free_text(errors, "note", note, label="hvad der betyder noget for borgeren", low=3, high=1500)
    if area and area not in profile().area.codes:
        errors.append(("area", "Vælg et område fra listen"))
    return answers, errors


def check_accompaniment(form: Mapping[str, str], companions: Mapping[str, str]) -> tuple[Answers, list[FieldError]]:
    """`companions`: the named companions one may choose (actor id → name)."""
    choice, companion = _text(form, "accompaniment"), _text(form, "companion_id")
    if choice not in ("none", "needed", "named"):
        return {}, [("accompaniment", "Vælg om borgeren har brug for følgeskab")]
    if choice == "named" and companion not in companions:
        return {"accompaniment": choice}, [("companion_id", "Vælg hvem der skal følge borgeren")]
    named = choice == "named"
    return {
        "accompaniment": choice,
        "companion_id": companion if named else "",
        "companion_name": companions.get(companion, "") if named else "",
    }, []


def check_community(form: Mapping[str, str], *, found: bool, full: bool) -> tuple[Answers, list[FieldError]]:
    """`found`/`full`: what the catalogue says of the chosen community right now."""
    community, reason = _text(form, "community_id"), _text(form, "override_reason")
    override = form.get("override_full") == "ja"
    answers: Answers = {"community_id": community, "override_full": override and full, "override_reason": reason}
    if not community or not found:
        return answers, [("community_id", "Vælg et fællesskab")]
    if not full:
        answers["override_reason"] = ""
        return answers, []
    errors: list[FieldError] = []
    if not override:
        errors.append(("override_full", "Fællesskabet er fuldt. Vælg et andet, eller bekræft at I har aftalt det"))
    _free_text(
        errors, "override_reason", reason, label="hvorfor fællesskabet tager borgeren alligevel", low=3, high=400
    )
    return answers, errors


def check_loneliness(form: Mapping[str, str]) -> tuple[Answers, list[FieldError]]:
    """The optional loneliness questions: kept only with the citizen's "ja"; skipping (the
    button, or no choice and no answers) never blocks the referral."""
    skipped: Answers = {"loneliness_consent": "nej", **dict.fromkeys(UCLA_FIELDS, "")}
    if form.get("spring_over"):
        return skipped, []
    consent = _text(form, "loneliness_consent")
    given = {name: _text(form, name) for name in UCLA_FIELDS}
    answered = {name: value for name, value in given.items() if value in dict(UCLA_ANSWERS)}
    if consent != "ja":
        if not answered:
            return skipped, []
        message = (
            "Borgeren skal sige ja til at svare, før svarene gemmes. Vælg “Borgeren vil gerne svare”, eller spring over"
        )
        return {"loneliness_consent": consent, **answered}, [("loneliness_consent", message)]
    errors = [
        (name, f"Vælg et svar på spørgsmål {number}")
        for number, name in enumerate(UCLA_FIELDS, start=1)
        if name not in answered
    ]
    return {"loneliness_consent": "ja", **dict.fromkeys(UCLA_FIELDS, ""), **answered}, errors


def loneliness_answers(answers: Mapping[str, object]) -> list[int] | None:
    """The three answers to send with the referral, when the citizen agreed and answered all."""
    if answers.get("loneliness_consent") != "ja" or not profile().loneliness_scale:
        return None
    values = [str(answers.get(name) or "") for name in UCLA_FIELDS]
    return [int(value) for value in values] if all(value in dict(UCLA_ANSWERS) for value in values) else None


def referral_note(answers: Mapping[str, object]) -> str:
    """The note the referral carries: what matters, and why a full community takes them."""
    note = str(answers.get("note") or "")
    if answers.get("override_full"):
        note += f"\n\nFællesskabet er fuldt, men tager borgeren: {answers.get('override_reason')}"
    return note.strip()

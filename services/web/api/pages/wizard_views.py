"""How the wizard's pages show a draft: the step indicator, the error summary's fields, and
the "Tjek dine svar" rows (each with its "Ret" link)."""

from __future__ import annotations

from dataclasses import dataclass

from services.web import parsing, wizard
from services.web.drafts import DraftAnswers
from shared.profile import profile

SHARE_LABEL = "Fællesskab og følgeperson må se fornavn og telefon"
SHARE_NOTE_LABEL = "Fællesskab og følgeven må se noten"
ACCOMPANIMENT_WORDS = {
    "none": "Nej, borgeren kommer selv",
    "needed": "Ja, borgeren har brug for følgeskab",
    "named": "Ja, med en bestemt følgeperson",
}


@dataclass(frozen=True)
class IndicatorStep:
    number: int
    title: str
    href: str | None  # answered steps link back; the rest are not reachable yet
    current: bool
    done: bool


@dataclass(frozen=True)
class Row:
    slug: str
    label: str
    value: str
    first: bool = True  # the first row of its step carries the "Ret" link's id


def step_context(draft: DraftAnswers, step: wizard.Step, errors: list[tuple[str, str]]) -> dict[str, object]:
    answers = draft.answers
    steps = wizard.steps_for(answers)
    slugs = [s.slug for s in steps]
    number = slugs.index(step.slug) + 1 if step.slug in slugs else 1
    indicator = [
        IndicatorStep(
            index,
            s.title,
            f"/henvis/{draft.draft_id}/{s.slug}" if answers.get(f"done_{s.slug}") and s.slug != step.slug else None,
            s.slug == step.slug,
            bool(answers.get(f"done_{s.slug}")),
        )
        for index, s in enumerate(steps, start=1)
    ]
    previous = wizard.previous_slug(answers, step.slug)
    return {
        "draft_id": draft.draft_id,
        "answers": answers,
        "step": step,
        "indicator": indicator,
        "number": number,
        "total": len(steps),
        "back": f"/henvis/{draft.draft_id}/{previous}" if previous else None,
        "errors": errors,
        "error_of": dict(reversed(errors)),
        "areas": [(area.code, area.label) for area in profile().area],
        "default_purpose": profile().consent_purpose,
    }


def loneliness_words(answers: dict[str, object]) -> str:
    given = wizard.loneliness_answers(answers)
    if given is None:
        return "Ikke besvaret"
    words = dict(wizard.UCLA_ANSWERS)
    return "Besvaret med borgerens samtykke: " + ", ".join(words[str(value)].lower() for value in given)


def note_sharing_words(answers: dict[str, object]) -> str:
    if not wizard.offers_note_sharing(answers):
        return "Nej (kræver borgerens samtykke)"
    return "Ja, med borgerens samtykke" if wizard.shares_note(answers) else "Nej"


def _day(value: object) -> str:
    day = parsing.day(str(value or ""))
    return f"{day.day}.{day.month}.{day.year}" if day else ""


def _yes_no(value: object) -> str:
    return "Ja" if value else "Nej"


def check_rows(draft: DraftAnswers) -> list[Row]:
    answers = draft.answers
    rows = []
    if answers.get("citizen_mode") == "existing":
        rows.append(Row("borger", "Borger", f"Allerede registreret ({answers.get('citizen_ref')})"))
    else:
        rows.append(Row("borger", "Borger", "Ny borger"))
        rows.append(
            Row(
                "samtykke",
                "Samtykke",
                f"Ja, givet {_day(answers.get('consent_date'))} til: {answers.get('consent_purpose')}",
            )
        )
        contact = [str(answers.get(name) or "") for name in wizard.CONTACT_FIELDS]
        rows.append(Row("kontakt", "Kontaktoplysninger", ", ".join(part for part in contact if part)))
        rows.append(Row("kontakt", SHARE_LABEL, _yes_no(answers.get("share_contact"))))
    rows.append(Row("behov", "Det betyder noget for borgeren", str(answers.get("note") or "")))
    rows.append(Row("behov", SHARE_NOTE_LABEL, note_sharing_words(answers)))
    rows.append(Row("behov", "Særlige hensyn", _yes_no(answers.get("special_considerations"))))
    area = str(answers.get("area") or "")
    rows.append(Row("behov", "Borgerens område", profile().area.label(area) if area else "Ikke oplyst"))
    if answers.get("citizen_mode") == "existing":
        rows.append(Row("behov", SHARE_LABEL, _yes_no(answers.get("share_contact"))))
    accompaniment = ACCOMPANIMENT_WORDS.get(str(answers.get("accompaniment")), "")
    if answers.get("accompaniment") == "named":
        accompaniment += f": {answers.get('companion_name')}"
    rows.append(Row("foelgeskab", "Følgeskab", accompaniment))
    community = str(answers.get("community_name") or answers.get("community_id") or "")
    if answers.get("override_full"):
        community += f" (fuldt – aftalt: {answers.get('override_reason')})"
    rows.append(Row("faellesskab", "Fællesskab", community))
    if wizard.asks(answers, "ensomhed"):
        rows.append(Row("ensomhed", "Spørgsmål om ensomhed", loneliness_words(answers)))
    slugs = [row.slug for row in rows]
    return [Row(row.slug, row.label, row.value, slugs.index(row.slug) == index) for index, row in enumerate(rows)]

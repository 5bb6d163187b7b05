"""The pure side of erasure: an erased referral is ended for every rule, keeps none of its
facts, and leaves the weekly digest (and the digests already written) without a trace."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import cast

from services.notifications import followup, rules
from services.notifications.domain import Community, Recipient, Referral, Rule, Thresholds
from services.notifications.messages import stored

TH = Thresholds()
NOW = datetime(2024, 3, 12, 10, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Copenhagen
COMMUNITY = Community("c1", "Strikkeklubben", area="ringsted_syd", contact_email="kontakt@strik.dk")
GUIDE = Recipient("guide-1", "guide", name="Anne")
MONDAY = datetime(2024, 3, 18, 7, 0, tzinfo=UTC)


def ids(lines: object) -> list[str]:
    """The referral ids of a digest's lines (its `open` or `happened` facts)."""
    return [line["referral_id"] for line in cast(list[dict[str, str]], lines)]


def lived(referral_id: str = "r1", **kw: object) -> Referral:
    """A referral with a full history: accompanied, welcomed, its citizen known."""
    values: dict[str, object] = {
        "needs_accompaniment": True,
        "special_considerations": True,
        "accompaniment_arranged_at": NOW + timedelta(hours=1),
        "companion_id": "amb-1",
        "welcomed_at": NOW + timedelta(days=2),
        "citizen_ref": "cit-1",
    }
    return Referral(referral_id, "prof-1", "c1", NOW, **(values | kw))  # type: ignore[arg-type]


def test_a_forgotten_referral_keeps_whose_it_was_and_none_of_its_facts() -> None:
    erased_at = NOW + timedelta(days=3)
    tombstone = lived().forgotten(erased_at)
    assert tombstone == Referral("r1", "prof-1", "c1", NOW, citizen_ref="cit-1", erased_at=erased_at)
    assert tombstone.erased and tombstone.ended and not tombstone.is_open
    assert tombstone.forgotten(erased_at + timedelta(days=1)).erased_at == erased_at  # the first erasure counts


def test_no_rule_says_anything_about_an_erased_referral() -> None:
    gone = lived(welcomed_at=None).forgotten(NOW)
    welcomed_gone = lived().forgotten(NOW)
    later = NOW + timedelta(days=100)
    for fired in (
        rules.fire_welcome_contact(gone, COMMUNITY, NOW, TH),
        rules.fire_accompaniment_needed(gone, COMMUNITY, [GUIDE], later),
        rules.fire_welcome_followup(gone, COMMUNITY, later),
        rules.fire_welcome_escalation(gone, COMMUNITY, [GUIDE], later),
        followup.fire_participation_question(
            Rule.participation_followup, welcomed_gone, COMMUNITY, None, 4, "referrer", later, TH
        ),
        followup.fire_participation_question(
            Rule.participation_reminder, welcomed_gone, COMMUNITY, None, 12, "contact", later, TH
        ),
        followup.fire_participation_unanswered(welcomed_gone, COMMUNITY, [GUIDE], 4, "referrer"),
    ):
        assert fired.notify == [] and fired.then == [] and fired.again_at is None
    visit = NOW + timedelta(days=2)
    assert followup.on_visit_proposed(gone, COMMUNITY, visit, "community:c1", NOW, NOW, TH) == []


def test_the_weekly_digest_leaves_an_erased_referral_out_even_as_cancelled() -> None:
    referrer = Recipient("prof-1", "professional", name="Mette")
    kept = Referral("r-kept", "prof-1", "c1", MONDAY - timedelta(days=2))
    withdrawn = Referral("r-withdrawn", "prof-1", "c1", MONDAY - timedelta(days=3), cancelled_at=MONDAY - timedelta(1))
    erased = Referral("r-gone", "prof-1", "c1", MONDAY - timedelta(days=3), cancelled_at=MONDAY - timedelta(1))
    fired = rules.fire_weekly_digest(
        referrer, [kept, withdrawn, erased.forgotten(MONDAY)], {"c1": COMMUNITY}, MONDAY, TH
    )
    [digest] = fired.notify
    assert {*ids(digest.context["open"]), *ids(digest.context["happened"])} == {"r-kept", "r-withdrawn"}
    happened = cast(list[dict[str, str]], digest.context["happened"])
    assert ("r-withdrawn", "cancelled") in {(line["referral_id"], line["kind"]) for line in happened}

    only_erased = rules.fire_weekly_digest(referrer, [erased.forgotten(MONDAY)], {"c1": COMMUNITY}, MONDAY, TH)
    assert only_erased.notify == [] and only_erased.again_at is not None  # no empty digest


def test_a_written_digest_loses_its_lines_about_erased_referrals() -> None:
    referrer = Recipient("prof-1", "professional", name="Mette")
    a = Referral("r-a", "prof-1", "c1", MONDAY - timedelta(days=2))
    b = Referral("r-b", "prof-1", "c1", MONDAY - timedelta(days=1))
    [digest] = rules.fire_weekly_digest(referrer, [a, b], {"c1": COMMUNITY}, MONDAY, TH).notify
    facts = json.loads(stored(digest.context))  # as the nudge row keeps them

    redacted = rules.digest_without(facts, {"r-b"})
    assert redacted is not None
    assert ids(redacted["open"]) == ["r-a"] and ids(redacted["happened"]) == ["r-a"]
    assert redacted["name"] == "Mette"
    assert rules.digest_without(facts, {"r-a", "r-b"}) is None  # nothing left: the digest goes
    assert rules.digest_without(facts, {"r-other"}) == facts

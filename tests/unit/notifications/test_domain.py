"""The pure rules: facts and a `now` in, decisions out."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from services.notifications import domain, routing, rules
from services.notifications.domain import (
    Community,
    Notify,
    Recipient,
    Referral,
    Rule,
    Thresholds,
)
from services.notifications.routing import Preferences
from shared.clock import local

TH = Thresholds()
NOW = datetime(2024, 3, 12, 10, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Copenhagen
COMMUNITY = Community("c1", "Strikkeklubben", area="ringsted_syd", contact_email="kontakt@strik.dk")


def referral(created: datetime = NOW, **kw: object) -> Referral:
    return Referral("r1", "prof-1", "c1", created, **kw)  # type: ignore[arg-type]


def test_a_new_referral_schedules_contact_now_and_follow_ups_from_event_time() -> None:
    created = NOW - timedelta(hours=1)
    timers = {t.rule: t.due_at for t in rules.timers_for_referral(referral(created, needs_accompaniment=True), NOW, TH)}
    assert timers == {
        Rule.welcome_contact: created,
        Rule.accompaniment_needed: created + timedelta(hours=48),
        Rule.welcome_followup: created + timedelta(days=7),
        Rule.welcome_escalation: created + timedelta(days=14),
    }


def test_no_accompaniment_timer_when_none_is_needed() -> None:
    scheduled = {t.rule for t in rules.timers_for_referral(referral(), NOW, TH)}
    assert Rule.accompaniment_needed not in scheduled


def test_a_historic_referral_schedules_nothing_but_a_recent_back_dated_one_does() -> None:
    assert rules.timers_for_referral(referral(NOW - timedelta(days=31)), NOW, TH) == []
    recent = rules.timers_for_referral(referral(NOW - timedelta(days=20)), NOW, TH)
    assert all(t.due_at <= NOW for t in recent)  # every deadline passed: all fire at once


def test_welcome_contact_gets_the_community_as_link_holder_and_needs_but_no_citizen() -> None:
    r = referral(needs_accompaniment=True, special_considerations=True)
    fired = rules.fire_welcome_contact(r, COMMUNITY, NOW, TH)
    [n] = fired.notify
    assert n.recipient_id == "community:c1" and n.rule is Rule.welcome_contact
    assert n.context["holder"] == {"actor_id": "community:c1", "role": "community_contact", "communities": ["c1"]}
    assert n.context["issued_at"] == NOW and n.context["community_id"] == "c1"
    assert n.context["needs_accompaniment"] and n.context["special_considerations"]
    assert "citizen_ref" not in n.context and fired.again_at is None


def test_welcome_contact_waits_for_an_unknown_community_then_gives_up() -> None:
    waiting = rules.fire_welcome_contact(referral(), None, NOW, TH)
    assert waiting.notify == [] and waiting.again_at == NOW + TH.community_retry
    late = rules.fire_welcome_contact(referral(NOW - timedelta(days=2)), None, NOW, TH)
    assert late == domain.Fired()


def test_accompaniment_goes_to_companions_in_the_area_and_guides_only() -> None:
    directory = [
        Recipient("amb-near", "ambassador", area="ringsted_syd", offers_accompaniment=True),
        Recipient("prof-near", "professional", area="ringsted_syd", offers_accompaniment=True),
        Recipient("amb-far", "ambassador", area="benloese", offers_accompaniment=True),
        Recipient("amb-no", "ambassador", area="ringsted_syd", offers_accompaniment=False),
        Recipient("prof-1", "professional", area="ringsted_syd", offers_accompaniment=True),  # the referrer
        Recipient("guide-1", "guide"),
    ]
    fired = rules.fire_accompaniment_needed(referral(needs_accompaniment=True), COMMUNITY, directory, NOW)
    assert {n.recipient_id for n in fired.notify} == {"amb-near", "prof-near", "guide-1"}


def test_accompaniment_rule_is_quiet_once_a_companion_is_found() -> None:
    r = referral(needs_accompaniment=True, accompaniment_arranged_at=NOW)
    assert rules.fire_accompaniment_needed(r, COMMUNITY, [Recipient("g", "guide")], NOW).notify == []


def test_follow_up_and_escalation_only_while_the_referral_is_open() -> None:
    guides = [Recipient("g1", "guide"), Recipient("g2", "guide"), Recipient("prof-1", "professional", name="Mette")]
    [nudge] = rules.fire_welcome_followup(referral(), COMMUNITY, NOW + timedelta(days=7)).notify
    assert nudge.recipient_id == "prof-1" and nudge.context["days"] == 7
    escalation = rules.fire_welcome_escalation(referral(), COMMUNITY, guides, NOW + timedelta(days=14))
    assert [n.recipient_id for n in escalation.notify] == ["g1", "g2"]
    assert escalation.notify[0].context["referrer_name"] == "Mette"
    welcomed = referral(welcomed_at=NOW)
    assert rules.fire_welcome_followup(welcomed, COMMUNITY, NOW).notify == []
    assert rules.fire_welcome_escalation(referral(cancelled_at=NOW), COMMUNITY, guides, NOW).notify == []


def test_welcome_confirmed_thanks_the_referrer_unless_historic() -> None:
    [n] = rules.on_welcome_confirmed(referral(), COMMUNITY, NOW, NOW, TH)
    assert n.recipient_id == "prof-1" and n.rule is Rule.welcome_confirmed
    assert rules.on_welcome_confirmed(referral(), COMMUNITY, NOW - timedelta(days=40), NOW, TH) == []


def test_dormant_referrer_gets_three_communities_with_room_in_their_area() -> None:
    prof = Recipient("prof-1", "professional", area="ringsted_syd", activated_at=NOW - timedelta(days=45))
    communities = [
        Community("a", "Aftenløb", area="ringsted_syd"),
        Community("b", "Brætspil", area="ringsted_syd"),
        Community("c", "Cykelklub", area="ringsted_syd", has_room=False),
        Community("d", "Dans", area="ringsted_syd"),
        Community("e", "Erindring", area="ringsted_syd"),
        Community("f", "Fiskeri", area="benloese"),
        Community("g", "Gåtur", area="ringsted_syd", archived=True),
    ]
    fired = rules.fire_dormant_referrer(prof, communities, NOW, TH)
    [n] = fired.notify
    assert [c["name"] for c in n.context["communities"]] == ["Aftenløb", "Brætspil", "Dans"]
    assert fired.again_at == NOW + TH.dormant_after


def test_a_recent_referral_postpones_the_dormancy_nudge() -> None:
    prof = Recipient("p", "ambassador", activated_at=NOW - timedelta(days=60), last_referral_at=NOW - timedelta(days=5))
    fired = rules.fire_dormant_referrer(prof, [], NOW, TH)
    assert fired.notify == [] and fired.again_at == NOW - timedelta(days=5) + TH.dormant_after


def test_guides_are_never_called_dormant_and_old_activations_get_a_grace_period() -> None:
    assert rules.dormant_timer_from(Recipient("g", "guide", activated_at=NOW), NOW, TH) is None
    old = Recipient("p", "professional", activated_at=NOW - timedelta(days=400))
    timer = rules.dormant_timer_from(old, NOW, TH)
    assert timer is not None and timer.due_at == NOW + TH.dormant_grace


def test_next_digest_is_monday_morning_in_copenhagen() -> None:
    moment = rules.next_digest_at(NOW, TH)
    assert local(moment).weekday() == 0 and local(moment).hour == 8
    assert moment > NOW and moment - NOW < timedelta(days=7)
    assert rules.next_digest_at(moment, TH) == moment + timedelta(days=7)


def test_digest_lists_open_referrals_and_the_week_and_skips_an_empty_week() -> None:
    prof = Recipient("prof-1", "professional", name="Mette")
    refs = [
        referral(NOW - timedelta(days=3)),
        Referral("r0", "prof-1", "c1", NOW - timedelta(days=3)),  # same moment as r1: order by id
        Referral("r2", "prof-1", "c1", NOW - timedelta(days=20), welcomed_at=NOW - timedelta(days=1)),
        Referral("r3", "prof-1", "c1", NOW - timedelta(days=60), cancelled_at=NOW - timedelta(days=50)),
    ]
    fired = rules.fire_weekly_digest(prof, refs, {"c1": COMMUNITY}, NOW, TH)
    [n] = fired.notify
    assert sorted(o["referral_id"] for o in n.context["open"]) == ["r0", "r1"]
    assert [(h["referral_id"], h["kind"]) for h in n.context["happened"]] == [
        ("r0", "created"),
        ("r1", "created"),
        ("r2", "welcomed"),
    ]
    quiet = rules.fire_weekly_digest(prof, refs[3:], {}, NOW, TH)
    assert quiet.notify == [] and quiet.again_at == rules.next_digest_at(NOW, TH)


def test_quiet_hours_span_midnight_in_copenhagen_time() -> None:
    start, end = time(21), time(7)
    evening = datetime(2024, 3, 12, 21, 30, tzinfo=UTC)  # 22:30 in Copenhagen (CET)
    assert routing.in_quiet_hours(evening, start, end)
    assert routing.quiet_hours_over(evening, start, end) == datetime(2024, 3, 13, 6, 0, tzinfo=UTC)
    small_hours = datetime(2024, 3, 13, 2, 0, tzinfo=UTC)  # 03:00 local
    assert routing.quiet_hours_over(small_hours, start, end) == datetime(2024, 3, 13, 6, 0, tzinfo=UTC)
    assert not routing.in_quiet_hours(NOW, start, end)
    assert routing.quiet_hours_over(NOW, None, None) == NOW
    summer = datetime(2024, 7, 1, 19, 30, tzinfo=UTC)  # 21:30 CEST
    assert routing.quiet_hours_over(summer, start, end) == datetime(2024, 7, 2, 5, 0, tzinfo=UTC)


def _route(prefs: Preferences, sent_today: int = 0, now: datetime = NOW) -> list[routing.PlannedDelivery] | None:
    n = Notify(Rule.welcome_followup, "prof-1", "r1")
    return routing.route(
        n, prefs, email="m@k.dk", phone="+4512345678", personal_sent_today=sent_today, sms_enabled=True, now=now
    )


def test_routing_honours_opt_out_channels_cap_and_quiet_hours() -> None:
    assert _route(Preferences(opted_out=frozenset({"welcome_followup"}))) is None
    assert [p.channel for p in _route(Preferences()) or []] == ["email"]
    assert [p.channel for p in _route(Preferences(channels=frozenset({"email", "sms"}))) or []] == ["email", "sms"]
    assert _route(Preferences(channels=frozenset({"inbox"}))) == []
    assert _route(Preferences(daily_cap=2), sent_today=2) == []
    night = datetime(2024, 3, 12, 22, 0, tzinfo=UTC)
    [held] = _route(Preferences(), now=night) or []
    assert held.not_before == datetime(2024, 3, 13, 6, 0, tzinfo=UTC)


def test_dedup_key_is_per_rule_subject_and_recipient() -> None:
    a = Notify(Rule.welcome_followup, "prof-1", "r1", context={"x": 1})
    assert a.dedup_key == Notify(Rule.welcome_followup, "prof-1", "r1", context={"x": 2}).dedup_key
    assert a.dedup_key != Notify(Rule.welcome_escalation, "prof-1", "r1").dedup_key
    assert a.dedup_key != Notify(Rule.welcome_followup, "guide", "r1").dedup_key


def test_retry_back_off_and_webhook_signature() -> None:
    assert routing.retry_at(1, [10, 60], NOW) == NOW + timedelta(seconds=10)
    assert routing.retry_at(5, [10, 60], NOW) == NOW + timedelta(seconds=60)
    sig = routing.sign_webhook("secret", b'{"a":1}')
    assert sig == "sha256=" + __import__("hmac").new(b"secret", b'{"a":1}', "sha256").hexdigest()


def test_a_pause_holds_mail_until_it_ends_and_then_quiet_hours_still_count() -> None:
    paused = Preferences(paused_until=NOW + timedelta(days=2))
    [held] = _route(paused) or []
    assert held.not_before == NOW + timedelta(days=2)
    late = Preferences(paused_until=datetime(2024, 3, 14, 21, 0, tzinfo=UTC))  # ends 22:00 in Copenhagen
    assert routing.release_at(late, NOW) == datetime(2024, 3, 15, 6, 0, tzinfo=UTC)  # 07:00 next morning
    assert routing.release_at(Preferences(paused_until=NOW - timedelta(days=1)), NOW) == NOW  # over


def test_a_changed_pause_moves_waiting_mail_but_not_a_retry_into_the_past() -> None:
    later = NOW + timedelta(days=5)
    lifted = Preferences(paused_until=None)
    assert routing.moved_delivery(lifted, NOW, due=later, tried=False) == NOW  # the pause was lifted
    assert routing.moved_delivery(lifted, NOW, due=later, tried=True) == later  # its back-off stays
    paused = Preferences(paused_until=later)
    assert routing.moved_delivery(paused, NOW, due=NOW + timedelta(minutes=5), tried=True) == later


def test_who_may_pause_a_community_and_for_how_long() -> None:
    from shared.principal import Principal, Role

    assert domain.may_pause(Principal("community:c1", Role.community_contact, ("c1",)), "c1")
    assert not domain.may_pause(Principal("x", Role.community_contact, ("c2",)), "c1")
    assert domain.may_pause(Principal("g", Role.guide), "c1") and domain.may_pause(Principal("a", Role.admin), "c1")
    assert not domain.may_pause(Principal("p", Role.professional), "c1")
    assert domain.pause_problem(None, NOW) is None and domain.pause_problem(NOW + timedelta(days=300), NOW) is None
    assert domain.pause_problem(NOW + timedelta(days=400), NOW) is not None

"""The settings form's pure rules (services/web/preferences.py), the inbox text's links and
the training form's checks."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.web import preferences as form
from services.web.service.inbox import pieces
from services.web.service.readiness import read_training

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 10.00 in Copenhagen
CURRENT = form.choices_of(["inbox", "email", "sms"], ["welcome_followup"], ("21:00", "07:00"), 10, None, NOW)
FILLED = {
    "email": "ja",
    "digest": "ja",
    "quiet": "ja",
    "quiet_from": "22.00",
    "quiet_to": "6:30",
    "paused_until": "",
    "daily_cap": "5",
}


def test_the_services_preferences_become_the_forms_choices() -> None:
    assert (
        form.Choices(
            email=True,
            sms=True,
            digest=True,
            quiet=True,
            quiet_from="21:00",
            quiet_to="07:00",
            paused_through=None,
            daily_cap=10,
        )
        == CURRENT
    )
    plain = form.choices_of(["inbox"], ["weekly_digest"], None, 0, None, NOW)
    assert (plain.email, plain.digest, plain.quiet, plain.quiet_from) == (False, False, False, "21:00")
    assert plain.fields()["email"] == "" and plain.fields()["daily_cap"] == "0"


def test_a_pause_is_shown_as_its_last_day_and_one_that_is_over_as_none() -> None:
    # The service keeps the moment mail resumes: the start of 25 December in Copenhagen.
    resumes = datetime(2026, 12, 24, 23, 0, tzinfo=UTC)
    assert form.choices_of(["inbox"], [], None, 10, resumes, NOW).paused_through == date(2026, 12, 24)
    over = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    assert form.choices_of(["inbox"], [], None, 10, over, NOW).paused_through is None


def test_a_filled_form_is_read_and_becomes_the_services_body() -> None:
    choices, errors = form.read_form(FILLED | {"paused_until": "24.12.2026"}, NOW, sms_available=False, current=CURRENT)
    assert errors == [] and choices is not None
    assert (choices.quiet_from, choices.quiet_to, choices.paused_through) == ("22:00", "06:30", date(2026, 12, 24))
    body = form.body_of(choices, ["welcome_followup", "weekly_digest"], shows_digest=True)
    assert body == {
        # SMS is kept as it was, since the form did not offer it
        "channels": ["inbox", "email", "sms"],
        "opted_out": ["welcome_followup"],  # the digest back on, the other opt-out kept
        "quiet_hours": {"start": "22:00", "end": "06:30"},
        "daily_cap": 5,
        "paused_until": "2026-12-25T00:00:00+01:00",
    }


def test_unticked_boxes_turn_mail_digest_and_quiet_hours_off() -> None:
    choices, errors = form.read_form(
        {"quiet_from": "", "quiet_to": "", "daily_cap": "0", "sms": "ja"}, NOW, sms_available=True, current=CURRENT
    )
    assert errors == [] and choices is not None
    body = form.body_of(choices, [], shows_digest=True)
    assert body["channels"] == ["inbox", "sms"]
    assert body["opted_out"] == ["weekly_digest"]
    assert body["quiet_hours"] is None and body["paused_until"] is None and body["daily_cap"] == 0


def test_the_digest_is_kept_as_it_was_when_the_form_does_not_show_it() -> None:
    choices, _ = form.read_form({"daily_cap": "3"}, NOW, sms_available=False, current=CURRENT)
    assert choices is not None
    assert form.body_of(choices, ["weekly_digest"], shows_digest=False)["opted_out"] == ["weekly_digest"]
    assert form.body_of(choices, [], shows_digest=False)["opted_out"] == []


def test_bad_fields_get_danish_messages_in_the_pages_order() -> None:
    bad = {"quiet": "ja", "quiet_from": "25.00", "quiet_to": "", "paused_until": "31.02.2026", "daily_cap": "500"}
    choices, errors = form.read_form(bad, NOW, sms_available=False, current=CURRENT)
    assert choices is None
    assert [field for field, _ in errors] == ["quiet_from", "quiet_to", "paused_until", "daily_cap"]
    assert errors[-1][1] == "Skriv et helt tal fra 0 til 100"

    def problem(**fields: str) -> list[tuple[str, str]]:
        return form.read_form(FILLED | fields, NOW, sms_available=False, current=CURRENT)[1]

    assert problem(quiet_from="21:00", quiet_to="21.00") == [
        ("quiet_to", "Det stille tidsrum skal slutte på et andet klokkeslæt, end det begynder")
    ]
    assert problem(paused_until="2026-12-01")[0][1].startswith("Skriv en dato fra i dag")
    assert problem(paused_until="2028-01-01") == [("paused_until", "En pause kan højst vare et år")]
    assert problem(paused_until="2026-12-02") == []  # through today is a pause
    assert problem(daily_cap="-1")[0][0] == "daily_cap"
    # Quiet hours that are off are not checked.
    assert problem(quiet="", quiet_from="nonsense") == []


def test_clock_and_day_read_what_people_and_date_fields_send() -> None:
    assert [form.clock(text) for text in ("7", "7.5", "07:05", "23.59", "24:00", "7:60", "kl 7")] == [
        "07:00",
        None,
        "07:05",
        "23:59",
        None,
        None,
        None,
    ]
    assert form.day("2026-12-24") == form.day("24.12.2026") == form.day("24/12/2026") == date(2026, 12, 24)
    assert form.day("2026-02-30") is None and form.day("i morgen") is None


def test_the_inbox_text_links_its_addresses() -> None:
    text = "Ja: https://vejviser.example.dk/l/abc.def-_x. Eller se http://x.dk/henvisninger/1)"
    assert pieces(text) == [
        ("Ja: ", None),
        ("Åbn linket", "https://vejviser.example.dk/l/abc.def-_x"),
        (". Eller se ", None),
        ("http://x.dk/henvisninger/1", "http://x.dk/henvisninger/1"),
        (")", None),
    ]
    assert pieces("") == [] and pieces("javascript:alert(1)") == [("javascript:alert(1)", None)]


def test_a_training_needs_a_known_referrer_a_past_date_and_a_topic() -> None:
    good = {"referrer": "prof-jc-mette", "trained_on": "2026-11-24", "topic": "introduction"}
    assert read_training(good, {"prof-jc-mette"}, NOW) == (good, [])
    assert read_training(good | {"trained_on": "24.11.2026"}, {"prof-jc-mette"}, NOW)[0]["trained_on"] == "2026-11-24"
    _, errors = read_training({"referrer": "someone", "trained_on": "2026-12-03", "topic": "juggling"}, set(), NOW)
    assert [field for field, _ in errors] == ["referrer", "trained_on", "topic"]
    assert errors[1][1] == "Træningen skal have fundet sted: skriv en dato til og med i dag"
    assert read_training(good | {"trained_on": "1999-12-31"}, {"prof-jc-mette"}, NOW)[1][0][0] == "trained_on"

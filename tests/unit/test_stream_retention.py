"""The retention table covers every stream and every sensitive event type, and its pieces fit:
subjects end with the citizen's token where a purge needs it, headers carry the TTL."""

from __future__ import annotations

from datetime import timedelta

from shared import stream_retention as sr
from shared.bus import MSG_TTL, dead_letter_subject, event_headers, stream_configs
from shared.events import REGISTRY, Envelope
from shared.events.envelope import subject_token
from shared.events.notifications import NotificationDeliveryFailed, failure_code
from shared.events.referrals import CitizenErased, CitizenRegistered, LonelinessMeasured, ReferralCreated


def test_every_declared_stream_has_a_retention_and_the_table_names_no_other() -> None:
    assert {c.name for c in stream_configs()} == set(sr.STREAMS)
    assert all(keep.why for keep in sr.STREAMS.values())


def test_every_event_that_carries_a_citizens_attributes_expires_and_the_sensitive_ones_are_covered() -> None:
    attribute_bearing = {m for m in REGISTRY.values() if m.attributes_of}
    assert attribute_bearing == {CitizenRegistered, LonelinessMeasured}
    assert attribute_bearing <= set(sr.EVENT_TTL)
    for keep in sr.EVENT_TTL.values():
        assert keep.age is not None and timedelta(0) < keep.age <= timedelta(days=30) and keep.why


def test_a_sensitive_events_subject_ends_with_the_citizen_and_its_headers_carry_the_ttl() -> None:
    envelope = Envelope.wrap(CitizenRegistered(citizen_ref="c-1", area="vestervang"), source="/t")
    assert envelope.nats_subject == "vejviser.referrals.CitizenRegistered.c-1"
    headers = event_headers(envelope.id, envelope.nats_subject)
    assert headers[MSG_TTL] == str(30 * 24 * 3600) and headers["Nats-Msg-Id"] == envelope.id

    plain = Envelope.wrap(
        ReferralCreated(referral_id="r", citizen_ref="c-1", community_id="k", referrer_id="a"), source="/t"
    )
    assert plain.nats_subject == "vejviser.referrals.ReferralCreated"
    assert MSG_TTL not in event_headers(plain.id, plain.nats_subject)
    # The erasure itself is not purged with the citizen: every consumer must still read it.
    assert Envelope.wrap(CitizenErased(citizen_ref="c-1"), source="/t").nats_subject == sr.ERASURE_SUBJECT


def test_a_measurement_without_its_citizen_has_the_types_subject() -> None:
    old = LonelinessMeasured(referral_id="r", moment="referral", score=5)
    assert Envelope.wrap(old, source="/t").nats_subject == "vejviser.referrals.LonelinessMeasured"


def test_a_reference_that_is_no_subject_token_is_digested_stably() -> None:
    assert subject_token("c-3f2a_x") == "c-3f2a_x"
    odd = subject_token("kommune.x 17")
    assert odd.startswith("h-") and "." not in odd and " " not in odd
    assert odd == subject_token("kommune.x 17") != subject_token("kommune.x 18")
    assert subject_token("*") != "*" and subject_token(">") != ">"


def test_a_dead_letter_keeps_the_citizens_token_on_its_subject() -> None:
    assert (
        dead_letter_subject("analytics-p", "vejviser.referrals.CitizenRegistered.c-1") == "vejviser.dlq.analytics-p.c-1"
    )
    assert dead_letter_subject("analytics-p", "vejviser.referrals.ReferralCreated") == "vejviser.dlq.analytics-p"


def test_message_ttl_reads_the_event_name_of_any_subject() -> None:
    assert sr.message_ttl("vejviser.referrals.LonelinessMeasured.c-9") == str(30 * 24 * 3600)
    assert sr.message_ttl("vejviser.referrals.LonelinessMeasured") == str(30 * 24 * 3600)
    assert sr.message_ttl("vejviser.catalogue.CommunityRegistered") is None
    assert sr.message_ttl("odd") is None


def test_the_generated_table_names_every_stream_and_every_event_type() -> None:
    table = sr.retention_table()
    for name in sr.STREAMS:
        assert f"| {name} |" in table
    for model in REGISTRY.values():
        assert f"| `{model.event_name()}` |" in table
    assert "| `CitizenRegistered` | REFERRALS | 30 days (`Nats-TTL`) | yes" in table
    assert "| `CommunityRegistered` | CATALOGUE | kept (stream) | no" in table


def test_a_delivery_failure_travels_as_a_code_not_the_error_text() -> None:
    refused = "smtp: SMTPRecipientsRefused: {'borger@example.dk': (550, b'no such user')}"
    assert failure_code(refused) == "smtp: SMTPRecipientsRefused"
    assert failure_code("webhook: HTTP 503") == "webhook: HTTP 503"
    assert failure_code("borger@example.dk bounced") == "borger"
    assert failure_code("") == "unknown"
    event = NotificationDeliveryFailed(nudge_id="n", rule="r", recipient_id="a", channel="email", reason=refused)
    assert event.reason == "smtp: SMTPRecipientsRefused"


def test_the_retention_table_in_the_docs_is_current() -> None:
    from pathlib import Path

    from vejviser.interfaces import RETENTION

    path = Path(__file__).resolve().parents[2] / "docs" / RETENTION
    assert path.exists(), f"docs/{RETENTION} is missing: run `make docs`"
    assert path.read_text() == sr.retention_table(), f"docs/{RETENTION} is stale: run `make docs`"

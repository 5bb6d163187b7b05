"""The privacy register classifies everything the code holds — every column of every table of
every service, every field of every event — so a new column is a privacy decision; and its
lists fit together: every read purpose under one activity, every role described, recipients
following the services' subscriptions, retention written from the limits in force."""

from __future__ import annotations

import importlib
import pkgutil
from typing import ClassVar

import pytest
from sqlalchemy import MetaData

import services
import shared
from shared.events import REGISTRY, Event
from shared.principal import Role
from shared.privacy_register import (
    ACTIVITIES,
    CATEGORIES,
    EVENT_FIELDS,
    ROLE_ACCESS,
    TABLE_BY_KEY,
    TABLES,
    Limits,
    _tables,
    bus_recipients,
    erasure_rule,
    event_categories,
    retention_text,
)
from shared.purposes import PURPOSES
from vejviser.privacy_docs import built_apps

REGISTER = "shared/privacy_register.py"


def _metadata_of(value: object) -> MetaData | None:
    if isinstance(value, MetaData):
        return value
    found = getattr(value, "metadata", None) if isinstance(value, type) else None
    return found if isinstance(found, MetaData) else None


def _code_columns() -> set[tuple[str, str, str]]:
    """(service, table, column) of every SQLAlchemy table any module of the code defines: each
    service's runtime metadata (with the outbox and inbox it adds) and any other metadata, such
    as a key store's own database."""
    built_apps()  # building a service's runtime puts the outbox and inbox on its metadata
    owners: dict[int, tuple[MetaData, set[str]]] = {}
    for package in (services, shared):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if info.name.endswith(".__main__"):
                continue
            module = importlib.import_module(info.name)
            owner = info.name.split(".")[1] if package is services else "shared"
            for value in vars(module).values():
                metadata = _metadata_of(value)
                if metadata is not None:
                    owners.setdefault(id(metadata), (metadata, set()))[1].add(owner)
    columns = set()
    for metadata, owner in owners.values():
        assert len(owner) == 1, f"one metadata used by several services: {sorted(owner)}"
        (service,) = owner
        for table in metadata.tables.values():
            columns |= {(service, table.name, column.name) for column in table.columns}
    return columns


@pytest.fixture(scope="module")
def code_columns() -> set[tuple[str, str, str]]:
    return _code_columns()


def _registered_columns() -> set[tuple[str, str, str]]:
    return {(t.service, t.name, column) for t in TABLES for column in t.columns}


def test_every_column_of_every_table_is_classified(code_columns: set[tuple[str, str, str]]) -> None:
    unclassified = sorted(code_columns - _registered_columns())
    assert not unclassified, f"classify these columns in {REGISTER} (what data, whose, kept how long): " + ", ".join(
        ".".join(c) for c in unclassified
    )


def test_the_register_names_no_column_the_code_does_not_have(code_columns: set[tuple[str, str, str]]) -> None:
    gone = sorted(_registered_columns() - code_columns)
    assert not gone, f"the documents would describe columns that do not exist; remove from {REGISTER}: " + ", ".join(
        ".".join(c) for c in gone
    )


def test_every_field_of_every_event_is_classified() -> None:
    code = {(model.__name__, f) for model in REGISTRY.values() for f in model.model_fields}
    registered = {(name, f) for name, fields in EVENT_FIELDS.items() for f in fields}
    assert sorted(code - registered) == [], f"classify these event fields in {REGISTER}"
    assert sorted(registered - code) == [], f"these event fields are gone; remove them from {REGISTER}"


def test_an_outbox_is_classified_by_what_its_service_publishes() -> None:
    # The outbox holds copies of the service's own events until they are sent and a while after;
    # an event carrying a citizen's attributes ends its subject with the citizen's reference.
    for (service, name), table in TABLE_BY_KEY.items():
        if name != "outbox":
            continue
        published = [m for m in REGISTRY.values() if m.context == service]
        personal = any(event_categories(m.__name__) for m in published)
        assert (table.columns["payload"] == "event_copy") == personal, service
        names_citizen = any(getattr(m, "attributes_of", None) for m in published)
        assert (table.columns["subject"] == "citizen_ref") == names_citizen, service


def test_every_read_purpose_belongs_to_exactly_one_activity() -> None:
    listed = [code for activity in ACTIVITIES.values() for code in activity.purposes]
    assert sorted(listed) == sorted(PURPOSES)


def test_every_activity_holds_data_and_every_role_is_described() -> None:
    assert {t.activity for t in TABLES} == set(ACTIVITIES)
    assert set(ROLE_ACCESS) == set(Role)


def test_personal_data_has_a_legal_basis_and_the_sensitive_kinds_are_special_categories() -> None:
    assert all(c.basis for c in CATEGORIES.values() if c.personal)
    special = {code for code, c in CATEGORIES.items() if c.special}
    assert {"citizen_target_groups", "loneliness", "referral_note", "support_needs"} <= special
    assert not any(c.special for c in CATEGORIES.values() if not c.personal)


class _Seen(Event):
    context: ClassVar[str] = "test"
    aggregate: ClassVar[str] = "referral_id"
    referral_id: str


def test_recipients_are_the_services_subscribed_to_each_context_with_what_the_events_carry() -> None:
    from shared.events.catalogue import CommunityArchived, CommunityUpdated
    from shared.events.referrals import CitizenRegistered, ReferralCreated

    consumed = {
        "notifications": [
            ("notifications-catalogue", "catalogue", (CommunityUpdated, CommunityArchived)),
            ("notifications-referrals", "referrals", (ReferralCreated,)),
        ],
        "analytics": [
            ("projection-referrals", "referrals", (CitizenRegistered,)),
            ("projection-referrals-2", "referrals", (ReferralCreated,)),
        ],
        "web": [],
    }
    recipients = {(r.service, r.context): r for r in bus_recipients(consumed)}
    assert set(recipients) == {
        ("notifications", "catalogue"),
        ("notifications", "referrals"),
        ("analytics", "referrals"),
    }
    assert recipients["notifications", "catalogue"].events == ("CommunityArchived", "CommunityUpdated")
    assert recipients["notifications", "catalogue"].categories == ("community_contact",)
    analytics = recipients["analytics", "referrals"]
    assert analytics.events == ("CitizenRegistered", "ReferralCreated")
    assert {"citizen_target_groups", "citizen_attributes", "citizen_ref", "support_needs"} <= set(analytics.categories)


LIMITS = Limits(
    retention_months=12,
    outbox_hours=168.0,
    draft_hours=24,
    session_idle_minutes=30.0,
    session_absolute_minutes=600.0,
    login_link_minutes=15.0,
    login_mail_window_minutes=15.0,
)


def test_retention_is_written_from_the_limits_in_force() -> None:
    assert "12 months after the citizen's last referral ended" in erasure_rule(LIMITS)
    assert "36 months" in erasure_rule(Limits(**{**LIMITS.__dict__, "retention_months": 36}))
    assert "168 hours" in retention_text("outbox", LIMITS)
    assert "24 hours" in retention_text("draft", LIMITS)
    for table in TABLES:
        assert retention_text(table.retention, LIMITS)


def test_the_register_refuses_an_unknown_category_or_a_column_classified_twice() -> None:
    with pytest.raises(ValueError, match="unknown data category 'health'"):
        _tables("referrals.citizen referral citizen\n    health: target_groups\n")
    with pytest.raises(ValueError, match="unknown retention 'forever'"):
        _tables("referrals.citizen referral forever\n    none: id\n")
    with pytest.raises(ValueError, match="classifies 'note' twice"):
        _tables("referrals.referral referral citizen\n    referral_note: note\n    none: note\n")

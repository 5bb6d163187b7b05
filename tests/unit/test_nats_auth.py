"""The table of NATS users (shared/nats_auth.py): it matches what every service really
consumes, and what it renders and writes."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import cast

import pytest

from services.analytics.consumers import HANDLERS as ANALYTICS
from services.catalogue.consumers import HANDLERS as CATALOGUE
from services.notifications.consumers import handlers as notification_handlers
from services.notifications.service import Notifications
from services.referrals.consumers import HANDLERS as REFERRALS
from shared import nats_auth
from shared.events import CONTEXTS
from shared.runtime import Subscription
from shared.settings import SERVICES, Settings

# Binding notifications' handlers to a service object does not call it: a stand-in will do.
SUBSCRIPTIONS: dict[str, tuple[Subscription, ...]] = {
    "web": (),
    "catalogue": CATALOGUE,
    "referrals": REFERRALS,
    "notifications": notification_handlers(cast(Notifications, object())),
    "analytics": ANALYTICS,
}


def test_every_service_has_a_user_and_the_operator_is_admin() -> None:
    assert set(nats_auth.OWNS) == set(nats_auth.CONSUMES) == set(SERVICES) == set(SUBSCRIPTIONS)
    assert set(nats_auth.USERS) == {*SERVICES, "admin"}


def test_the_table_consumes_exactly_what_each_service_subscribes_to() -> None:
    for service, subscriptions in SUBSCRIPTIONS.items():
        wanted: dict[str, list[str]] = {}
        for sub in subscriptions:
            wanted.setdefault(sub.context, []).append(sub.name)
        table = {context: sorted(names) for context, names in nats_auth.CONSUMES[service].items()}
        assert table == {context: sorted(names) for context, names in wanted.items()}, service


def test_each_context_is_published_by_one_service() -> None:
    owners = [context for contexts in nats_auth.OWNS.values() for context in contexts]
    assert sorted(owners) == sorted(CONTEXTS)


def test_a_service_publishes_on_its_own_context_and_the_dlq_only() -> None:
    allowed = nats_auth.publish_allowed("analytics")
    events = [s for s in allowed if s.startswith("vejviser.")]
    assert events == ["vejviser.analytics.>", "vejviser.dlq.>"]
    assert "$JS.API.CONSUMER.CREATE.REFERRALS.analytics-projection-referrals.>" in allowed
    assert "$JS.ACK.REFERRALS.analytics-projection-referrals.>" in allowed
    assert not any("PURGE" in s or "DELETE.REFERRALS" in s for s in allowed)
    catalogue = nats_auth.publish_allowed("catalogue")
    assert not any(".CATALOGUE." in s for s in catalogue if "CONSUMER" in s)  # it does not read its own stream
    assert nats_auth.subscribe_allowed("catalogue") == ["_INBOX.catalogue.>"]


def test_only_referrals_purges_and_only_the_erasable_streams_and_the_dlq() -> None:
    purges = {s: [x for x in nats_auth.publish_allowed(s) if ".PURGE." in x] for s in SERVICES}
    assert purges.pop("referrals") == ["$JS.API.STREAM.PURGE.REFERRALS", "$JS.API.STREAM.PURGE.DLQ"]
    assert not any(purges.values())


def test_the_web_client_reads_nothing_and_keeps_no_dead_letters() -> None:
    assert nats_auth.durables("web") == []
    assert not any("CONSUMER" in s for s in nats_auth.publish_allowed("web"))


def test_credentials_are_private_random_and_kept_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "nats" / "credentials.json"
    first = nats_auth.generate_credentials(path)
    assert set(first) == set(nats_auth.USERS)
    assert len(set(first.values())) == len(first)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert nats_auth.generate_credentials(path) == first == nats_auth.load_credentials(path)


def test_the_config_block_names_every_user_and_limits_all_but_admin(tmp_path: Path) -> None:
    credentials = nats_auth.generate_credentials(tmp_path / "c.json")
    block = nats_auth.render_authorization(credentials)
    assert block.startswith("authorization {")
    for user in nats_auth.USERS:
        assert f'user: "{user}", password: "{credentials[user]}"' in block
    [admin] = [line for line in block.splitlines() if '"admin"' in line]
    assert "permissions" not in admin
    assert block.count("permissions") == len(SERVICES)


def test_a_service_logs_in_as_itself_from_the_credentials_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NATS_USER", "NATS_PASSWORD", "NATS_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "c.json"
    credentials = nats_auth.generate_credentials(path)
    settings = Settings(service="notifications", database_url="sqlite://", nats_credentials_file=str(path))
    assert settings.nats_credentials() == ("notifications", credentials["notifications"])
    assert settings.nats_credentials(nats_auth.ADMIN) == ("admin", credentials["admin"])
    explicit = Settings(service="web", database_url="sqlite://", nats_user="ops", nats_password="pw")
    assert explicit.nats_credentials() == ("ops", "pw")
    assert Settings(service="web", database_url="sqlite://").nats_credentials() is None


def test_the_operator_prints_the_config_block_for_a_server_of_their_own(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vejviser.cli import app

    path = tmp_path / "users.json"
    result = CliRunner().invoke(app, ["nats-users", "--credentials", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == nats_auth.render_authorization(nats_auth.load_credentials(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

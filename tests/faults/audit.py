"""After the faults: wait until the system is quiet, then hold every service's state against
what the accepted inputs imply, and count what was lost and what was applied twice."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats

from tests.faults.load import ADMIN, Ledger
from tests.faults.system import SERVICES, System
from tests.helpers import tls

MAIL_RULES = ("welcome_contact", "welcome_confirmed")  # the mails the inputs imply, one per referral / welcome


@contextmanager
def reading(path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as conn:
        yield conn


def _scalar(conn: sqlite3.Connection, sql: str) -> int:
    return int(conn.execute(sql).fetchone()[0])


async def unsettled(system: System) -> list[str]:
    """What still moves: services not ready, unsent outbox rows, undelivered events, unsent mail."""
    moving: list[str] = []
    for name, service in system.services.items():
        if not await asyncio.to_thread(service.ready):
            moving.append(f"{name} not ready")
        with reading(system.root / f"{name}.db") as conn:
            unsent = _scalar(conn, "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL")
        if unsent:
            moving.append(f"{name}: {unsent} outbox rows unsent")
    with reading(system.root / "notifications.db") as conn:
        pending = _scalar(conn, "SELECT count(*) FROM delivery WHERE status = 'pending'")
    if pending:
        moving.append(f"notifications: {pending} deliveries pending")
    try:
        nc = await nats.connect(system.admin_url, allow_reconnect=False, connect_timeout=2)
    except Exception as exc:
        return [*moving, f"nats: {type(exc).__name__}"]
    try:
        js = nc.jetstream()
        for stream in await js.streams_info():
            name = stream.config.name or ""
            for consumer in await js.consumers_info(name):
                behind = (consumer.num_pending or 0) + (consumer.num_ack_pending or 0)
                if behind:
                    moving.append(f"{name}/{consumer.name}: {behind} not acked")
    finally:
        await nc.close()
    return moving


async def quiesce(system: System, deadline: float) -> list[str]:
    """Wait until nothing moves twice in a row; what still moved at the deadline otherwise."""
    loop = asyncio.get_running_loop()
    calm = 0
    moving: list[str] = []
    while loop.time() < deadline:
        moving = await unsettled(system)
        calm = calm + 1 if not moving else 0
        if calm >= 2:
            return []
        await asyncio.sleep(1.0)
    return moving


@dataclass
class Findings:
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    mails: int = 0  # distinct implied mails delivered
    mails_expected: int = 0
    # The same delivery received again: a worker killed after the SMTP server took a mail and
    # before it recorded so sends it once more (SMTP has no two-phase hand-over). That is one
    # mail to its reader only if every copy carries the same Message-ID.
    resent: int = 0

    def missing(self, what: str, count: int) -> None:
        if count > 0:
            self.lost.append(f"{count} {what}")

    def extra(self, what: str, count: int) -> None:
        if count > 0:
            self.duplicated.append(f"{count} {what}")

    @property
    def lost_count(self) -> int:
        return sum(int(item.split()[0]) for item in self.lost)

    @property
    def duplicated_count(self) -> int:
        return sum(int(item.split()[0]) for item in self.duplicated)


def check_referrals(system: System, ledger: Ledger, found: Findings) -> None:
    with reading(system.root / "referrals.db") as conn:
        rows = dict(conn.execute("SELECT referral_id, status FROM referral").fetchall())
        created = Counter(
            r for (r,) in conn.execute("SELECT referral_id FROM timeline WHERE event_type = 'ReferralCreated'")
        )
        welcomed = Counter(
            r for (r,) in conn.execute("SELECT referral_id FROM timeline WHERE event_type = 'WelcomeConfirmed'")
        )
        citizens = {r for (r,) in conn.execute("SELECT citizen_ref FROM citizen")}
    accepted = set(ledger.referrals)
    found.missing("referrals accepted but not in the referrals database", len(accepted - set(rows)))
    found.extra("referrals in the referrals database that nobody made", len(set(rows) - accepted))
    found.extra("referrals created twice (timeline)", sum(n - 1 for n in created.values() if n > 1))
    found.missing("citizens accepted but not registered", len(ledger.citizens - citizens))
    not_welcomed = [r for r in ledger.welcomes if rows.get(r) != "welcomed"]
    found.missing("welcomes accepted but not recorded", len(not_welcomed))
    found.extra("welcomes nobody confirmed", len({r for r, s in rows.items() if s == "welcomed"} - ledger.welcomes))
    found.extra("welcomes applied twice (timeline)", sum(n - 1 for n in welcomed.values() if n > 1))


def check_analytics(system: System, ledger: Ledger, found: Findings) -> None:
    response = httpx.get(
        f"{system.url('analytics')}/v1/metrics",
        params={"suppress": "false"},
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=30,
        verify=tls(),
    )
    assert response.status_code == 200, response.text
    counts = response.json()["referrals"]
    for name, implied in (("created", len(ledger.referrals)), ("welcomed", len(ledger.welcomes))):
        found.missing(f"referrals {name} short in analytics' metrics", implied - counts[name])
        found.extra(f"referrals {name} over in analytics' metrics", counts[name] - implied)
    with reading(system.root / "analytics.db") as conn:
        projected = _scalar(conn, "SELECT count(*) FROM an_referral")
        nudges = dict(conn.execute("SELECT rule, count(*) FROM an_nudge WHERE delivered GROUP BY rule").fetchall())
    found.missing("referrals short in analytics' projection", len(ledger.referrals) - projected)
    found.extra("referrals over in analytics' projection", projected - len(ledger.referrals))
    for rule, implied in (("welcome_contact", len(ledger.referrals)), ("welcome_confirmed", len(ledger.welcomes))):
        found.missing(f"{rule} mails short in analytics (NudgeSent)", implied - nudges.get(rule, 0))
        found.extra(f"{rule} mails over in analytics (NudgeSent)", nudges.get(rule, 0) - implied)


def check_mails(system: System, ledger: Ledger, found: Findings) -> None:
    """Each implied mail exactly once in the SMTP server: one welcome_contact per referral (to
    the community), one welcome_confirmed per welcome (to the referrer)."""
    with reading(system.root / "notifications.db") as conn:
        deliveries: dict[str, tuple[str, str]] = {
            d: (rule, referral)
            for d, rule, referral in conn.execute(
                "SELECT delivery.id, nudge.rule, nudge.referral_id "
                "FROM delivery JOIN nudge ON nudge.id = delivery.nudge_id"
            )
        }
        nudges = Counter(
            (rule, referral)
            for rule, referral in conn.execute("SELECT rule, referral_id FROM nudge WHERE rule IN (?, ?)", MAIL_RULES)
        )
    with system.mailbox.lock:
        received = [(str(m["X-Vejviser-Delivery"] or ""), str(m["Message-ID"])) for m in system.mailbox.messages]
    copies = Counter(delivery_id for delivery_id, _ in received)
    found.resent = sum(n - 1 for n in copies.values())
    message_ids: dict[str, set[str]] = {}
    for delivery_id, message_id in received:
        message_ids.setdefault(delivery_id, set()).add(message_id)
    found.extra(
        "mails received again under another Message-ID (a mail client shows both)",
        sum(len(ids) - 1 for ids in message_ids.values()),
    )
    mailed: Counter[tuple[str, str]] = Counter()
    for delivery_id in copies:
        rule_and_referral = deliveries.get(delivery_id)
        if rule_and_referral is not None and rule_and_referral[0] in MAIL_RULES:
            mailed[rule_and_referral] += 1
    implied = {("welcome_contact", r) for r in ledger.referrals} | {("welcome_confirmed", r) for r in ledger.welcomes}
    found.mails_expected = len(implied)
    found.mails = len(implied & set(mailed))
    found.missing("implied mails never received", len(implied - set(mailed)))
    found.extra("mails nothing implied", len(set(mailed) - implied))
    found.extra(
        "implied mails received as two or more different messages", sum(n - 1 for n in mailed.values() if n > 1)
    )
    found.extra("notifications decided twice (nudges)", sum(n - 1 for n in nudges.values() if n > 1))


def check_inboxes(system: System, found: Findings) -> None:
    for name in SERVICES:
        with reading(system.root / f"{name}.db") as conn:
            doubles = _scalar(
                conn,
                "SELECT coalesce(sum(n - 1), 0) FROM "
                "(SELECT count(*) AS n FROM inbox GROUP BY consumer, event_id HAVING count(*) > 1)",
            )
        found.extra(f"events processed twice by one consumer of {name} (inbox)", doubles)


def audit(system: System, ledger: Ledger) -> Findings:
    found = Findings()
    check_referrals(system, ledger, found)
    check_analytics(system, ledger, found)
    check_mails(system, ledger, found)
    check_inboxes(system, found)
    return found

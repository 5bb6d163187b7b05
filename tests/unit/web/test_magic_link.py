"""The rules of the volunteers' login by e-mail: addresses, the rate limits, who an address
logs in as, the link's states and the mail; and the use case with a fake clock on SQLite and
PostgreSQL (directory and mail server replaced), so expiry needs no waiting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.web.service.answers import Community, CommunityPage
from services.web.service.magic_link import (
    DirectoryEntry,
    Limits,
    LinkState,
    MagicLinks,
    contact_actor_id,
    landing,
    link_state,
    mail_text,
    normal_address,
    token_hash,
    volunteer,
)
from services.web.service.sessions import Sessions
from services.web.settings import WebSettings
from services.web.store import Base, LoginLink, LoginMailAsk
from shared.clock import FakeClock
from shared.mail import Mail
from shared.principal import Role
from shared.runtime import Runtime

LARS = "lars.bech@frivillig.example.dk"
BIRTHE = "birthe@forening.example.dk"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def referrer(actor_id: str, role: str, email: str, name: str = "Lars Bech") -> DirectoryEntry:
    values = {"actor_id": actor_id, "role": role, "name": name, "contact": {"email": email}}
    return DirectoryEntry.model_validate(values)


def community(community_id: str, email: str, name: str = "Birthe Holm") -> Community:
    return Community.model_validate(
        {
            "id": community_id,
            "name": f"Fællesskab {community_id}",
            "organization": {"id": "org", "name": "Foreningen"},
            "contact": {"name": name, "email": email},
            "location": {"area": "vestervang", "area_label": "Vestervang"},
            "capacity": {"status": "open"},
        }
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("  Lars.Bech@Frivillig.example.dk ", LARS),
        ("a@b.dk", "a@b.dk"),
        ("", None),
        ("lars", None),
        ("@frivillig.dk", None),
        ("lars@localhost", None),
        ("lars@.dk.", None),
        ("lars bech@frivillig.dk", None),
        ("x" * 250 + "@b.dk", None),
    ],
)
def test_an_address_is_trimmed_lower_cased_or_refused(given: str, expected: str | None) -> None:
    assert normal_address(given) == expected


@pytest.mark.parametrize(
    ("address_asks", "ip_asks", "expected"),
    [(0, 0, "queued"), (2, 19, "queued"), (3, 0, "address_limited"), (3, 20, "ip_limited"), (0, 20, "ip_limited")],
)
def test_the_client_limit_comes_before_the_address_limit(address_asks: int, ip_asks: int, expected: str) -> None:
    limits = Limits(per_address=3, per_ip=20, window=timedelta(minutes=15))
    assert limits.decide(address_asks, ip_asks) == expected


def test_a_link_is_valid_until_used_or_expired() -> None:
    later = NOW + timedelta(minutes=15)
    assert link_state(None, later, NOW) is LinkState.valid
    assert link_state(NOW, later, NOW) is LinkState.used
    assert link_state(None, NOW, NOW) is LinkState.expired
    assert link_state(NOW, NOW - timedelta(seconds=1), NOW) is LinkState.expired  # swept soon anyway
    assert link_state(None, None, NOW) is LinkState.expired


def test_an_ambassador_logs_in_as_their_referrer_and_is_preferred_over_a_contact() -> None:
    lars = referrer("amb-lars", "ambassador", "Lars.Bech@frivillig.example.dk")
    user = volunteer(LARS, [lars], [community("c-1", LARS)])
    assert user is not None
    assert (user.actor_id, user.role, user.name, user.communities) == ("amb-lars", Role.ambassador, "Lars Bech", ())
    assert landing(user) == "/foelgeopgaver"
    assert landing(user, "/henvisninger/r-1") == "/henvisninger/r-1"  # where they were going


def test_a_community_contact_logs_in_for_all_their_communities() -> None:
    user = volunteer(BIRTHE, [], [community("c-2", BIRTHE), community("c-1", BIRTHE.upper())])
    assert user is not None
    assert user.role is Role.community_contact and user.communities == ("c-1", "c-2")
    assert user.actor_id == contact_actor_id(BIRTHE) and BIRTHE not in user.actor_id
    assert len(user.actor_id) == len("contact:") + 16 and user.name == "Birthe Holm"
    assert landing(user) == "/modtagelse"


def test_nobody_else_logs_in_by_mail() -> None:
    # a professional's address, and a directory that ignored the filter (other addresses)
    assert volunteer(LARS, [referrer("prof-mette", "professional", LARS)], []) is None
    assert volunteer(LARS, [referrer("amb-sofie", "ambassador", "sofie@frivillig.example.dk")], []) is None
    assert volunteer(LARS, [], [community("c-1", "birthe@forening.example.dk")]) is None


def test_the_mail_says_once_how_long_and_to_ignore_it_if_not_asked() -> None:
    text = mail_text("Lars Bech", "http://web/login/mail/abc", 15, "10.15", "Fællesskabsby Ringsted")
    assert "Hej Lars Bech" in text and "http://web/login/mail/abc\n" in text
    assert "én gang og kun i 15 minutter, til kl. 10.15" in text and "se bort fra denne mail" in text
    assert "kun i 1 minut," in mail_text("Lars Bech", "u", 1, "10.01", "p")


# ---------------------------------------------------------------------- the use case


class Directory:
    """The referrers directory and the catalogue, as the lookups see them."""

    def __init__(self, referrers: list[DirectoryEntry], communities: list[Community]) -> None:
        self.referrers, self.communities = referrers, communities
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def get_list(self, user: Any, path: str, adapter: Any, params: dict[str, Any]) -> list[DirectoryEntry]:
        self.asked.append((path, params))
        return self.referrers

    def get(self, user: Any, path: str, model: Any, params: dict[str, Any]) -> CommunityPage:
        self.asked.append((path, params))
        items = self.communities
        return CommunityPage(total=len(items), page=1, per_page=100, pages=1, items=items)


class Outbox:
    def __init__(self) -> None:
        self.sent: list[Mail] = []

    def send(self, mail: Mail, now: datetime) -> None:
        self.sent.append(mail)


@pytest.fixture
def system(database_url: str) -> Iterator[tuple[MagicLinks, FakeClock, Outbox, Directory]]:
    settings = WebSettings(database_url=database_url, web_public_url="https://vejviser.example.dk")
    clock = FakeClock(NOW)
    runtime = Runtime(settings, Base.metadata, clock=clock)
    runtime.db.create_schema(Base.metadata)
    directory = Directory([referrer("amb-lars", "ambassador", LARS)], [community("c-1", BIRTHE)])
    backends: Any = type("Backends", (), {"referrals": directory, "catalogue": directory})()
    outbox = Outbox()
    html = "<p>{url}</p>".format
    links = MagicLinks(runtime, settings, backends, mail_html=lambda **values: html(**values), smtp=outbox)  # type: ignore[arg-type]
    yield links, clock, outbox, directory
    links.close()


def settle(links: MagicLinks) -> None:
    links.worker.submit(lambda: None).result()  # one worker: everything asked before is done


def token_of(mail: Mail) -> str:
    return mail.text.split("/login/mail/")[1].split()[0]


def test_a_link_logs_in_once_and_only_its_hash_is_kept(system: Any) -> None:
    links, _, outbox, directory = system
    assert links.ask(LARS, "198.51.100.7", "/henvisninger/r-1") == "queued"
    settle(links)
    assert [path for path, _ in directory.asked] == ["/v1/referrers", "/v1/communities"]
    assert directory.asked[0][1] == {"email": LARS, "role": "ambassador"}
    assert directory.asked[1][1]["contact_email"] == LARS
    (mail,) = outbox.sent
    assert mail.to == LARS and mail.subject == "Dit login-link til Vejviser"
    token = token_of(mail)
    assert len(token) == 43 and f"https://vejviser.example.dk/login/mail/{token}" in mail.html
    assert "til kl. 10.15" in mail.text  # 09:00 UTC + 15 minutes, in Copenhagen
    stored = links.runtime.read(lambda db: [row.token_hash for row in db.query(LoginLink)])
    assert stored == [token_hash(token)]

    assert links.state(token).state is LinkState.valid  # looking does not use it
    used = links.use(token)
    assert used.state is LinkState.valid and used.user is not None and used.user.actor_id == "amb-lars"
    assert used.next_path == "/henvisninger/r-1"
    assert links.use(token).state is LinkState.used and links.use(token).user is None
    assert links.state(token).state is LinkState.used
    assert links.use("x" * 43).state is LinkState.expired


def test_a_link_expires_after_its_minutes_and_is_swept(system: Any) -> None:
    links, clock, outbox, _ = system
    links.ask(LARS, "198.51.100.7")
    settle(links)
    token = token_of(outbox.sent[0])
    clock.advance(timedelta(minutes=14, seconds=59))
    assert links.state(token).state is LinkState.valid
    clock.advance(timedelta(seconds=1))
    assert links.use(token).state is LinkState.expired
    sessions = Sessions(links.runtime, WebSettings(database_url="sqlite://"))
    sessions.sweep()
    assert links.runtime.read(lambda db: db.query(LoginLink).count()) == 0
    assert links.runtime.read(lambda db: db.query(LoginMailAsk).count()) == 2  # asks live out their window
    clock.advance(timedelta(minutes=1))
    sessions.sweep()
    assert links.runtime.read(lambda db: db.query(LoginMailAsk).count()) == 0


def test_the_address_limit_is_silent_and_a_used_link_frees_its_place(system: Any) -> None:
    links, clock, outbox, _ = system
    answers = [links.ask(LARS, f"198.51.100.{n}") for n in range(4)]
    assert answers == ["queued", "queued", "queued", "address_limited"]
    settle(links)
    assert len(outbox.sent) == 3
    assert links.use(token_of(outbox.sent[0])).user is not None
    assert links.ask(LARS, "198.51.100.9") == "queued"
    assert links.ask(LARS, "198.51.100.9") == "address_limited"
    clock.advance(timedelta(minutes=15, seconds=1))  # the window slides
    assert links.ask(LARS, "198.51.100.9") == "queued"


def test_the_client_limit_counts_unknown_addresses_too(system: Any) -> None:
    links, clock, outbox, _ = system
    answers = [links.ask(f"ukendt{n}@example.dk", "198.51.100.7") for n in range(21)]
    assert answers[:20] == ["queued"] * 20 and answers[20] == "ip_limited"
    assert links.ask(LARS, "198.51.100.8") == "queued"  # another client
    settle(links)
    assert [mail.to for mail in outbox.sent] == [LARS]  # unknown addresses get nothing
    keys = links.runtime.read(lambda db: {row.key for row in db.query(LoginMailAsk)})
    assert not any("@" in key or "198.51" in key for key in keys)  # keyed hashes only
    clock.advance(timedelta(minutes=15, seconds=1))
    assert links.ask("ukendt@example.dk", "198.51.100.7") == "queued"

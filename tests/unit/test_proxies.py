"""Which address a request is counted under: X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import pytest

from shared.proxies import TrustedProxies

PROXIES = TrustedProxies("10.0.0.0/8, 192.168.1.5")


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert TrustedProxies().client("203.0.113.9", "198.51.100.1") == "203.0.113.9"
    assert TrustedProxies("").client(None, "198.51.100.1") == "unknown"


def test_a_trusted_proxy_names_the_client() -> None:
    assert PROXIES.client("10.1.2.3", "198.51.100.7") == "198.51.100.7"
    assert PROXIES.client("192.168.1.5", "198.51.100.7, 10.0.0.4") == "198.51.100.7"  # two proxies of ours


def test_an_untrusted_peer_cannot_choose_its_address() -> None:
    assert PROXIES.client("203.0.113.9", "198.51.100.7") == "203.0.113.9"


def test_a_client_cannot_hide_behind_an_address_it_writes_itself() -> None:
    # The client sent "X-Forwarded-For: 1.2.3.4"; our proxy appended the address it saw.
    assert PROXIES.client("10.0.0.2", "1.2.3.4, 198.51.100.7") == "198.51.100.7"


def test_garbage_in_the_header_stops_at_the_last_trustworthy_hop() -> None:
    assert PROXIES.client("10.0.0.2", "not-an-address") == "10.0.0.2"
    assert PROXIES.client("10.0.0.2", "198.51.100.7, bogus, 10.0.0.9") == "10.0.0.9"


def test_ipv6_and_everything_trusted() -> None:
    proxies = TrustedProxies("::1, 10.0.0.0/8")
    assert proxies.client("::1", "2001:db8::5") == "2001:db8::5"
    assert proxies.client("::1", "10.0.0.7, 10.0.0.8") == "10.0.0.7"  # the left-most when all are ours


def test_a_bad_setting_is_named() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300'"):
        TrustedProxies("10.0.0.1, 10.0.0.300")

"""The client's address, behind reverse proxies one trusts and no others.

Behind a proxy every request comes from the proxy's address, so a rate limit keyed on it puts
every user in one bucket. `X-Forwarded-For` names the client, but anyone can send that header:
it is read only when the request came from a proxy listed in `TRUSTED_PROXIES` (addresses or
networks, comma-separated), and then from the right, hop by hop, until the first address that
is not a trusted proxy: the one the nearest untrusted party connected from. Uvicorn's own
proxy-header handling is off (shared/serve.py), so this is the only place that decides.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from starlette.requests import HTTPConnection

FORWARDED_FOR = "x-forwarded-for"
UNKNOWN = "unknown"

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network


def _address(text: str) -> Address | None:
    try:
        return ip_address(text.strip())
    except ValueError:
        return None


class TrustedProxies:
    def __init__(self, spec: str = "") -> None:
        """`spec`: "10.0.0.0/8, 127.0.0.1"; a bad entry is a ValueError naming it (at start-up)."""
        networks: list[Network] = []
        for entry in (part.strip() for part in spec.split(",")):
            if not entry:
                continue
            try:
                networks.append(ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"TRUSTED_PROXIES: {entry!r} is not an IP address or network") from None
        self.networks = tuple(networks)

    def trusts(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.networks)

    def client(self, peer: str | None, forwarded_for: str | None) -> str:
        """The client's address: `peer` itself unless it is a trusted proxy; then the right-most
        address of `forwarded_for` that is not one (an entry that is no address ends the walk
        at the last hop that was trustworthy)."""
        if not peer:
            return UNKNOWN
        nearest = _address(peer)
        if not self.trusts(nearest) or not forwarded_for:
            return peer
        for hop in reversed(forwarded_for.split(",")):
            address = _address(hop)
            if address is None:
                break
            nearest = address
            if not self.trusts(address):
                break
        return str(nearest)


def client_address(connection: HTTPConnection) -> str:
    """The address a rate limit or an audit entry keys on, by the app's `trusted_proxies`."""
    proxies: TrustedProxies = connection.app.state.trusted_proxies
    peer = connection.client.host if connection.client else None
    return proxies.client(peer, connection.headers.get(FORWARDED_FOR))

"""Where push messages may go: the endpoint a browser gives us is a URL we will POST to, so it
must name a known push service, never an address inside our network.

At subscribe time the URL is parsed and its hostname matched (exactly, or by whole labels)
against PUSH_ALLOWED_HOSTS. At send time the relay resolves that hostname once, refuses any
address that is not globally routable, and connects to the address it checked
(web/push/transport.py), so a DNS answer that changes in between (rebinding) cannot redirect it.

PUSH_ALLOW_LOOPBACK_ENDPOINTS=1 also accepts http(s)://127.0.0.1 or [::1] on any port, for the
push-service stand-in of the tests and local development; the application refuses to start with
it unless PUBLIC_BASE_URL is itself a loopback address.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_ENDPOINT_LENGTH = 2048
DEFAULT_ALLOWED_HOSTS = (
    "fcm.googleapis.com",  # Chrome, Edge, Android
    "*.push.services.mozilla.com",  # Firefox
    "*.push.apple.com",  # Safari
    "*.notify.windows.com",  # legacy Edge (WNS)
)
LOOPBACK_HOSTS = ("127.0.0.1", "::1")

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
# What a push service's URL may contain: printable ASCII, no space, backslash or quote. Anything
# else is a chance for two URL parsers to disagree about the host.
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
# NAT64 (RFC 6052) carries an IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class PushConfigurationError(RuntimeError):
    """A push setting the application refuses to start with."""


class EndpointRefused(ValueError):
    """The endpoint is not a push service we send to; ``reason`` is a short code for the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str  # lower case; an IPv6 literal without brackets
    port: int
    target: str  # path and query, as sent in the request line
    loopback: bool  # the test stand-in (only with PUSH_ALLOW_LOOPBACK_ENDPOINTS)


@dataclass(frozen=True)
class HostPattern:
    """``fcm.googleapis.com`` matches that name only; ``*.push.apple.com`` matches any name
    ending in the labels ``.push.apple.com`` (not ``push.apple.com`` itself)."""

    name: str
    subdomains: bool

    def matches(self, host: str) -> bool:
        if self.subdomains:
            return host.endswith("." + self.name)
        return host == self.name


def parse_host_patterns(values: Iterable[str]) -> tuple[HostPattern, ...]:
    """PUSH_ALLOWED_HOSTS: hostnames, or ``*.`` and a domain; never a URL."""
    patterns = []
    for raw in values:
        value = raw.strip().lower()
        if not value:
            continue
        subdomains = value.startswith("*.")
        name = value[2:] if subdomains else value
        if not _HOSTNAME.fullmatch(name):
            raise PushConfigurationError(
                f"PUSH_ALLOWED_HOSTS: {raw!r} is not a hostname (write fcm.googleapis.com or "
                "*.push.apple.com, without https:// or a path)"
            )
        patterns.append(HostPattern(name, subdomains))
    return tuple(patterns)


def _is_loopback_host(host: str) -> bool:
    return host in LOOPBACK_HOSTS


def check_endpoint(
    endpoint: object, allowed: Iterable[HostPattern], *, allow_loopback: bool = False
) -> Endpoint:
    """The parsed endpoint, or EndpointRefused saying why it is not one we send to."""
    if not isinstance(endpoint, str) or not endpoint:
        raise EndpointRefused("missing")
    if len(endpoint) > MAX_ENDPOINT_LENGTH or not _URL_CHARACTERS.fullmatch(endpoint):
        raise EndpointRefused("malformed")
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        raise EndpointRefused("malformed") from None
    host = (parts.hostname or "").lower()
    if "@" in parts.netloc:
        raise EndpointRefused("userinfo")
    if parts.fragment or "#" in endpoint:
        raise EndpointRefused("fragment")
    if allow_loopback and _is_loopback_host(host):
        if parts.scheme not in ("http", "https"):
            raise EndpointRefused("scheme")
        default_port = 443 if parts.scheme == "https" else 80
        return Endpoint(parts.scheme, host, port or default_port, _target(parts), True)
    if parts.scheme != "https":
        raise EndpointRefused("scheme")
    if port not in (None, 443):
        raise EndpointRefused("port")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise EndpointRefused("ip_literal")
    if not _HOSTNAME.fullmatch(host) or parts.netloc.lower() not in (host, f"{host}:443"):
        raise EndpointRefused("malformed")
    if not any(pattern.matches(host) for pattern in allowed):
        raise EndpointRefused("host_not_allowed")
    return Endpoint("https", host, 443, _target(parts), False)


def _target(parts) -> str:  # type: ignore[no-untyped-def]
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def endpoint_from_config(endpoint: object, config: Mapping[str, object]) -> Endpoint:
    return check_endpoint(
        endpoint,
        parse_host_patterns(config["PUSH_ALLOWED_HOSTS"]),  # type: ignore[arg-type]
        allow_loopback=bool(config["PUSH_ALLOW_LOOPBACK_ENDPOINTS"]),
    )


def address_allowed(address: str, *, loopback_endpoint: bool = False) -> bool:
    """A resolved address the relay may connect to: globally routable only (no private, loopback,
    link-local such as 169.254.169.254, multicast or reserved range; no IPv4 one of those hidden
    in an IPv6 address). The loopback stand-in's own address passes when the endpoint is one."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if loopback_endpoint:
        return ip.is_loopback
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not embedded.is_global:
            return False
    return ip.is_global and not ip.is_multicast


def check_push_settings(config: Mapping[str, object]) -> None:
    """Refuse to start with push settings that would let the relay post to internal addresses."""
    parse_host_patterns(config["PUSH_ALLOWED_HOSTS"])  # type: ignore[arg-type]
    if config.get("PUSH_ALLOWED_ENDPOINTS") or os.environ.get("PUSH_ALLOWED_ENDPOINTS"):
        raise PushConfigurationError(
            "PUSH_ALLOWED_ENDPOINTS (URL patterns) was replaced by PUSH_ALLOWED_HOSTS: "
            "comma-separated hostnames such as fcm.googleapis.com or *.push.apple.com"
        )
    if config["PUSH_ALLOW_LOOPBACK_ENDPOINTS"]:
        base = str(config.get("PUBLIC_BASE_URL") or "")
        host = (urlsplit(base).hostname or "").lower()
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise PushConfigurationError(
                "PUSH_ALLOW_LOOPBACK_ENDPOINTS=1 lets push subscriptions point at this machine; it "
                f"is for tests and local development only, and PUBLIC_BASE_URL ({base or 'unset'}) "
                "is not a loopback address. Unset PUSH_ALLOW_LOOPBACK_ENDPOINTS."
            )
    if float(config["PUSH_SEND_DEADLINE_SECONDS"]) <= 0:  # type: ignore[arg-type]
        raise PushConfigurationError("PUSH_SEND_DEADLINE_SECONDS must be more than 0")
    if int(config["PUSH_RELAY_CONCURRENCY"]) < 1:  # type: ignore[call-overload]
        raise PushConfigurationError("PUSH_RELAY_CONCURRENCY must be at least 1")

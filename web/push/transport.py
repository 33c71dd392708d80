"""One push request, sent so that neither the endpoint nor the push service can turn it against us
or hold it: the hostname is resolved once and every address must be globally routable; the
connection goes to an address that was checked (no second lookup, so DNS rebinding cannot aim it
inward) while TLS still verifies the certificate for the hostname and sends it as SNI; redirects
are never followed; connect, TLS handshake, write and read share one deadline, enforced by a
watchdog that shuts the socket (a per-read timeout would let a one-byte-a-second answer run
forever); at most RESPONSE_LIMIT_BYTES of the answer are read.

The relay (web/push/relay.py) builds the encrypted body and VAPID header with pywebpush and
py-vapid, then hands them to `PushTransport.post`.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import certifi

from web.push.endpoints import Endpoint, address_allowed

RESPONSE_LIMIT_BYTES = 64 * 1024
READ_CHUNK_BYTES = 4096

Resolver = Callable[[str, int], list[str]]


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host (IPv4 and IPv6), in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class SendTimeout(Exception):
    """The deadline passed before the push service had answered."""


class AddressRefused(Exception):
    """The push service's name resolved to an address we never connect to."""


@dataclass(frozen=True)
class PushResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes  # at most RESPONSE_LIMIT_BYTES
    truncated: bool


def default_ssl_context() -> ssl.SSLContext:
    """Certificate and hostname verification on, against the CA bundle requests also uses."""
    return ssl.create_default_context(cafile=certifi.where())


# getaddrinfo cannot be interrupted: it runs here so that a slow resolver costs the send its
# deadline, not the relay a thread.
_dns_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="push-dns")


class _PinnedConnection:
    """http.client connection that connects to checked addresses only, within a deadline."""

    host: str
    port: int
    sock: socket.socket | None

    def _setup(self, addresses: list[str], deadline_at: float) -> None:
        self._addresses = addresses
        self._deadline_at = deadline_at
        self.aborted = False

    def _remaining(self) -> float:
        remaining = self._deadline_at - time.monotonic()
        if remaining <= 0 or self.aborted:
            raise TimeoutError("push send deadline passed")
        return remaining

    def _connect_pinned(self) -> socket.socket:
        error: OSError | None = None
        for address in self._addresses:
            try:
                sock = socket.create_connection((address, self.port), timeout=self._remaining())
            except OSError as exc:
                error = exc
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock = sock
            return sock
        raise error or OSError("no address to connect to")

    def abort(self) -> None:
        """From the watchdog thread: end whatever the connection is blocked in."""
        self.aborted = True
        sock = self.sock
        if sock is not None:
            # The plain socket's shutdown, also for a TLS socket: it only acts on the fd.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _PinnedHTTPConnection(_PinnedConnection, http.client.HTTPConnection):
    def connect(self) -> None:
        self._connect_pinned()


class _PinnedHTTPSConnection(_PinnedConnection, http.client.HTTPSConnection):
    def connect(self) -> None:
        raw = self._connect_pinned()
        tls = self._context.wrap_socket(  # type: ignore[attr-defined]
            raw, server_hostname=self.host, do_handshake_on_connect=False
        )
        self.sock = tls  # before the handshake, so that the watchdog can cut it
        tls.settimeout(self._remaining())
        tls.do_handshake()


class PushTransport:
    def __init__(
        self,
        *,
        deadline_seconds: float,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
        response_limit: int = RESPONSE_LIMIT_BYTES,
    ) -> None:
        self.deadline_seconds = deadline_seconds
        self._resolver = resolver
        self._ssl_context = ssl_context or default_ssl_context()
        self.response_limit = response_limit

    def _addresses(self, endpoint: Endpoint, deadline_at: float) -> list[str]:
        if endpoint.loopback:
            addresses = [endpoint.host]  # an IP literal: nothing to resolve
        else:
            resolver = self._resolver or resolve_host
            lookup = _dns_pool.submit(resolver, endpoint.host, endpoint.port)
            try:
                addresses = lookup.result(timeout=max(0.0, deadline_at - time.monotonic()))
            except FutureTimeout:
                raise SendTimeout("name resolution") from None
        if not addresses:
            raise OSError("the push service's name has no address")
        # One bad address refuses them all: a resolver that mixes them is not to be trusted.
        if not all(address_allowed(a, loopback_endpoint=endpoint.loopback) for a in addresses):
            raise AddressRefused(endpoint.host)
        return addresses

    def post(self, endpoint: Endpoint, body: bytes, headers: Mapping[str, str]) -> PushResponse:
        """POST body to endpoint; raises SendTimeout, AddressRefused, OSError or HTTPException."""
        deadline_at = time.monotonic() + self.deadline_seconds
        addresses = self._addresses(endpoint, deadline_at)
        connection: _PinnedHTTPConnection | _PinnedHTTPSConnection
        if endpoint.scheme == "https":
            connection = _PinnedHTTPSConnection(
                endpoint.host,
                endpoint.port,
                timeout=self.deadline_seconds,
                context=self._ssl_context,
            )
        else:
            connection = _PinnedHTTPConnection(
                endpoint.host, endpoint.port, timeout=self.deadline_seconds
            )
        connection._setup(addresses, deadline_at)
        watchdog = threading.Timer(max(0.0, deadline_at - time.monotonic()), connection.abort)
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.request("POST", endpoint.target, body=body, headers=dict(headers))
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            if connection.aborted or isinstance(exc, TimeoutError):
                raise SendTimeout("deadline") from exc
            raise
        else:
            answer, truncated = self._read_capped(response)
            return PushResponse(response.status, response.headers, answer, truncated)
        finally:
            watchdog.cancel()
            connection.close()

    def _read_capped(self, response: http.client.HTTPResponse) -> tuple[bytes, bool]:
        """At most response_limit bytes, within the deadline. The status is what counts: a body
        that is too long, too slow or cut off is only noted."""
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := response.read(READ_CHUNK_BYTES):
                size += len(chunk)
                if size > self.response_limit:
                    chunks.append(chunk[: len(chunk) - (size - self.response_limit)])
                    return b"".join(chunks), True
                chunks.append(chunk)
        except (OSError, http.client.HTTPException):
            return b"".join(chunks), True
        return b"".join(chunks), False

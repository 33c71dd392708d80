"""A Web Push service stand-in on loopback, for tests: it checks the VAPID JWT (ES256 against
the `k` key), decrypts the aes128gcm body with http_ece as the browser would, records TTL,
Urgency and Topic, and answers 201, 307, 404, 410, 413, 429 or 500 as a test asks; or, as a
hostile or broken push service would, never answers (`hang`), answers one byte a second
(`drip`) or answers 201 with an endless body (`flood`). With ``tls`` (a server SSLContext) it
speaks HTTPS and notes the SNI names it saw.

The relay only posts to a loopback endpoint with PUSH_ALLOW_LOOPBACK_ENDPOINTS=1 (and a loopback
PUBLIC_BASE_URL): `LOOPBACK_SETTINGS` is what a test or benchmark sets for that."""

from __future__ import annotations

import base64
import json
import os
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

LOOPBACK_SETTINGS = {
    "PUSH_ALLOW_LOOPBACK_ENDPOINTS": True,
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
}


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class FakeBrowser:
    """The browser side of one subscription: its keys, and the endpoint the service gave it."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription_json(self) -> dict:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }


@dataclass
class Received:
    path: str
    status: int
    ttl: str | None
    urgency: str | None
    topic: str | None
    payload: dict | None
    jwt_claims: dict | None
    error: str | None = None
    arrived_at: float = 0.0  # time.monotonic() when the request had been read


class PushServiceStandIn:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.received: list[Received] = []
        self.browsers: dict[str, FakeBrowser] = {}
        self.scripts: dict[str, list[tuple[int, dict]]] = {}  # path → statuses to answer, in order
        self.behaviours: dict[str, str] = {}  # path → "hang" or "drip"
        self.connections = 0
        self.server_names: list[str | None] = []  # SNI of each TLS handshake
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self) -> None:
                with stand_in.lock:
                    stand_in.connections += 1
                super().setup()

            def do_POST(self) -> None:
                stand_in._handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls is not None:
            tls.sni_callback = lambda _sock, name, _ctx: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(
                self.server.socket, server_side=True, do_handshake_on_connect=False
            )
            scheme = "https"
        self.port = self.server.server_port
        self.base_url = f"{scheme}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> PushServiceStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()  # ends the hung and dripping answers
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.server.server_close()

    def new_browser(
        self,
        name: str,
        *answers: int,
        retry_after: str | None = None,
        location: str | None = None,
        base_url: str | None = None,
    ) -> FakeBrowser:
        """A subscription whose pushes get ``answers`` in turn (201 once the list is used up).
        ``base_url`` puts another origin in the endpoint (a real push service's name, say)."""
        path = f"/push/{name}"
        browser = FakeBrowser((base_url or self.base_url) + path)
        self.browsers[path] = browser
        headers = {"Retry-After": retry_after} if retry_after else {}
        if location:
            headers["Location"] = location
        self.scripts[path] = [(status, headers) for status in answers]
        return browser

    def hung_browser(self, name: str) -> FakeBrowser:
        """A subscription whose push service reads the request and never answers."""
        browser = self.new_browser(name)
        self.behaviours[browser_path(browser)] = "hang"
        return browser

    def flooding_browser(self, name: str) -> FakeBrowser:
        """A subscription whose push service answers 201 with an endless body, at full speed."""
        browser = self.new_browser(name)
        self.behaviours[browser_path(browser)] = "flood"
        return browser

    def dripping_browser(self, name: str) -> FakeBrowser:
        """A subscription whose push service answers one byte a second, for ever."""
        browser = self.new_browser(name)
        self.behaviours[browser_path(browser)] = "drip"
        return browser

    def delivered(self, name: str | None = None) -> list[Received]:
        return [
            r
            for r in self.received
            if r.status == 201 and (name is None or r.path.endswith("/" + name))
        ]

    def _verify_vapid(self, authorization: str, endpoint: str) -> dict:
        scheme, _, params = authorization.partition(" ")
        assert scheme.lower() == "vapid", "not a VAPID authorization"
        fields = dict(part.strip().split("=", 1) for part in params.split(","))
        header_b64, claims_b64, signature_b64 = fields["t"].split(".")
        header = json.loads(b64url_decode(header_b64))
        assert header == {"typ": "JWT", "alg": "ES256"} or header.get("alg") == "ES256", header
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), b64url_decode(fields["k"])
        )
        signature = b64url_decode(signature_b64)
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        public_key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        claims = json.loads(b64url_decode(claims_b64))
        parts = urlsplit(endpoint)
        assert claims["aud"] == f"{parts.scheme}://{parts.netloc}", claims
        assert time.time() < claims["exp"] <= time.time() + 24 * 3600, claims
        assert claims["sub"].startswith(("mailto:", "https://")), claims
        return claims

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length", 0)))
        path = request.path
        browser = self.browsers.get(path)
        record = Received(
            path,
            0,
            request.headers.get("TTL"),
            request.headers.get("Urgency"),
            request.headers.get("Topic"),
            None,
            None,
            arrived_at=time.monotonic(),
        )
        behaviour = self.behaviours.get(path)
        if behaviour:
            record.error = behaviour
            with self.lock:
                self.received.append(record)
            if behaviour == "drip":
                for byte in b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n" * 1000:
                    if self.stopping.wait(1.0):
                        break
                    try:
                        request.wfile.write(bytes([byte]))
                        request.wfile.flush()
                    except OSError:
                        break
            elif behaviour == "flood":
                head = b"HTTP/1.1 201 Created\r\nContent-Length: 1000000000000\r\n\r\n"
                try:
                    request.wfile.write(head)
                    while not self.stopping.is_set():
                        request.wfile.write(b"x" * 65536)
                except OSError:
                    pass  # the relay read enough and hung up
            self.stopping.wait()
            request.close_connection = True
            return
        try:
            record.jwt_claims = self._verify_vapid(
                request.headers.get("Authorization", ""),
                browser.endpoint if browser else self.base_url + path,
            )
            assert request.headers.get("Content-Encoding") == "aes128gcm"
            assert browser is not None, "unknown subscription"
            if len(body) > 4096:
                status, headers = 413, {}
            else:
                plaintext = http_ece.decrypt(
                    body,
                    private_key=browser.private_key,
                    auth_secret=browser.auth,
                    version="aes128gcm",
                )
                record.payload = json.loads(plaintext)
                with self.lock:
                    script = self.scripts.get(path) or []
                    status, headers = script.pop(0) if script else (201, {})
        except (AssertionError, InvalidSignature, KeyError, ValueError) as exc:
            record.error = f"{type(exc).__name__}: {exc}"
            status, headers = 400, {}
        record.status = status
        with self.lock:
            self.received.append(record)
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("Content-Length", "0")
        request.end_headers()


def browser_path(browser: FakeBrowser) -> str:
    return urlsplit(browser.endpoint).path

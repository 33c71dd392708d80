"""The app on a real HTTP server on a loopback port, and signing in to it over HTTP.

For tests that need real requests (HTTP clients, fuzzers, browsers) rather than the test client.
The server runs the test's own `app` (and so its database) in a thread.
"""

from __future__ import annotations

import threading

import requests
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.factories import PASSWORD, has_test_totp, totp_code
from tests.helpers import _CSRF_RE


class _QuietRequestHandler(WSGIRequestHandler):
    """No access-log line per request (a fuzzer sends hundreds); errors are still logged."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class LiveServer:
    """``with LiveServer(app) as server:`` serves ``app`` at ``server.url`` until the block ends."""

    def __init__(self, app: Flask, *, access_log: bool = True) -> None:
        self.app = app
        handler = WSGIRequestHandler if access_log else _QuietRequestHandler
        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def page_csrf_token(session: requests.Session, url: str) -> str:
    """The CSRF token of the page at ``url`` (every page carries one), fetched with ``session``."""
    response = session.get(url, timeout=10)
    assert response.status_code == 200, (url, response.status_code)
    match = _CSRF_RE.search(response.text)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def signed_in_session(
    base_url: str, email: str, password: str = PASSWORD, *, csrf_page: str = "/account"
) -> tuple[requests.Session, str]:
    """A requests session signed in as ``email`` through the login form, and the CSRF token of
    that session (for the ``X-CSRFToken`` header of JSON requests)."""
    session = requests.Session()
    token = page_csrf_token(session, f"{base_url}/login")
    response = session.post(
        f"{base_url}/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code in (302, 303), f"login as {email} failed: {response.status_code}"
    if response.headers["Location"].startswith("/login/factor") and has_test_totp(email):
        # Staff made by the factories: the authenticator-app step.
        token = page_csrf_token(session, f"{base_url}/login/factor")
        response = session.post(
            f"{base_url}/login/factor",
            data={"code": totp_code(email), "csrf_token": token},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, f"second factor of {email}: {response.status_code}"
    return session, page_csrf_token(session, f"{base_url}{csrf_page}")

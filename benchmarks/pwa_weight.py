"""The employee wallet's weight on the wire and its offline speed, in Debian's Chromium (issue 5).

    .venv/bin/python benchmarks/pwa_weight.py [--runs 15] [--certificates 3]

Prints (figures, not a test; exit status 1 when a target is missed):

1. Bytes on the wire: every response body exactly as the app sends it (compressed by the app,
   Flask-Compress, as the browser's Accept-Encoding allows), next to its size uncompressed
   (what was sent before the app compressed) and with brotli (the same body asked again with
   ``Accept-Encoding: br``); headers not counted:
   - the first load of the wallet after login, cold cache: the page, its CSS, JS, htmx, icons,
     the manifest and its icons (as an installing browser reads them), and the service worker
     with the app shell it precaches, each file counted once (target <= 60 KB);
   - one certificate page including its inline QR (target <= 15 KB), and its inspector view;
   - what the worker pre-fetches in the background after login (per current certificate).
2. The median time (navigation start to ``load``) to show a certificate page offline, from the
   service worker's cache, against online from the server (through the same worker, network
   first), interleaved over ``--runs`` runs, and the ratio offline / online. Reference: online
   with no service worker at all.

The app runs in this process on werkzeug's threaded server on loopback, with a throwaway SQLite
database; a WSGI wrapper records every response body the browser asks for (the worker's too).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import logging
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path

import brotli

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FIRST_LOAD_TARGET = 60 * 1024
CERTIFICATE_TARGET = 15 * 1024
PASSWORD = "benchmark wallet password"  # noqa: S105 (a throwaway database's only user)
EMAIL = "maria.fernandez@example.com"
# The worker says how many pages it pre-fetched once done (their number is the wallet's business).
PREFETCHED = re.compile(r"^\d+$")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]

# Navigation start to the end of the load event: the page, its QR and its styles are shown.
NAVIGATION_MS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  return {load: nav.loadEventEnd - nav.startTime, response: nav.responseEnd - nav.startTime,
          copy: (nav.serverTiming || []).some((t) => t.name === "a1w-copy")};
}"""
WAIT_FOR_CONTROLLER = """async () => {
  if (navigator.serviceWorker.controller) return true;
  await new Promise((resolve) => navigator.serviceWorker.addEventListener(
    "controllerchange", resolve, {once: true}));
  return true;
}"""


class Recorder:
    """WSGI wrapper: (method, path, status, body as sent, headers) of every response."""

    def __init__(self, flask_app, app: Callable) -> None:
        self.flask_app = flask_app
        self.app = app
        self.recording = False
        self.entries: list[tuple[str, str, int, bytes, dict[str, str]]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not self.recording:
            return self.app(environ, start_response)
        status: list[int] = []
        sent_headers: dict[str, str] = {}

        def recording_start(code: str, headers: list, exc_info: object = None) -> Callable:
            status.append(int(code.split()[0]))
            sent_headers.update((name.lower(), value) for name, value in headers)
            sent_headers["x-asked-encoding"] = environ.get("HTTP_ACCEPT_ENCODING", "")
            return start_response(code, headers, exc_info)

        result = self.app(environ, recording_start)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        path = environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        with self._lock:
            self.entries.append((environ["REQUEST_METHOD"], path, status[0], body, sent_headers))
        return [body]

    def take(self) -> list[tuple[str, str, int, bytes, dict[str, str]]]:
        with self._lock:
            entries, self.entries = self.entries, []
        return entries


def decoded(body: bytes, headers: dict[str, str]) -> bytes:
    encoding = headers.get("content-encoding")
    if encoding == "br":
        return brotli.decompress(body)
    if encoding == "gzip":
        return gzip.decompress(body)
    return body


def as_brotli(client, path: str, body: bytes, headers: dict[str, str]) -> int:
    """What the app sends an HTTPS browser (Accept-Encoding: br) for this body: asked again for
    the files everyone gets; for pages (personal, signed in) the app's own rule applied to the
    body (Flask-Compress: its mime types, its minimum size, its brotli level)."""
    app = client.application
    if path.startswith("/static/") or path == "/sw.js":
        response = client.get(path, headers={"Accept-Encoding": "br"})
        return len(response.get_data())
    mimetype = headers.get("content-type", "").split(";")[0]
    if (
        mimetype not in app.config["COMPRESS_MIMETYPES"]
        or len(body) < app.config["COMPRESS_MIN_SIZE"]
    ):
        return len(body)
    return len(brotli.compress(body, quality=app.config["COMPRESS_BR_LEVEL"]))


def make_app(workdir: Path):
    """The app on a fresh SQLite database, with one employee, a trip and current certificates."""
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from app import create_app

    return create_app(
        {
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
            "INSTANCE_PATH": str(workdir / "instance"),
            "SECRET_KEY": "benchmark",
            "PUBLIC_BASE_URL": "https://a1.example.eu",  # a realistic QR length
            "SESSION_COOKIE_SECURE": False,  # plain http on loopback
            "REMEMBER_COOKIE_SECURE": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "LOG_LEVEL": "WARNING",
        }
    )


def seed(app, certificates: int) -> list[str]:
    from flask_migrate import upgrade

    from web.auth.services import set_password
    from web.certificates.services import CertificateInput, issue_provisional_certificate
    from web.employees.services import create_employee, validate_employee_input
    from web.extensions import db
    from web.models import Company
    from web.trips.input import validate_trip_input
    from web.trips.services import create_trip

    today = date.today()
    with app.app_context():
        with contextlib.redirect_stderr(io.StringIO()):  # alembic's INFO lines
            upgrade()
        company = Company(name="Bench Bau GmbH", seat_state="DE")
        db.session.add(company)
        db.session.flush()
        employee = create_employee(
            company,
            validate_employee_input(
                {
                    "email": EMAIL,
                    "family_name": "Fernández García",
                    "given_names": "María Luisa",
                    "birth_date": "1987-03-14",
                    "nationality": "ES",
                    "residence_state": "DE",
                    "home_state": "DE",
                }
            ),
        )
        set_password(employee.user, PASSWORD)
        create_trip(
            employee,
            validate_trip_input(
                {
                    "destination_state": "FR",
                    "start_date": today - timedelta(days=2),
                    "end_date": today + timedelta(days=30),
                }
            ),
        )
        states = [["FR"], ["BE", "NL"], ["AT", "CH", "IT"]]
        ids = []
        for n in range(certificates):
            cert = issue_provisional_certificate(
                employee,
                CertificateInput(
                    "A1",
                    "DE",
                    states[n % len(states)],
                    today - timedelta(days=2) + timedelta(days=20 * n),
                    today + timedelta(days=60 + 20 * n),
                ),
                actor=None,
            )
            ids.append(cert.id)
        db.session.commit()
        db.engine.dispose()
    return ids


def chromium() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        raise SystemExit("Chromium is required (Debian: apt-get install -y chromium)")
    return path


def kb(n: float) -> str:
    return f"{n / 1024:7.1f} KB"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def weigh(browser, base_url: str, recorder: Recorder, cert_ids: list[str]) -> tuple[bool, list]:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=base_url)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    recorder.take()
    recorder.recording = True
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/wallet/")
    page.evaluate(WAIT_FOR_CONTROLLER)
    expect(page.locator("html")).to_have_attribute("data-prefetched", PREFETCHED)
    # An installing browser reads the manifest and its icons (headless Chromium does not ask).
    manifest = page.request.get(page.locator('link[rel="manifest"]').get_attribute("href"))
    for icon in manifest.json()["icons"]:
        page.request.get(icon["src"])
    first = recorder.take()

    # One certificate page and its inspector view as the server sends them.
    cert_url = f"/wallet/certificates/{cert_ids[0]}"
    page.goto(cert_url)
    page.goto(cert_url + "/inspector")
    later = recorder.take()
    recorder.recording = False
    context.close()

    # First load, cold cache: every distinct file once, at its full size; the login POST and
    # the pre-fetch (a page per current certificate, fetched in the background) apart.
    prefetch_paths = {"/wallet/"} | {
        p
        for c in cert_ids
        for p in (f"/wallet/certificates/{c}", f"/wallet/certificates/{c}/inspector")
    }
    files: dict[str, tuple[bytes, dict[str, str]]] = {}
    prefetched = home_again = 0
    seen_home = False
    client = recorder.flask_app.test_client()
    # The encodings the browser asked for, to fetch again what it had revalidated.
    asked = next((h["x-asked-encoding"] for *_, h in first if h.get("x-asked-encoding")), "")
    accept = {"Accept-Encoding": asked}
    for method, path, status, body, headers in first:
        if method != "GET" or status not in (200, 304):
            continue
        if path == "/wallet/" and not seen_home:
            seen_home = True  # the page itself; its second fetch is the worker's pre-fetch
        elif path == "/wallet/":
            home_again += len(body)
            continue
        elif path in prefetch_paths:
            prefetched += len(body)
            continue
        if status == 304 and path not in files:
            # Revalidated from what the login page loaded: cold, it comes whole (static files).
            response = client.get(path, headers=accept)
            body, headers = response.get_data(), {k.lower(): v for k, v in response.headers}
        files.setdefault(path, (body, headers))
    rows = sorted(
        (
            (
                p,
                len(decoded(b, h)),
                len(b),
                h.get("content-encoding", "-"),
                as_brotli(client, p, decoded(b, h), h),
            )
            for p, (b, h) in files.items()
        ),
        key=lambda r: -r[1],
    )
    raw_total = sum(r[1] for r in rows)
    first_total = sum(r[2] for r in rows)
    brotli_total = sum(r[4] for r in rows)
    pages = {
        path: body
        for method, path, status, body, headers in later
        if method == "GET" and status == 200
    }
    cert_wire = len(pages[cert_url])
    inspector_wire = len(pages[cert_url + "/inspector"])

    print(f"First load of the wallet after login (cold cache, {len(rows)} files, bodies only)")
    print(f"  {'file':52} {'raw':>10} {'on wire':>10} {'enc':>5} {'brotli':>10}")
    for path, raw, wire, encoding, packed in rows:
        print(f"  {path[:52]:52} {kb(raw):>10} {kb(wire):>10} {encoding:>5} {kb(packed):>10}")
    print(
        f"  {'total':52} {kb(raw_total):>10} {kb(first_total):>10} {'':>5} {kb(brotli_total):>10}"
    )
    print(
        f"  (raw: as sent before the app compressed; on wire: as sent to this Chromium, which"
        f" asked for {asked!r}; brotli: as sent to a browser that asks for br)"
    )
    print()
    results = [
        ("first load of the wallet (page + shell + worker)", first_total, FIRST_LOAD_TARGET),
        ("one certificate page, QR inline", cert_wire, CERTIFICATE_TARGET),
        ("its inspector view, QR inline (info)", inspector_wire, CERTIFICATE_TARGET),
    ]
    info = [
        (f"background pre-fetch: {len(cert_ids)} certificates, page + inspector", prefetched),
        ("  per current certificate", prefetched / max(len(cert_ids), 1)),
        ("background pre-fetch: the wallet page itself, again", home_again),
    ]
    return all(v <= t for _, v, t in results[:2]), [results, info]


def navigation_times(page, url: str) -> dict:
    page.goto(url)
    page.locator("svg.qr").wait_for()
    return page.evaluate(NAVIGATION_MS)


def race(browser, base_url: str, cert_ids: list[str], runs: int) -> dict[str, list[float]]:
    from playwright.sync_api import expect

    from tests.browser.conftest import sign_in

    # The seeded certificates are provisional: their page shows no QR until an authority asks,
    # so the race opens the inspector view, where the QR is.
    url = f"/wallet/certificates/{cert_ids[0]}/inspector"
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=base_url)
    page = context.new_page()
    sign_in(page, EMAIL, PASSWORD)
    page.evaluate(WAIT_FOR_CONTROLLER)
    expect(page.locator("html")).to_have_attribute("data-prefetched", PREFETCHED)

    plain = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=base_url, service_workers="block"
    )
    plain_page = plain.new_page()
    sign_in(plain_page, EMAIL, PASSWORD)

    times: dict[str, list[float]] = {"offline": [], "online": [], "no worker": []}
    for _ in range(2):  # warm-up: caches, JIT, the server's first renders
        navigation_times(page, url)
        navigation_times(plain_page, url)
    for _ in range(runs):
        online = navigation_times(page, url)
        assert not online["copy"], "online, the page must come from the server"
        times["online"].append(online["load"])
        context.set_offline(True)
        offline = navigation_times(page, url)
        assert offline["copy"], "offline, the page must come from the worker's cache"
        times["offline"].append(offline["load"])
        context.set_offline(False)
        times["no worker"].append(navigation_times(plain_page, url)["load"])
    context.close()
    plain.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--certificates", type=int, default=3)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from tests.live import LiveServer

    workdir = Path(tempfile.mkdtemp(prefix="a1w-pwa-bench-"))
    try:
        app = make_app(workdir)
        cert_ids = seed(app, args.certificates)
        for name in ("werkzeug", "alembic"):  # one line per request would drown the figures
            logging.getLogger(name).setLevel(logging.WARNING)
        recorder = Recorder(app, app.wsgi_app)
        app.wsgi_app = recorder
        with LiveServer(app, access_log=False) as server, sync_playwright() as playwright:
            base_url = server.url
            browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            weight_ok, (results, info) = weigh(browser, base_url, recorder, cert_ids)
            times = race(browser, base_url, cert_ids, args.runs)
            browser.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"{'bytes on the wire (as sent)':58} {'measured':>10} {'target':>10}")
    for label, value, target in results:
        print(
            f"  {label:56} {kb(value):>10} {'<=' + kb(target).strip():>10}"
            f"  {verdict(value <= target)}"
        )
    for label, value in info:
        print(f"  {label:56} {kb(value):>10}")
    print()
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"Certificate page shown (navigation start to load), median of {args.runs} runs, Chromium"
    )
    for name in ("offline", "online", "no worker"):
        values = sorted(times[name])
        source = {
            "offline": "offline, from the service worker's cache",
            "online": "online, from the server (through the worker, network first)",
            "no worker": "online, no service worker (reference)",
        }[name]
        print(f"  {source:62} {medians[name]:7.1f} ms  (min {values[0]:.1f}, max {values[-1]:.1f})")
    ratio = medians["offline"] / medians["online"]
    faster = ratio < 1
    print(
        f"  ratio offline / online: {ratio:.2f}  ({1 / ratio:.1f}x faster offline)"
        f"  {verdict(faster)}"
    )
    print(
        "  (targets: first load <= 60 KB, certificate page <= 15 KB; offline must not be slower"
        " than online)"
    )
    return 0 if weight_ok and faster else 1


if __name__ == "__main__":
    sys.exit(main())

"""The offline inspector verifier (/verify/scan) in Debian's Chromium.

Its JavaScript verifier (static/js/verify-core.js, WebCrypto) must answer exactly like the Python
reference verifier on every test vector, online and with the network cut (served by its own
service worker), and on real certificates issued by the app, read from pasted text or a photo.
"""

from __future__ import annotations

import datetime as dt
import json
import struct
import zlib
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import expect

import verifier
from tests.browser.conftest import save_screenshot

VECTORS_DIR = Path(__file__).resolve().parents[1] / "vectors"
VECTORS = sorted(VECTORS_DIR.glob("*.json"))
MIN_VECTORS = 30

# Resolves when a service worker controls the page (it claims its clients on activation).
WAIT_FOR_CONTROLLER = """async () => {
  if (navigator.serviceWorker.controller) return true;
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no service worker took control")), 15000);
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      clearTimeout(timer);
      resolve(true);
    }, { once: true });
  });
}"""

VERIFY_ALL = """async (vectors) => {
  const out = [];
  for (const v of vectors) {
    out.push(await window.A1W.verifyText(v.qr_text, v.keys, v.revoked, v.at));
  }
  return out;
}"""

# The code points the browser's verifier counts as not printable, as [first, last] ranges.
NON_PRINTABLE_RANGES = """() => {
  const ranges = [];
  let start = -1;
  for (let cp = 0; cp <= 0x110000; cp++) {
    const printable = cp === 0x110000 || window.A1W._isPrintableCodePoint(cp);
    if (!printable && start < 0) start = cp;
    if (printable && start >= 0) { ranges.push([start, cp - 1]); start = -1; }
  }
  return ranges;
}"""


# getUserMedia answered by a canvas that shows the QR code, redrawn so that frames keep coming.
FAKE_CAMERA = """(matrix) => {
  const scale = 5;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = matrix.length * scale;
  const g = canvas.getContext("2d");
  const draw = () => {
    g.fillStyle = "#fff";
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.fillStyle = "#000";
    matrix.forEach((row, y) => row.forEach((dark, x) => {
      if (dark) g.fillRect(x * scale, y * scale, scale, scale);
    }));
  };
  draw();
  setInterval(draw, 100);
  const stream = canvas.captureStream(10);
  const stop = MediaStreamTrack.prototype.stop;
  MediaStreamTrack.prototype.stop = function () {
    window.__cameraStopped = true;
    return stop.call(this);
  };
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    window.__cameraConstraints = constraints;
    return stream;
  };
}"""


# Fetch a /V/ answer and POST the typed lookup from the controlled page, then list the cache.
STORED_AFTER_ANSWERS = """async (path) => {
  const answers = [
    (await fetch(path)).status,
    (await fetch("/verify", {
      method: "POST",
      body: new URLSearchParams({ code: "AAAA-BBBB-CCCC", birth_date: "1980-01-01" }),
    })).status,
  ];
  const paths = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) paths.push(new URL(request.url).pathname);
  }
  return { answers, paths };
}"""


def _python_non_printable_ranges() -> list[list[int]]:
    ranges: list[list[int]] = []
    start = -1
    for cp in range(0x110001):
        printable = cp == 0x110000 or chr(cp).isprintable()
        if not printable and start < 0:
            start = cp
        if printable and start >= 0:
            ranges.append([start, cp - 1])
            start = -1
    return ranges


def _load_vectors() -> list[dict]:
    return [json.loads(path.read_text("utf-8")) for path in VECTORS]


def _python_result(vector: dict) -> dict:
    at = dt.datetime.fromisoformat(vector["at"].replace("Z", "+00:00"))
    result = verifier.verify_qr_text(
        vector["qr_text"],
        verifier.KeySet.from_document(vector["keys"]),
        verifier.RevocationSet.from_document(vector["revoked"]),
        at,
    )
    return result.to_json()


def _assert_agrees_on_every_vector(page) -> int:
    vectors = _load_vectors()
    assert len(vectors) >= MIN_VECTORS, f"only {len(vectors)} vectors in {VECTORS_DIR}"
    browser = page.evaluate(VERIFY_ALL, vectors)
    checked = 0
    for path, vector, got in zip(VECTORS, vectors, browser, strict=True):
        python = _python_result(vector)
        name = path.name
        assert got["status"] == python["status"] == vector["expected_status"], (name, got, python)
        assert got["kid"] == python["kid"] == vector["expected_kid"], (name, got, python)
        assert got["claims"] == python.get("claims") == vector.get("expected_claims"), name
        checked += 1
    assert checked >= MIN_VECTORS
    return checked


# The browser's own update check of the service worker script: Chromium makes it on a navigation
# even with the network emulated as cut (offline emulation does not cover the worker's update), and
# its answer changes nothing the page shows. Everything else must stay silent.
WORKER_UPDATE_CHECK = "/verify/sw.js"


def _count_requests(app) -> list[str]:
    """Paths the live server answers from now on (the network cut must leave it silent)."""
    seen: list[str] = []
    inner = app.wsgi_app

    def counting(environ, start_response):
        if environ.get("PATH_INFO", "") != WORKER_UPDATE_CHECK:
            seen.append(environ.get("PATH_INFO", ""))
        return inner(environ, start_response)

    app.wsgi_app = counting
    return seen


def _open_scan_page(page, path: str = "/verify/scan") -> None:
    page.goto(path)
    expect(page.locator("#scan")).to_have_attribute("data-ready", "true")


def _png(matrix: list[list[bool]], scale: int = 4) -> bytes:
    """A greyscale PNG of a QR matrix (quiet zone included), `scale` pixels per module."""
    rows = b"".join(
        b"\x00" + bytes(0 if dark else 255 for dark in row for _ in range(scale))
        for row in matrix
        for _ in range(scale)
    )
    side = len(matrix) * scale

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _issue_certificate(app, data) -> str:
    """A provisional certificate issued by the app; returns its id."""
    from web.certificates.services import CertificateInput, issue_provisional_certificate
    from web.extensions import db
    from web.models import Employee

    employee_id = data.employee(
        data.company("Scan GmbH"),
        family_name="Wiśniewska-Müller",
        given_names="Zofia Anna",
        birth_date="1986-07-14",
    )
    today = date.today()
    with app.app_context():
        certificate = issue_provisional_certificate(
            db.session.get(Employee, employee_id),
            CertificateInput(
                "A1", "PL", ["DE", "FR"], today - timedelta(days=3), today + timedelta(days=60)
            ),
            actor=None,
        )
        db.session.commit()
        return certificate.id


def _certificate(app, certificate_id: str):
    from web.extensions import db
    from web.models import Certificate

    with app.app_context():
        certificate = db.session.get(Certificate, certificate_id)
        db.session.expunge(certificate)
        return certificate


def _check_text(page, text: str) -> None:
    page.get_by_label("Or paste the text of the QR code").fill(text)
    page.get_by_role("button", name="Check this text").click()


def test_browser_verifier_agrees_with_python_online_and_offline(page, app, live_server):
    _open_scan_page(page)
    expect(page.get_by_role("heading", name="Scan a certificate")).to_be_visible()
    online = _assert_agrees_on_every_vector(page)

    # The names rule (str.isprintable) is the same table on both sides, code point for code point.
    assert page.evaluate(NON_PRINTABLE_RANGES) == _python_non_printable_ranges()

    # The service worker takes over; then the network is cut and the page still loads from it.
    assert page.evaluate(WAIT_FOR_CONTROLLER) is True
    requests = _count_requests(app)
    page.context.set_offline(True)
    page.reload()
    expect(page.locator("#scan")).to_have_attribute("data-ready", "true")
    expect(page.get_by_role("heading", name="Scan a certificate")).to_be_visible()
    assert page.evaluate("() => navigator.onLine") is False
    assert page.evaluate("() => Boolean(navigator.serviceWorker.controller)") is True
    offline = _assert_agrees_on_every_vector(page)
    assert offline == online == len(VECTORS)
    assert requests == [], f"the server was reached with the network cut: {requests}"

    # What the worker keeps: the page, its files and the public lists, never an answer.
    cached = page.evaluate(
        """async () => {
          const names = await caches.keys();
          const cache = await caches.open(names.find((n) => n.startsWith("a1w-verify-")));
          return (await cache.keys()).map((r) => new URL(r.url).pathname);
        }"""
    )
    for path in (
        "/verify/scan",
        "/static/css/verify.css",
        "/static/js/verify-core.js",
        "/static/vendor/jsqr-1.4.0.js",
        "/verify/keys.json",
        "/verify/revoked.json",
    ):
        assert path in cached
    assert not any(path.startswith(("/V/", "/v/")) for path in cached)

    # Keys whose last refresh is faked to 25 hours ago: the page warns, and says it is offline.
    page.evaluate(
        """() => {
          const saved = JSON.parse(localStorage.getItem("a1w-verify-lists"));
          saved.fetchedAt = Date.now() - 25 * 3600 * 1000;
          localStorage.setItem("a1w-verify-lists", JSON.stringify(saved));
        }"""
    )
    page.reload()
    expect(page.locator("#scan")).to_have_attribute("data-ready", "true")
    expect(page.locator("#stale-warning")).to_be_visible()
    expect(page.locator("#stale-warning")).to_contain_text("more than 24 hours old")
    expect(page.locator("#lists-offline")).to_be_visible()
    expect(page.locator("#clock-warning")).to_be_hidden()
    save_screenshot(page, "verify-scan-offline-stale")
    assert requests == []
    assert page.console_errors == [], page.console_errors


def test_issued_certificate_valid_online_offline_and_from_a_photo_then_withdrawn(
    page, app, data, live_server
):
    from web.certificates.qr import qr_matrix
    from web.certificates.services import revoke_certificate
    from web.extensions import db
    from web.models import Certificate

    certificate_id = _issue_certificate(app, data)
    text = _certificate(app, certificate_id).qr_text
    assert text.startswith(live_server.url.upper() + "/V/")

    _open_scan_page(page)
    expect(page.locator("#stale-warning")).to_be_hidden()
    expect(page.locator("#clock-warning")).to_be_hidden()
    expect(page.locator("#lists-age")).to_contain_text("Keys last refreshed")

    # The server's own lists, as the page downloaded them: the same answer as Python's.
    saved = page.evaluate("() => JSON.parse(localStorage.getItem('a1w-verify-lists'))")
    python = verifier.verify_qr_text(
        text,
        verifier.KeySet.from_document(saved["keys"]),
        verifier.RevocationSet.from_document(saved["revoked"]),
    ).to_json()
    browser = page.evaluate(
        "([text, keys, revoked]) => window.A1W.verifyText(text, keys, revoked, new Date())",
        [text, saved["keys"], saved["revoked"]],
    )
    assert browser["status"] == python["status"] == "valid"
    assert browser["claims"] == python["claims"]
    assert browser["claims"]["certificate_id"] == certificate_id

    _check_text(page, text)
    answer = page.locator("#scan-result .answer")
    expect(answer).to_have_attribute("data-state", "valid_provisional")
    expect(page.get_by_role("heading", name="Valid — provisional certificate")).to_be_visible()
    expect(answer).to_have_class("answer answer-ok")
    result = page.locator("#scan-result")
    expect(result).to_contain_text("Wiśniewska-Müller")
    expect(result).to_contain_text(f"({browser['claims']['family_name_ascii']})")
    expect(result).to_contain_text("Zofia Anna")
    expect(result).to_contain_text("July 14, 1986")
    expect(result).to_contain_text("Poland (PL)")
    expect(result).to_contain_text("Germany (DE), France (FR)")
    expect(result).to_contain_text(
        "Provisional statement of social security coverage — not an A1 certificate"
    )
    expect(result).not_to_contain_text("Portable Document A1")
    expect(page.get_by_role("link", name="Type the verification code instead")).to_be_hidden()
    expect(result).to_contain_text("What a provisional certificate is")
    expect(result).to_contain_text("contributions in Poland during this work")
    save_screenshot(page, "verify-scan-valid")

    # The photo path: a PNG of the certificate's QR code (4 px per module) on the file input.
    page.get_by_label("Or paste the text of the QR code").fill("")
    page.evaluate("() => document.getElementById('scan-result').replaceChildren()")
    png = _png(qr_matrix(text))
    page.get_by_label("Take or choose a photo").set_input_files(
        {"name": "qr.png", "mimeType": "image/png", "buffer": png}
    )
    expect(page.get_by_role("heading", name="Valid — provisional certificate")).to_be_visible()
    expect(result).to_contain_text("Wiśniewska-Müller")

    # The camera path, with a fake rear camera filming the QR code (a canvas stream). Debian's
    # Chromium has no BarcodeDetector, so the frames go through jsQR.
    page.evaluate("() => document.getElementById('scan-result').replaceChildren()")
    page.evaluate(FAKE_CAMERA, qr_matrix(text))
    page.get_by_role("button", name="Scan with the camera").click()
    expect(page.get_by_role("heading", name="Valid — provisional certificate")).to_be_visible()
    expect(page.locator("#camera-video")).to_be_hidden()
    assert page.evaluate("() => window.__cameraStopped") is True
    constraints = page.evaluate("() => window.__cameraConstraints")
    assert constraints["video"]["facingMode"] == {"ideal": "environment"}  # the rear camera

    # A photo without a QR code says so, and shows no answer.
    page.evaluate("() => document.getElementById('scan-result').replaceChildren()")
    page.get_by_label("Take or choose a photo").set_input_files(
        {"name": "blank.png", "mimeType": "image/png", "buffer": _png([[False] * 30] * 30)}
    )
    expect(page.locator("#scan-progress")).to_contain_text("No QR code was found")
    expect(page.locator("#scan-result .answer")).to_have_count(0)

    # Offline, from the service worker's copy and the saved lists: still valid.
    assert page.evaluate(WAIT_FOR_CONTROLLER) is True
    # The worker never stores an answer about a person: not /V/..., not the typed lookup.
    assert page.console_errors == [], page.console_errors
    stored = page.evaluate(STORED_AFTER_ANSWERS, "/V/" + text.split("/V/", 1)[1])
    assert stored["answers"] == [200, 404]
    assert len(page.console_errors) == 1 and "404" in page.console_errors[0]  # the wrong code
    page.console_errors.clear()
    assert not any(path.startswith(("/V/", "/v/")) or path == "/verify" for path in stored["paths"])
    page.context.set_offline(True)
    page.reload()
    expect(page.locator("#scan")).to_have_attribute("data-ready", "true")
    expect(page.locator("#lists-offline")).to_be_visible()
    _check_text(page, text)
    expect(page.get_by_role("heading", name="Valid — provisional certificate")).to_be_visible()
    page.get_by_label("Take or choose a photo").set_input_files(
        {"name": "qr.png", "mimeType": "image/png", "buffer": png}
    )
    expect(page.get_by_role("heading", name="Valid — provisional certificate")).to_be_visible()

    # Garbage is not readable (scan again or type the code), never "not genuine".
    _check_text(page, "hello world")
    expect(page.get_by_role("heading", name="Not readable")).to_be_visible()
    expect(page.locator("#scan-result .answer")).to_have_attribute("data-state", "not_readable")
    expect(page.get_by_role("link", name="Type the verification code instead")).to_be_visible()

    # A tampered text is not genuine, and shows no holder data.
    tampered = text[:-10] + ("A" if text[-10] != "A" else "B") + text[-9:]
    _check_text(page, tampered)
    expect(page.get_by_role("heading", name="Not genuine")).to_be_visible()
    expect(page.locator("#scan-result .answer")).to_have_class("answer answer-bad")
    expect(result).not_to_contain_text("Wiśniewska")

    # Back online, the certificate is withdrawn: after the lists refresh, the answer says so.
    page.context.set_offline(False)
    _check_text(page, text)
    expect(page.get_by_role("heading", name="Valid — provisional certificate")).to_be_visible()
    with app.app_context():
        revoke_certificate(
            db.session.get(Certificate, certificate_id), "issued in error", actor=None
        )
        db.session.commit()
    page.get_by_role("button", name="Refresh the keys now").click()
    expect(page.get_by_role("heading", name="Withdrawn")).to_be_visible()
    expect(answer).to_have_attribute("data-state", "withdrawn")
    expect(page.locator("#lists-offline")).to_be_hidden()
    save_screenshot(page, "verify-scan-withdrawn")
    assert page.console_errors == [], page.console_errors


def test_official_record_signed_by_the_provisional_key_is_not_genuine(page, app, data, live_server):
    """Issue 12's forged "official": a genuine signature, but by the key that signs provisional
    statements. The offline verifier refuses it with the server's own lists, like /V/."""
    from web.certificates.keys import active_signing_key, private_key_of
    from web.certificates.services import claims_for
    from web.extensions import db
    from web.models import Certificate, CertificateStatus

    employee_id = data.employee(
        data.company("Forgery GmbH"), family_name="Invented", given_names="Institution"
    )
    certificate_id = data.certificate(employee_id, kind="official").id
    with app.app_context():
        certificate = db.session.get(Certificate, certificate_id)
        certificate.status = CertificateStatus.ACTIVE.value
        key = active_signing_key("provisional")
        forged = verifier.qr_text(
            verifier.sign_certificate(claims_for(certificate), private_key_of(key)),
            live_server.url,
        )
        certificate.qr_text, certificate.signing_kid = forged, key.kid
        active_signing_key("official")  # both classes published, as in production
        kid = key.kid
        db.session.commit()

    _open_scan_page(page)
    saved = page.evaluate("() => JSON.parse(localStorage.getItem('a1w-verify-lists'))")
    assert sorted(k["document_class"] for k in saved["keys"]["keys"]) == ["official", "provisional"]
    browser = page.evaluate(
        "([text, keys, revoked]) => window.A1W.verifyText(text, keys, revoked, new Date())",
        [forged, saved["keys"], saved["revoked"]],
    )
    python = verifier.verify_qr_text(
        forged,
        verifier.KeySet.from_document(saved["keys"]),
        verifier.RevocationSet.from_document(saved["revoked"]),
    ).to_json()
    assert browser == {"status": "kind_mismatch", "kid": kid, "claims": None}
    assert python == {"status": "kind_mismatch", "kid": kid}

    _check_text(page, forged)
    answer = page.locator("#scan-result .answer")
    expect(page.get_by_role("heading", name="Not genuine")).to_be_visible()
    expect(answer).to_have_attribute("data-status", "kind_mismatch")
    expect(answer).to_have_class("answer answer-bad")
    result = page.locator("#scan-result")
    expect(result).to_contain_text("may not sign this kind of certificate")
    expect(result).to_contain_text("kind_mismatch")
    expect(result).not_to_contain_text("Invented")
    save_screenshot(page, "verify-scan-kind-mismatch")

    # The page a phone camera opens says the same.
    page.goto("/V/" + forged.split("/V/", 1)[1])
    expect(page.get_by_role("heading", name="Not genuine")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Invented")
    assert page.console_errors == [], page.console_errors


def test_clock_warning_when_the_device_clock_is_off(page, live_server):
    # The device's clock runs 10 minutes ahead of the server's.
    page.add_init_script(
        "(() => { const now = Date.now.bind(Date); Date.now = () => now() + 10 * 60 * 1000; })()"
    )
    _open_scan_page(page, "/verify/scan?lang=de")
    expect(page.locator("#clock-warning")).to_be_visible()
    expect(page.locator("#stale-warning")).to_be_hidden()
    assert page.evaluate("() => document.documentElement.lang") == "de"
    save_screenshot(page, "verify-scan-clock-warning")
    assert page.console_errors == [], page.console_errors

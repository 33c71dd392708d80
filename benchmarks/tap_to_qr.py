"""Tap-to-QR-visible of "An authority is asking", offline, on a throttled phone.

    .venv/bin/python benchmarks/tap_to_qr.py [--taps 20] [--throttle 4]

Debian's Chromium (Playwright) at 320×568, the network cut and the CPU slowed down 4× (CDP
`Emulation.setCPUThrottlingRate`, a mid-range phone). The clock starts at the tap on the wallet's
button and stops when the inspector view's QR is visible with its full box (the page comes from
the service worker's copy; the tap first writes the alert into IndexedDB). The floor is the same
gesture on a link to a static page the worker keeps in its app shell (`/offline`), timed in the
same loop, alternating with the taps. Prints p50 and p99 of both and their ratio.
The server is gunicorn on loopback with a throwaway SQLite database (BENCH_DATABASE_URL for
PostgreSQL): it is only needed to sign in and fill the phone's cache before the network goes.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._server import (
    Gunicorn,
    bench_env,
    employee_on_a_trip,
    flask_cli,
    free_port,
    percentile,
    workdir,
)

EMPLOYEE = "bench.tap@example.com"
PASSWORD = "benchmark password 1"  # noqa: S105 (a throwaway database's only employee)
VIEWPORT = {"width": 320, "height": 568}
WARM_UP = 3
BUTTON = "An authority is asking"

# A link to the static offline page, made like the wallet's own links (the CSP forbids inline
# script; Playwright's evaluate is not page script).
ADD_STATIC_LINK = """() => {
  const link = document.createElement("a");
  link.href = "/offline"; link.id = "bench-static"; link.textContent = "static";
  document.querySelector("main").prepend(link);
}"""

# The QR's whole box inside the viewport.
QR_IN_VIEW = """() => {
  const qr = document.querySelector("svg.qr");
  if (!qr) return false;
  const r = qr.getBoundingClientRect();
  return r.width > 100 && r.top >= 0 && r.bottom <= window.innerHeight;
}"""


def prepare(env: dict[str, str]) -> None:
    start, end = employee_on_a_trip(env, EMPLOYEE, PASSWORD, "Wiśniewska", "Zofia")
    flask_cli(
        env, "certificates", "issue", "--employee", EMPLOYEE, "--type", "A1",
        "--kind", "provisional", "--legislation-state", "DE", "--work-states", "FR",
        "--valid-from", start, "--valid-to", end,
    )  # fmt: skip


def measure(base_url: str, taps: int, throttle: float) -> tuple[list[float], list[float]]:
    from playwright.sync_api import expect, sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS, chromium_path

    tap_ms: list[float] = []
    static_ms: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=base_url, viewport=VIEWPORT)
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(EMPLOYEE)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/wallet/")
        # The worker controls the page and has kept the certificates.
        expect(page.locator("html")).to_have_attribute(
            "data-prefetched", re.compile(r"^1\d$"), timeout=30_000
        )
        page.reload()
        context.set_offline(True)
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
        qr_in_view = page.locator("svg.qr")

        for round_ in range(WARM_UP + taps):
            page.goto("/wallet/")
            button = page.get_by_role("link", name=BUTTON)
            expect(button).to_be_visible()
            started = time.perf_counter()
            button.click()
            qr_in_view.wait_for(state="visible")
            while not page.evaluate(QR_IN_VIEW):
                time.sleep(0.002)
            tapped = (time.perf_counter() - started) * 1000

            page.goto("/wallet/")
            page.evaluate(ADD_STATIC_LINK)
            link = page.locator("#bench-static")
            started = time.perf_counter()
            link.click()
            page.get_by_role("heading", name="No network").wait_for(state="visible")
            opened = (time.perf_counter() - started) * 1000
            if round_ >= WARM_UP:
                tap_ms.append(tapped)
                static_ms.append(opened)
        browser.close()
    return tap_ms, static_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--taps", type=int, default=20)
    parser.add_argument("--throttle", type=float, default=4)
    args = parser.parse_args()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = bench_env(workdir(), PUBLIC_BASE_URL=base_url)
    prepare(env)
    os.environ.update(env)
    with Gunicorn(env, port=port, app="benchmarks.bench_app:create_bench_app()",
                  ready_path="/bench/bare"):  # fmt: skip
        taps, static = measure(base_url, args.taps, args.throttle)
    print(
        f"offline, CPU throttled {args.throttle:g}x, {VIEWPORT['width']}x{VIEWPORT['height']}, "
        f"{len(taps)} taps"
    )
    for name, values in (("tap to QR visible", taps), ("cached static page", static)):
        print(
            f"  {name:20s} p50 {statistics.median(values):7.1f} ms   "
            f"p99 {percentile(values, 0.99):7.1f} ms"
        )
    print(
        f"  ratio (tap / static) p50 {statistics.median(taps) / statistics.median(static):.2f}x"
        f"   p99 {percentile(taps, 0.99) / percentile(static, 0.99):.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

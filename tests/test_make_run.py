"""`make run` on a fresh clone: within 60 s the web answers; an alert tapped in the wallet goes
through the relay to a loopback push service; an unacknowledged alert escalates (the scheduler);
Ctrl-C stops all three processes. The venv is made offline (tests/fresh_clone.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import requests

from tests.fresh_clone import clone_worktree, offline_venv, pip_env
from tests.live import signed_in_session
from tests.push_service import PushServiceStandIn

DEMO_PASSWORD = "demo-password-2026"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, seconds: float, what: str, log: Path) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            raise AssertionError(
                f"{what} not within {seconds} s; make run said:\n" + log.read_text()[-4000:]
            )
        time.sleep(0.25)
    return time.monotonic() - started


def processes_in(folder: Path) -> list[int]:
    """Pids of the processes working in ``folder`` (what make run started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")) == folder:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def subscribe(clone: Path, email: str, subscription: dict) -> None:
    from sqlalchemy import select

    from app import create_app
    from web.extensions import db
    from web.models import PushSubscription, User
    from web.push.services import endpoint_hash

    instance = clone / "instance"
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{instance / 'a1wallet.sqlite3'}",
            "INSTANCE_PATH": str(instance),
        }
    )
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        endpoint = subscription["endpoint"]
        db.session.add(
            PushSubscription(
                user_id=user.id,
                endpoint=endpoint,
                endpoint_hash=endpoint_hash(endpoint),
                p256dh=subscription["keys"]["p256dh"],
                auth=subscription["keys"]["auth"],
                device_label="test phone",
            )
        )
        db.session.commit()
        db.engine.dispose()


def test_make_run_starts_web_relay_and_scheduler(tmp_path: Path) -> None:
    started = time.monotonic()
    clone = clone_worktree(tmp_path / "a1wallet")
    offline_venv(clone / ".venv")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "make-run.log"
    with PushServiceStandIn() as push_service:
        env = pip_env(
            PORT=str(port),
            PUBLIC_BASE_URL=base,
            VAPID_SUBJECT="mailto:ops@a1wallet.eu",
            # The stand-in is on loopback, allowed only because PUBLIC_BASE_URL is too.
            PUSH_ALLOW_LOOPBACK_ENDPOINTS="1",
            INCIDENT_ESCALATE_MINUTES="0.05",  # 3 s
            ESCALATION_CHECK_SECONDS="2",
        )
        for name in ("DATABASE_URL", "A1W_INSTANCE_PATH", "TEST_DATABASE_URL", "VIRTUAL_ENV"):
            env.pop(name, None)
        with log.open("w") as out:
            make = subprocess.Popen(
                ["make", "run"],
                cwd=clone,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:

            def web_answers() -> bool:
                assert make.poll() is None, log.read_text()[-4000:]
                try:
                    return requests.get(f"{base}/healthz", timeout=2).status_code == 200
                except requests.RequestException:
                    return False

            wait_for(web_answers, 60, "the web server", log)
            ready = time.monotonic() - started
            assert ready < 60

            # The support agent's phone subscribes (written as the subscribe view would: the
            # demo's support agent must first add a second factor to use the console).
            browser = push_service.new_browser("support")
            subscribe(clone, "support@a1wallet.example", browser.subscription_json())
            anna, anna_token = signed_in_session(
                base, "anna.mueller@nordwind.example", DEMO_PASSWORD
            )
            tapped = anna.post(
                f"{base}/ask",
                json={},
                headers={
                    "X-CSRFToken": anna_token,
                    "Idempotency-Key": str(uuid.uuid4()),
                    "Accept": "application/json",
                },
                timeout=10,
            )
            assert tapped.status_code == 201, tapped.text

            def titles() -> list[str]:
                return [r.payload["title"] for r in push_service.delivered("support")]

            wait_for(
                lambda: any("asking" in t and "Unanswered" not in t for t in titles()),
                20,
                "the alert",
                log,
            )
            alert = push_service.delivered("support")[0]
            assert alert.urgency == "high"
            wait_for(lambda: any("Unanswered" in t for t in titles()), 30, "the escalation", log)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(make.pid, signal.SIGINT)  # Ctrl-C in the terminal
            try:
                make.wait(timeout=20)
            finally:
                leftovers = processes_in(clone)
                for pid in leftovers:
                    os.kill(pid, signal.SIGKILL)
    output = log.read_text()
    assert leftovers == [], output[-3000:]
    for process in ("web.1", "relay.1", "scheduler.1"):
        assert f"{process} " in output and "| " in output, process  # labelled, interleaved
    assert "scheduler started: escalate every 0.5 s" in output or "scheduler started" in output
    print(f"make run on a fresh clone: web answering after {ready:.1f} s")

"""The production path from a fresh clone, as docs/deploy.md gives it: `python -m venv`,
`pip install .`, `flask db upgrade`, `gunicorn 'app:create_app()'`; no `make`, so no compiled
catalogue. The inspector pages must still speak French and Polish."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import requests
from babel.messages.pofile import read_po

from tests.fresh_clone import clone_worktree, offline_venv, pip_env
from tests.gunicorn_server import Gunicorn, free_port

HEADING = "Check a certificate by its code"  # templates/verify/lookup.html


def translated(clone: Path, language: str) -> str:
    with (clone / "translations" / language / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        message = read_po(fh)[HEADING]
    assert message is not None and message.string, (language, HEADING)
    return message.string


def test_pip_install_then_gunicorn_serves_french_and_polish(
    tmp_path: Path, database_url: str
) -> None:
    """On the suite's database (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""
    started = time.monotonic()
    clone = clone_worktree(tmp_path / "a1wallet")
    assert not list(clone.glob("translations/*/LC_MESSAGES/*.mo"))  # a clone has none
    venv = offline_venv(clone / ".venv")
    port = free_port()
    env = pip_env(
        DATABASE_URL=database_url,
        A1W_INSTANCE_PATH=str(tmp_path / "instance"),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        LOG_LEVEL="WARNING",
    )
    run = {"cwd": clone, "env": env, "check": True, "capture_output": True, "timeout": 120}
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "."], **run)
    subprocess.run([str(venv / "bin" / "flask"), "--app", "app", "db", "upgrade"], **run)
    with Gunicorn(
        env,
        port=port,
        program=[str(venv / "bin" / "gunicorn")],
        cwd=clone,
        ready_path="/healthz",
        log=tmp_path / "gunicorn.log",
    ) as server:
        base = server.url
        for language in ("fr", "pl"):
            page = requests.get(f"{base}/verify", params={"lang": language}, timeout=10)
            assert page.status_code == 200
            assert f'lang="{language}"' in page.text
            assert translated(clone, language) in page.text, language
            assert HEADING not in page.text
    compiled = sorted(p.parent.parent.name for p in clone.glob("translations/*/LC_MESSAGES/*.mo"))
    assert compiled == ["de", "es", "fr", "it", "nl", "pl"]
    elapsed = time.monotonic() - started
    print(f"fresh clone, venv, pip install ., db upgrade, gunicorn, two pages: {elapsed:.1f} s")
    assert elapsed < 60

"""Static analysis as part of the suite, so `make test` and CI run it: bandit (security) finds
nothing of medium or high severity in the application code, and ruff's lint is clean.

A false positive is silenced on its own line with `# nosec BXXX - reason`; [tool.bandit] in
pyproject.toml skips no test.
"""

from __future__ import annotations

import json
import subprocess
import sys

from web.config import PROJECT_ROOT

BANDIT_TARGETS = ["app.py", "web", "verifier"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_bandit_finds_no_medium_or_high_issue():
    result = _run(
        "bandit",
        "-c",
        "pyproject.toml",
        "-ll",  # medium severity and above, any confidence
        "-q",
        "-f",
        "json",
        "-r",
        *BANDIT_TARGETS,
    )
    assert result.stdout.strip(), f"bandit printed nothing: {result.stderr}"
    report = json.loads(result.stdout)
    assert report["errors"] == [], report["errors"]  # a file bandit could not parse
    findings = [
        f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_severity']}: "
        f"{r['issue_text']}"
        for r in report["results"]
    ]
    assert findings == [], "\n".join(findings)
    assert result.returncode == 0, result.stderr
    scanned = report["metrics"]["_totals"]["loc"]
    assert scanned > 5000, f"bandit scanned only {scanned} lines: wrong targets?"


def test_ruff_check_is_clean():
    result = _run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr

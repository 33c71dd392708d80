"""verifier stands alone: importing it pulls in no Flask, no database, nothing of the web app."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("flask", "flask_sqlalchemy", "sqlalchemy", "werkzeug", "jinja2", "psycopg", "web")
ALLOWED_THIRD_PARTY = {"cryptography", "cbor2"}


def test_importing_verifier_imports_no_flask_or_database() -> None:
    code = (
        "import json, sys\n"
        "import verifier, verifier.__main__\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    modules = json.loads(done.stdout)
    assert "verifier" in modules and "cbor2" in modules  # the probe really imported it
    loaded = sorted(m for m in modules if m.split(".")[0] in FORBIDDEN)
    assert loaded == []


def test_verifier_source_imports_only_the_standard_library_cryptography_and_cbor2() -> None:
    files = sorted((ROOT / "verifier").glob("*.py"))
    assert len(files) >= 5
    outside = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ALLOWED_THIRD_PARTY:
                    outside.add(f"{path.name}: {name}")
    assert outside == set()

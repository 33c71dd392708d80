"""A fresh clone of this working tree and a virtual environment for it, built offline.

`git ls-files` (tracked and new, never ignored files: no compiled catalogues, no instance/) is
copied to a temporary folder, as `git clone` would give it. The virtual environment is a real
`python -m venv`; instead of downloading the dependencies again, it sees the ones already
installed in this project's .venv through a .pth file (a folder of links to them, without this
project itself), so `pip install --no-index --no-build-isolation .` resolves every dependency
offline and installs the project as the guide says. Console scripts of the dependencies (flask,
gunicorn, honcho, pybabel) are not created by such an install: small launchers stand in for them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAUNCHERS = {
    "flask": "flask.cli:main",
    "gunicorn": "gunicorn.app.wsgiapp:run",
    "honcho": "honcho.command:main",
    "pybabel": "babel.messages.frontend:main",
}
# pip reads its options from the environment too: offline, with the build tools at hand.
OFFLINE_PIP = {
    "PIP_NO_INDEX": "1",
    "PIP_NO_BUILD_ISOLATION": "0",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}


def clone_worktree(dest: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / os.fsdecode(name)
        if not source.is_file():  # deleted in the working tree
            continue
        target = dest / os.fsdecode(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return dest


def offline_venv(dest: Path) -> Path:
    """``python -m venv dest`` that sees the installed dependencies (not this project)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(dest)], check=True)
    installed = Path(sysconfig.get_paths()["purelib"])
    shared = dest / "shared-site"
    shared.mkdir()
    for entry in installed.iterdir():
        name = entry.name.lower()
        if "a1_wallet" in name or "a1-wallet" in name or name.endswith(".pth"):
            continue
        (shared / entry.name).symlink_to(entry)
    python = dest / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "a1w_shared_dependencies.pth").write_text(f"{shared}\n")
    for script, target in LAUNCHERS.items():
        module, function = target.split(":")
        launcher = dest / "bin" / script
        launcher.write_text(
            f"#!{python}\nimport sys\nfrom {module} import {function}\nsys.exit({function}())\n"
        )
        launcher.chmod(0o755)
    return dest


def pip_env(**extra: str) -> dict[str, str]:
    return {**os.environ, **OFFLINE_PIP, **extra}

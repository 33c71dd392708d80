"""Languages cannot go missing: the app compiles a missing or stale catalogue at start, and
refuses to start, saying what to run, when a configured language has none."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from app import create_app
from tests.conftest import base_config
from web.config import PROJECT_ROOT
from web.extensions import db
from web.i18n import CatalogueError


def copy_catalogues(dest: Path, *, without: str | None = None) -> Path:
    """The .po files of the repository, without compiled .mo (as in a fresh clone)."""
    for po in (PROJECT_ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        language = po.parent.parent.name
        if language == without:
            continue
        target = dest / language / "LC_MESSAGES" / "messages.po"
        target.parent.mkdir(parents=True)
        shutil.copy2(po, target)
    return dest


def make_app(tmp_path: Path, database_url: str, translations: Path):
    return create_app(
        {**base_config(tmp_path, database_url), "TRANSLATIONS_PATH": str(translations)}
    )


def test_missing_catalogues_are_compiled_at_start(tmp_path, database_url) -> None:
    translations = copy_catalogues(tmp_path / "translations")
    app = make_app(tmp_path, database_url, translations)
    compiled = sorted(p.parent.parent.name for p in translations.glob("*/LC_MESSAGES/*.mo"))
    assert compiled == ["de", "es", "fr", "it", "nl", "pl"]
    page = app.test_client().get("/verify?lang=pl").get_data(as_text=True)
    assert "Check a certificate by its code" not in page
    assert 'lang="pl"' in page
    with app.app_context():
        db.engine.dispose()


def test_a_stale_catalogue_is_compiled_again(tmp_path, database_url) -> None:
    translations = copy_catalogues(tmp_path / "translations")
    make_app(tmp_path, database_url, translations)
    mo = translations / "fr" / "LC_MESSAGES" / "messages.mo"
    mo.write_bytes(b"")  # stands for a catalogue compiled before the .po changed
    (translations / "fr" / "LC_MESSAGES" / "messages.po").touch()
    os.utime(mo, (mo.stat().st_mtime - 60, mo.stat().st_mtime - 60))
    app = make_app(tmp_path, database_url, translations)
    assert mo.stat().st_size > 1000
    assert oct(mo.stat().st_mode & 0o777) == "0o644"
    page = app.test_client().get("/verify?lang=fr").get_data(as_text=True)
    assert "Check a certificate by its code" not in page and 'lang="fr"' in page
    with app.app_context():
        db.engine.dispose()


def test_a_configured_language_without_catalogue_refuses_to_start(tmp_path, database_url) -> None:
    translations = copy_catalogues(tmp_path / "translations", without="pl")
    with pytest.raises(CatalogueError) as refused:
        make_app(tmp_path, database_url, translations)
    message = str(refused.value)
    assert "'pl'" in message and "make translations-update" in message
    assert "pybabel init" in message


def test_an_unwritable_catalogue_folder_refuses_to_start(tmp_path, database_url) -> None:
    translations = copy_catalogues(tmp_path / "translations")
    folder = translations / "de" / "LC_MESSAGES"
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):  # root ignores the mode: take the write away otherwise
            (folder / "messages.mo").mkdir()
        with pytest.raises(CatalogueError, match="pybabel compile -d translations"):
            make_app(tmp_path, database_url, translations)
    finally:
        folder.chmod(0o755)

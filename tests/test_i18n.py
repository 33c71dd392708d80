"""Translation catalogues: complete, in sync with the source, and used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
APP_LANGUAGES = ("fr", "de")  # the whole app (English is the source)
PUBLIC_LANGUAGES = ("fr", "de", "nl", "it", "es", "pl")  # the verification pages too


def _catalog(lang: str):
    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=lang)


def _extract(config: str, tmp_path_factory) -> set[str]:
    """Every msgid in the source today, extracted the same way `make translations-update` does."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    command = [
        sys.executable,
        "-m",
        "babel.messages.frontend",
        "-q",
        "extract",
        "-F",
        config,
        "-k",
        "_l",
        "-k",
        "lazy_gettext",
        "--no-location",
        "-o",
        str(pot),
        ".",
    ]
    subprocess.run(command, cwd=ROOT, check=True)
    with open(pot, "rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}


@pytest.fixture(scope="module")
def source_messages(tmp_path_factory) -> set[str]:
    return _extract("babel.cfg", tmp_path_factory)


@pytest.fixture(scope="module")
def public_messages(tmp_path_factory) -> set[str]:
    return _extract("babel-public.cfg", tmp_path_factory)


@pytest.mark.parametrize("lang", PUBLIC_LANGUAGES)
def test_catalogue_is_complete(lang):
    catalog = _catalog(lang)
    untranslated, fuzzy = [], []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            untranslated.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert len(catalog) > 50
    assert untranslated == [], f"{lang}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert fuzzy == [], f"{lang}: fuzzy entries {fuzzy[:5]}"


@pytest.mark.parametrize("lang", APP_LANGUAGES)
def test_catalogue_covers_every_source_string(lang, source_messages):
    catalog_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog(lang) if m.id}
    missing = sorted(source_messages - catalog_ids)
    assert missing == [], f"run `make translations-update` and translate: {missing[:10]}"


@pytest.mark.parametrize("lang", PUBLIC_LANGUAGES)
def test_public_pages_are_translated(lang, public_messages):
    """Every string of the verification pages is in each of the seven languages."""
    catalog_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog(lang) if m.id}
    assert len(public_messages) > 30
    missing = sorted(public_messages - catalog_ids)
    assert missing == [], f"run `make translations-update` and translate: {missing[:10]}"


@pytest.mark.parametrize("lang", PUBLIC_LANGUAGES)
def test_placeholders_survive_translation(lang):
    import re

    pattern = re.compile(r"%\(\w+\)[sd]")
    for message in _catalog(lang):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(pattern.findall(ids[-1]))
        for string in strings:
            found = set(pattern.findall(string))
            # A plural's singular form may say "one" instead of %(num)d.
            assert found <= expected | set(pattern.findall(ids[0])), (lang, message.id, string)
            assert expected - {"%(num)d", "%(n)d"} <= found, (lang, message.id, string)


@pytest.mark.parametrize(
    ("accept", "word"),
    [
        ("fr-FR,fr;q=0.9", "Se connecter"),
        ("de", "Anmelden"),
        ("en-GB", "Sign in"),
        ("pt", "Sign in"),
    ],
)
def test_accept_language_chooses_the_page_language(client, accept, word):
    html = client.get("/login", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert word in html


def test_language_picker_overrides_accept_language(client):
    from tests.helpers import post_form

    post_form(client, "/language", {"lang": "fr", "next": "/login"}, token_from="/login")
    html = client.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert 'lang="fr"' in html and "Se connecter" in html


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Dec 3, 2026, 7:10\u202fAM"),
        ("fr", "3 déc. 2026, 07:10"),
        ("de", "3. Dez. 2026, 07:10"),
    ],
)
def test_a_moment_reads_with_the_month_in_words(app, lang, expected):
    """Sign-ins, passkeys and the coverage check's time: never "03.12.2026" or "12/3/26"."""
    from datetime import datetime

    from flask_babel import force_locale

    from web.i18n import format_moment

    with app.test_request_context(), force_locale(lang):
        assert format_moment(datetime(2026, 12, 3, 7, 10, 44)) == expected

"""Language choice: the signed-in user's setting, else the picker's choice, else Accept-Language."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_skeleton
from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from web.vocabulary import Language

LANGUAGE_NAMES = {language.value: language.label for language in Language}


# Inspectors anywhere in Europe read the public verification pages: more languages there.
PUBLIC_LANGUAGES = tuple(Language.values())
PUBLIC_BLUEPRINTS = frozenset({"verify", "api"})
PUBLIC_PATHS = ("/V/", "/v/", "/verify", "/api/")  # also for their 404s, which have no blueprint


def app_languages() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def is_public_page() -> bool:
    """The anonymous verification pages: their own languages, no session, no cookies."""
    if not has_request_context():
        return False
    return request.blueprint in PUBLIC_BLUEPRINTS or request.path.startswith(PUBLIC_PATHS)


def page_languages() -> tuple[str, ...]:
    return PUBLIC_LANGUAGES if is_public_page() else app_languages()


def select_locale() -> str:
    languages = app_languages()
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]  # CLI, jobs: messages in English
    if is_public_page():
        # The switcher is a plain link (?lang=xx): no session, so no cookie for inspectors.
        chosen = request.args.get("lang")
        if chosen in PUBLIC_LANGUAGES:
            return chosen
        return _best_accepted(PUBLIC_LANGUAGES) or "en"
    user_locale = getattr(current_user, "locale", None) if current_user else None
    if user_locale in languages:
        return user_locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return _best_accepted(languages) or languages[0]


# Phones send a handful of distinct Accept-Language headers; parsing and matching one costs more
# than the rest of the language choice, so each worker remembers the last answers.
_ACCEPTED_KEPT = 256
_accepted: dict[tuple[str, tuple[str, ...]], str | None] = {}


def _best_accepted(languages: tuple[str, ...]) -> str | None:
    header = request.headers.get("Accept-Language")
    if not header:
        return None
    key = (header, languages)
    try:
        return _accepted[key]
    except KeyError:
        pass
    best = request.accept_languages.best_match(languages)
    if len(_accepted) >= _ACCEPTED_KEPT:
        _accepted.clear()  # a flood of odd headers only empties the memo
    _accepted[key] = best
    return best


@cache
def locale_object(code: str) -> Locale:
    """Babel's Locale for a language code, parsed once per worker (flask_babel parses the
    selector's string on every request otherwise; a Locale is returned as it is)."""
    return Locale.parse(code)


def page_translations():
    """flask_babel.get_translations(), remembered for the request and locale: it costs ~14 µs a
    call and a verification page makes forty. A forced locale is another Locale object, so
    `force_locale` (the inspector view, reminders) still gets its own language."""
    from flask import g
    from flask_babel import get_translations

    state = g.get("_flask_babel")
    locale = getattr(state, "babel_locale", None) if state is not None else None
    memo = getattr(state, "a1w_translations", None) if state is not None else None
    if locale is not None and memo is not None and memo[0] is locale:
        return memo[1]
    translations = get_translations()
    state = g.get("_flask_babel")
    if state is not None:
        state.a1w_translations = (getattr(state, "babel_locale", None), translations)
    return translations


def translated(message: Any) -> str:
    """``str(message)`` of a lazy label (``lazy_gettext``), remembered for the request and its
    language: a list of 10,000 trips translates each label once, not once a row (flask_babel's
    gettext costs tens of µs a call in its context look-ups; benchmarks/trip_lists.py)."""
    from flask import g, has_app_context

    if not has_app_context():
        return str(message)
    memo = g.setdefault("a1w_translated", {})
    # Keyed by identity (a lazy string hashes by translating itself); the memo holds the message,
    # so its id is not reused for another while the request lasts.
    key = (id(page_translations()), id(message))
    found = memo.get(key)
    if found is None:
        found = memo[key] = (message, str(message))
    return found[1]


def format_day(value: date) -> str:
    """A date with the month in words in the reader's language ("2 Dec 2026", "2. Dez. 2026"):
    Babel's "medium" is numeric in some languages (German: 02.12.2026). Templates: ``|day``."""
    return _format_day(value, str(get_locale() or "en"))


@lru_cache(maxsize=4096)
def _format_day(value: date, locale: str) -> str:
    # Babel parses the locale and the pattern on every call: a list of dates repeats days.
    return format_skeleton("yMMMd", value, locale=locale)


def format_moment(value: datetime) -> str:
    """A time of day on a date, the month in words, in the reader's language and time zone
    ("3 Dec 2026, 07:10", "3. Dez. 2026, 07:10"). Templates: ``|moment``."""
    from babel.dates import format_time
    from flask_babel import to_user_timezone

    code = str(get_locale() or "en")
    local = to_user_timezone(value)
    # The locale's own way of joining a date and a time ("{1}, {0}", "{1} {0}", "{1} à {0}").
    joined = locale_object(code).datetime_formats["medium"]
    return joined.format(format_time(local, "short", locale=code), _format_day(local.date(), code))


def install_fast_template_gettext(app) -> None:
    """Templates translate through page_translations (same strings, same newstyle formatting)."""
    app.jinja_env.install_gettext_callables(
        lambda message: page_translations().ugettext(message),
        lambda singular, plural, n: page_translations().ungettext(singular, plural, n),
        newstyle=True,
    )
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["moment"] = format_moment


class CatalogueError(RuntimeError):
    """A configured language has no usable catalogue: the app refuses to start."""


def configured_languages(app) -> tuple[str, ...]:
    """Every language a page may be shown in (English is the source text, no catalogue)."""
    languages = dict.fromkeys((*app.config["LANGUAGES"], *PUBLIC_LANGUAGES))
    return tuple(code for code in languages if code != app.config["BABEL_DEFAULT_LOCALE"])


def ensure_compiled_catalogues(app) -> list[str]:
    """Compile (with Babel's API) every catalogue whose .mo is missing or older than its .po, so
    an installation that skipped `make translations` (a plain `pip install .`) is not silently
    English. Raises CatalogueError, saying what to run, when a language has no .po at all or its
    .mo cannot be written. Returns the languages compiled."""
    import os
    import tempfile
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    root = Path(app.config["TRANSLATIONS_PATH"])
    compiled = []
    for code in configured_languages(app):
        po = root / code / "LC_MESSAGES" / "messages.po"
        mo = po.with_suffix(".mo")
        if not po.is_file():
            raise CatalogueError(
                f"The language {code!r} is configured but has no catalogue ({po}). Restore it "
                "from the repository, or create it with `make translations-update` "
                f"(`pybabel init -i translations/messages.pot -d translations -l {code}`)."
            )
        if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=code)
            # Written beside and renamed: workers starting together never read half a file.
            fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".messages-", suffix=".mo")
            with os.fdopen(fd, "wb") as out:
                write_mo(out, catalog, use_fuzzy=False)
            os.chmod(tmp, 0o644)  # as pybabel would leave it (mkstemp makes it private)
            os.replace(tmp, mo)
        except OSError as exc:
            raise CatalogueError(
                f"The catalogue {mo} is missing or older than {po.name} and cannot be written "
                f"({exc.strerror}). Compile the catalogues as the installing user: "
                "`pybabel compile -d translations` (or `make translations`)."
            ) from exc
        compiled.append(code)
    return compiled

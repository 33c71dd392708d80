"""Country names in the reader's language (CLDR, through Babel) for forms and pages.

Which codes exist, and the EL/UK aliases, is the coverage catalogue's business
(web/coverage/countries.py); this module only names them.
"""

from __future__ import annotations

from functools import cache

from babel import Locale

from web.coverage.countries import all_codes, normalise_code

normalise_state = normalise_code  # ValueError for an unknown code; EL → GR, UK → GB


@cache
def _choices(locale: str) -> tuple[tuple[str, str], ...]:
    names = Locale.parse(locale).territories
    return tuple(sorted(((c, names.get(c, c)) for c in all_codes()), key=lambda p: p[1]))


def country_choices(locale: str | None = None) -> list[tuple[str, str]]:
    """(code, name) pairs sorted by name in ``locale`` (default: the request's language)."""
    if locale is None:
        from flask_babel import get_locale

        locale = str(get_locale() or "en")
    return list(_choices(locale))


@cache
def country_name(code: str, locale: str = "en") -> str:
    return Locale.parse(locale).territories.get(code, code)


def localised_country_name(code: str) -> str:
    """The country's name in the language of the page being rendered (even a forced one)."""
    from flask_babel import get_locale

    return country_name(code, str(get_locale() or "en"))

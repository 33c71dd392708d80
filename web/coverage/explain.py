"""The engine's answer in the reader's language (Flask layer; the engine itself stays pure).

``determine`` keeps its explanation as message ids (``result["explanation"]``); :func:`localise`
renders the summary, reasons, warnings and home-cover note through the request's translation
catalogue, with country names and dates in the reader's language. An answer stored before
messages existed has no ``explanation`` and is returned as it is.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from web.countries import localised_country_name
from web.coverage.messages import Message, render
from web.i18n import format_day


def _gettext(text: str) -> str:
    # Templates hold %(name)s placeholders: translate without formatting, render() fills them.
    from web.i18n import page_translations

    return page_translations().ugettext(text) if text else text


def _country(code: str) -> str:
    # A name where a reader expects words; the codes stay in the API's structured fields.
    return localised_country_name(code)


def _day(value: str) -> str:
    try:
        return format_day(date.fromisoformat(value))
    except ValueError:
        return value


def text(message: Message | str | None) -> str:
    """One message in the current locale."""
    if message is None:
        return ""
    return render(message, gettext=_gettext, country=_country, day=_day)


def localise(result: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``result`` whose texts are in the current locale."""
    explanation = result.get("explanation")
    if not explanation:
        return result
    out = dict(result)
    out["summary"] = text(explanation["summary"])
    if explanation.get("rule"):
        out["rule"] = text(explanation["rule"])
    out["reasons"] = [text(m) for m in explanation["reasons"]]
    out["warnings"] = [text(m) for m in explanation["warnings"]]
    cover = explanation.get("home_coverage_possible")
    out["home_coverage_possible"] = text(cover) if cover else None
    return out


def field_errors(messages: dict[str, Message | str]) -> dict[str, str]:
    """A CaseError's field messages in the current locale."""
    return {field: text(message) for field, message in messages.items()}


__all__ = ["field_errors", "localise", "text"]

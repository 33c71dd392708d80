"""Input checking shared by forms, CSV import, the command line and the JSON API."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _

# ISO first; the European day-first forms are what spreadsheets in the EU export.
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")


class InputError(ValueError):
    """Bad input, with one translated message per field name."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def parse_date(value: str) -> date:
    value = (value or "").strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def country_field(
    value: object, errors: dict[str, str], name: str, *, required: bool = True
) -> str:
    """An ISO country code, normalised; a message in ``errors[name]`` when it is not one."""
    from web.countries import normalise_state

    text = str(value or "").strip()
    if not text:
        if required:
            errors[name] = _("is required")
        return ""
    try:
        return normalise_state(text)
    except ValueError:
        errors[name] = _unknown_country(text)
        return ""


def _unknown_country(code: str) -> str:
    return _("unknown country code “%(code)s” (use ISO codes such as DE, FR)", code=code[:10])


def country_list_field(value: object, errors: dict[str, str], name: str) -> list[str]:
    """Country codes from a list or a "DE,FR" / "DE FR" text; repeats dropped, order kept."""
    from web.countries import normalise_state

    if isinstance(value, str):
        items = value.replace(";", ",").replace(" ", ",").split(",")
    else:
        items = [str(v) for v in (value or [])]
    states: list[str] = []
    for code in (item.strip() for item in items if item and item.strip()):
        try:
            state = normalise_state(code)
        except ValueError:
            errors[name] = _unknown_country(code)
            continue
        if state not in states:
            states.append(state)
    return states


def date_field(value: object, errors: dict[str, str], name: str) -> date | None:
    """A date from a date object or text in DATE_FORMATS; None with a message otherwise."""
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        errors[name] = _("is required")
        return None
    try:
        return parse_date(text)
    except ValueError:
        errors[name] = _("“%(value)s” is not a date (use YYYY-MM-DD)", value=text[:20])
        return None


def date_range_fields(
    raw: dict, errors: dict[str, str], start: str, end: str, *, max_days: int, too_long: str
) -> tuple[date | None, date | None]:
    """Two inclusive dates: the end not before the start and at most ``max_days`` after it."""
    first = date_field(raw.get(start), errors, start)
    last = date_field(raw.get(end), errors, end)
    if first and last:
        if last < first:
            errors[end] = _("is before the start date")
        elif (last - first).days > max_days:
            errors[end] = too_long
    return first, last

"""Inclusive date periods, counted the way the institutions count them (Art 12 limits).

Dates are inclusive. A period of N months starting on ``start`` ends on ``start + N months − 1
day``; a trip fits within N months when its end date is on or before that day. So 2025-01-01 to
2026-12-31 is exactly 24 months, and an end date of 2027-01-01 exceeds 24 months. Adding months
keeps the day of the month, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, the day clamped to the month's length."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def period_end(start: date, months: int) -> date:
    """The last day of a period of ``months`` months that starts on ``start`` (inclusive)."""
    return add_months(start, months) - ONE_DAY


def fits_within(start: date, end: date, months: int) -> bool:
    """True when the inclusive period ``start``..``end`` lasts at most ``months`` months."""
    return end <= period_end(start, months)


def days_inclusive(start: date, end: date) -> int:
    return (end - start).days + 1

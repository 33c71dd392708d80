"""What an inspector or an employee reads about a posted-worker declaration, in the seven
languages of the public pages (babel-public.cfg): each state, kind of exemption and document
defined once, with its label."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class DeclarationState(enum.StrEnum):
    """Where a trip stands with its host state's declaration."""

    UNKNOWN = "unknown"  # the host state's rules are not sourced: check its posting website
    QUESTION = "question"  # the deciding question is not answered yet
    NOT_REQUIRED = "not_required"
    REQUIRED = "required"  # to file by the file-by date
    MISSING = "missing"  # required, the file-by date passed, nothing recorded
    FILED = "filed"


STATE_LABELS = {
    DeclarationState.UNKNOWN: _l("Declaration rules not known: check"),
    DeclarationState.QUESTION: _l("Declaration: one question to answer"),
    DeclarationState.NOT_REQUIRED: _l("No declaration needed"),
    DeclarationState.REQUIRED: _l("Declaration required"),
    DeclarationState.MISSING: _l("Declaration missing"),
    DeclarationState.FILED: _l("Declaration filed"),
}

# The coverage dashboard's filter (required / filed / missing / not required).
DASHBOARD_BUCKETS = {
    DeclarationState.UNKNOWN: "required",
    DeclarationState.QUESTION: "required",
    DeclarationState.REQUIRED: "required",
    DeclarationState.MISSING: "missing",
    DeclarationState.FILED: "filed",
    DeclarationState.NOT_REQUIRED: "not_required",
}
BUCKET_LABELS = {
    "required": _l("Declaration required"),
    "missing": _l("Declaration missing"),
    "filed": _l("Declaration filed"),
    "not_required": _l("No declaration needed"),
}

NEXT_STEP_UNKNOWN = _l(
    "Check the national posting website of %(country)s: a declaration may be required before "
    "the work starts."
)
NEXT_STEP_QUESTION = _l("Answer whether the employee provides a service in %(country)s.")
NEXT_STEP_REQUIRED = _l("File the declaration (%(portal)s) by %(date)s, then record the receipt.")
NEXT_STEP_MISSING = _l(
    "The declaration is overdue: file it now (%(portal)s) and record the receipt."
)
NEXT_STEP_FILED = _l("Keep the receipt with the A1 for inspections.")
NEXT_STEP_NONE = _l("Nothing to file.")


class NotRequiredReason(enum.StrEnum):
    NO_SERVICE = "no_service"
    EXEMPTION = "exemption"
    HOME_STATE = "home_state"
    CANCELLED = "cancelled"
    STATE_REQUIRES_NONE = "state_requires_none"
    OUTSIDE_EU_RULES = "outside_eu_rules"


REASON_LABELS = {
    NotRequiredReason.NO_SERVICE: _l(
        "The employee provides no service there (meetings, training or the employer's own needs)."
    ),
    NotRequiredReason.EXEMPTION: _l("Exempt: %(exemption)s."),
    NotRequiredReason.HOME_STATE: _l("The work is in the employer's own country."),
    NotRequiredReason.CANCELLED: _l("The trip is cancelled."),
    NotRequiredReason.STATE_REQUIRES_NONE: _l("%(country)s requires no prior declaration."),
    NotRequiredReason.OUTSIDE_EU_RULES: _l(
        "Outside the EU, the EEA, Switzerland and the UK: no posted-worker declaration under EU "
        "rules."
    ),
}

# The inspection bundle's line, beside the certificate.
FILED_LINE = _l("Posted-worker declaration: filed on %(date)s, receipt no. %(number)s")
FILED_LINE_NO_NUMBER = _l("Posted-worker declaration: filed on %(date)s")
CONTACT_LINE = _l("Contact person in %(country)s: %(name)s")
MISSING_LINE = _l("Posted-worker declaration required by %(country)s: not recorded")
# What the employee sees before the trip when the declaration is required and not recorded.
EMPLOYEE_MISSING_NOTICE = _l(
    "Your employer has not recorded the posted-worker declaration for %(country)s yet: ask them "
    "before the trip starts, and carry the receipt with your A1."
)

EXEMPTION_LABELS = {
    "business_meeting": _l("Business meetings or negotiations only (no service delivered)"),
    "trade_fair": _l("Visiting a trade fair or exhibition (not building stands)"),
    "scientific_event": _l("Conferences, seminars or occasional teaching"),
    "artistic_sport_short": _l("Artistic or sports events, for a short stay"),
    "assembly_short": _l("Short assembly or installation of delivered goods"),
    "intra_group_short": _l("Short posting within the group of companies"),
    "intra_group_specialist": _l("Temporary posting of a specialist within the group"),
    "short_stay_8_days": _l("At most 8 days of work in the calendar year, outside listed sectors"),
    "short_posting_8_days": _l("Posting of 8 days or less (not by a temporary-work agency)"),
    "sector_not_listed": _l("Work outside the sectors the law lists (construction, cleaning …)"),
}

DOCUMENT_LABELS = {
    "declaration_receipt": _l("Receipt of the posted-worker declaration"),
    "a1": _l("A1 certificate"),
    "employment_contract": _l("Employment contract"),
    "payslips": _l("Payslips"),
    "time_records": _l("Records of working time"),
    "proof_of_payment": _l("Proof of payment of wages"),
}

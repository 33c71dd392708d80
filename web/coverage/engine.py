"""The applicable-legislation engine: whose social security covers a trip, and which certificate.

Each rule family is a small function named after its article, so a lawyer can read the decision
in the order the regulation takes it:

1. instrument: EU/EEA/CH → Reg. 883/2004 (:func:`_instrument`); GB → TCA Protocol, or the
   Withdrawal Agreement for a situation running since before 2021; any other pair → a bilateral
   agreement of the catalogue (:func:`_bilateral`, ``docs/agreements.md``) or none
   (:func:`_no_treaty`);
2. a temporary trip is a posting (:func:`_posting_employed_art12_1`,
   :func:`_posting_self_employed_art12_2`); a regular pattern is work in two or more states
   (:func:`_employed_art13_1`, :func:`_self_employed_art13_2`,
   :func:`_employed_and_self_employed_art13_3`);
3. Art 16 exceptions, including the telework framework agreement (:func:`_art16_agreement`,
   :func:`_telework_framework_agreement`);
4. the certificate is issued by the competent institution of the state whose legislation applies.

Every reason and warning is a message id with parameters (:mod:`web.coverage.messages`); the
answer opens with one plain sentence (``summary``) before the legal detail.

Inputs (after :func:`web.coverage.validation.validate_case`):

- ``home_state`` is the sending state: the employer's state for an employed posting, the state
  where a self-employed person normally works; for regular multi-state work it is the employer's
  state. It is also the state whose legislation an individual Art 16 agreement keeps.
- ``trip.original_end_date``: the end first notified. A posting notified within the limit and
  extended beyond it is split into segments (home legislation up to the limit, then the state of
  work); one foreseen beyond the limit from the outset is not a posting at all.
- ``previous_legislation_state`` and ``prior_insurance_months``: 987/2009 Art 14(1) ("immediately
  before"): another state's legislation, or no insurance at all, rules Art 12 out.
- ``fixed_place_of_business``: the state of a self-employed person's fixed place of business
  (987/2009 Art 14(9)); without it the home state is assumed, with a warning.
- ``art16_request`` (true/false) says the employer and employee ask for an Art 16 exception: in
  multi-state work, the joint request under the telework framework agreement; for a posting, the
  wish to request a derogation. It changes warnings and triggers the framework agreement; it never
  decides a case alone. ``art16_agreement`` says where an individual agreement stands: ``none``,
  ``requested`` (filed, not decided) or ``granted``.

Cases answered ``review_required`` (the rules leave them to an institution; never a guess):

1. Prior insurance of more than zero and less than one month in the sending state (987 Art 14(1):
   "immediately before"; institutions read at least one month and assess shorter periods case by
   case), or a person recruited for the posting whose prior insurance is not given.
2. A self-employed posting after less than about 2 months of activity in the home state (Art 12(2)
   "for some time"; the 2-month figure is guidance only).
3. A third-country national where Denmark, Switzerland, Iceland, Liechtenstein or Norway is
   involved: Reg. 1231/2010 does not apply to DK or CH, and the EEA position is unconfirmed.
4. A third-country national posted while resident outside the coordination area (Reg. 1231/2010
   needs legal residence in a Member State); multi-state work with the residence outside it.
5. The UK with Switzerland, Iceland, Liechtenstein or Norway (the TCA does not cover them; UK–EFTA
   arrangements not verified), and Switzerland with Iceland, Liechtenstein or Norway (EFTA
   Convention, not in the sources).
6. A trip that starts before the instrument applied (883/2004 before 1 May 2010; CH before
   1 April 2012; EEA before 1 June 2012), or before a bilateral agreement's stored version.
7. Multi-state work partly in a state outside the EU/EEA/CH/UK (Art 13 does not cover that part;
   the multi-state rules of bilateral agreements are not in the catalogue).
8. Multi-state work for several employers of which some, not all, are established outside the
   coordination area (987 Art 14(11) is written for an employer outside the EU).
9. A self-employed person in several states without a substantial part in the residence state
   whose fixed place of business is not where most of the work is done: the centre of interest
   is an overall assessment (987 Art 14(9)).
10. A person both employed and self-employed who is posted while the activities normally lie in
    different states (Art 12 and Art 13(3) interact).
11. An Art 16 agreement requested and not yet decided (outcome depends on the authorities).
12. An Art 16-type exception recorded as granted under the TCA Protocol, which the sources say
    allows none.
13. Bilateral: an agreement named without confirmation (Austria–Japan, Austria–Brazil, Italy and
    the former Yugoslav states, Spain–China), one that is partly suspended (Austria–Kosovo), one
    without a confirmed detached-worker rule (Italy–US, Italy–Mexico), one limited to certain
    nationals when the nationality is not given.
14. A home state whose list of agreements is not complete in the catalogue (LU, IT, ES, PL, PT,
    IE, SE, DK, FI, CZ, CH, GB) or not in it at all, for a partner it does not list.
15. Regular multi-state work in EU/EEA/Swiss states only, for an employer in the UK, without a
    substantial part in the residence state: the TCA and 883/2004 with an employer "outside the
    Union" (987 Art 14(11)) would differ, and the sources do not settle which governs.

Not covered (no input for them): civil servants (Art 11(3)(b), 13(4)), flight crew and mariners
(Art 11(4)-(5)), unemployment and other special cases; the caller must not use the engine for them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from web.coverage import countries
from web.coverage.dates import ONE_DAY, add_months, days_inclusive, fits_within, period_end
from web.coverage.messages import ALL_MESSAGES, Message, english, msg
from web.coverage.providers import ProviderCategory, normalise_states, provider_category
from web.coverage.validation import CaseError, validate_case
from web.vocabulary import CertificateType

# --------------------------------------------------------------------------- thresholds (one place)

# 987/2009 Art 14(8): "a share of less than 25 %" is an indicator: exactly 25 % is substantial.
SUBSTANTIAL_SHARE_PCT = 25
# 987/2009 Art 14(5b) + Practical Guide / CCSS: activities under 5 % are marginal and disregarded.
MARGINAL_SHARE_PCT = 5
# 883/2004 Art 12(1)-(2) and TCA Art SSC.11: anticipated duration of at most 24 months.
MAX_POSTING_MONTHS = 24
# 987/2009 Art 14(1) "immediately before", read by CCSS, ÖGK, usp.gv.at and CLEISS as 1 month.
MIN_PRIOR_INSURANCE_MONTHS = 1
# Art 12(2) "for some time": about 2 months (Practical Guide via Lexgo).
MIN_SELF_EMPLOYED_ACTIVITY_MONTHS = 2
# Practical Guide: a new posting to the same state by the same undertakings needs a 2-month gap.
POSTING_GAP_MONTHS = 2
# Urssaf: request a derogation at least 3 months before the start of the period.
DEROGATION_NOTICE_MONTHS = 3
# 987/2009 Art 16(3): the provisional determination becomes definitive after 2 months.
PROVISIONAL_DETERMINATION_MONTHS = 2
# 987/2009 Art 14(10): the assessment looks ahead over the next 12 calendar months.
ASSESSMENT_HORIZON_MONTHS = 12
# Telework framework agreement (Art 16, from 1 Jul 2023): telework in the residence state < 50 %.
TELEWORK_LIMIT_PCT = 50
# usp.gv.at: Art 16 agreements for postings typically reach about 5 years in total.
TYPICAL_ART16_POSTING_MONTHS = 60
# TCA: new cases from 1 January 2021; earlier situations stay under the Withdrawal Agreement.
TCA_START = date(2021, 1, 1)

_CERTIFICATES: frozenset[str] = frozenset(
    {"A1", "A1_via_derogation_art16", "CoC", "CoC_prolongation"}
)
_THIRD_COUNTRY_SENSITIVE = frozenset({"DK", "CH", "IS", "LI", "NO"})

__all__ = [
    "ASSESSMENT_HORIZON_MONTHS",
    "DEROGATION_NOTICE_MONTHS",
    "MARGINAL_SHARE_PCT",
    "MAX_POSTING_MONTHS",
    "MIN_PRIOR_INSURANCE_MONTHS",
    "MIN_SELF_EMPLOYED_ACTIVITY_MONTHS",
    "POSTING_GAP_MONTHS",
    "SUBSTANTIAL_SHARE_PCT",
    "TELEWORK_LIMIT_PCT",
    "CaseError",
    "CertificateType",
    "determine",
    "validate_case",
]


# --------------------------------------------------------------------------- plumbing


def _shares(split: Mapping[str, float]) -> list[list[Any]]:
    """A ``*_shares`` message parameter: [[state, percent], …] in code order."""
    return [[state, pct] for state, pct in sorted(split.items())]


@dataclass(frozen=True)
class _Case:
    """A typed view of the normalised case, so rules read ``c.residence_state``."""

    home_state: str
    residence_state: str
    employment_status: str
    employer_seats: tuple[tuple[str, float | None], ...]
    work_split: dict[str, float] | None
    remuneration_split: dict[str, float] | None
    employed_split: dict[str, float] | None
    self_employed_split: dict[str, float] | None
    kind: str
    destination: str | None
    start: date | None
    end: date | None
    prior_insurance_months: float | None
    replacing_posted_worker: bool | None
    employer_substantial_activity_in_home_state: bool | None
    recruited_for_posting: bool | None
    similar_activity: bool | None
    self_employed_activity_months: float | None
    telework_pct_in_residence: float | None
    art16_request: bool | None
    art16_agreement: str
    nationality: tuple[str, ...] | None
    previous_posting: Mapping[str, Any] | None
    notes: tuple[Message, ...]
    original_end: date | None = None
    previous_legislation_state: str | None = None
    fixed_place_of_business: str | None = None

    @classmethod
    def of(cls, n: Mapping[str, Any]) -> _Case:
        trip = n["trip"] or {"kind": "regular_multi_state"}
        return cls(
            home_state=n["home_state"],
            residence_state=n["residence_state"],
            employment_status=n["employment_status"],
            employer_seats=tuple(
                (s["country"], s["share_of_working_time_pct"]) for s in n["employer_seats"] or ()
            ),
            work_split=n["work_split_pct"],
            remuneration_split=n["remuneration_split_pct"],
            employed_split=n["employed_work_split_pct"],
            self_employed_split=n["self_employed_work_split_pct"],
            kind=trip["kind"],
            destination=trip.get("destination"),
            start=trip.get("start_date"),
            end=trip.get("end_date"),
            prior_insurance_months=n["prior_insurance_months"],
            replacing_posted_worker=n["replacing_posted_worker"],
            employer_substantial_activity_in_home_state=n[
                "employer_substantial_activity_in_home_state"
            ],
            recruited_for_posting=n["recruited_for_posting"],
            similar_activity=n["similar_activity"],
            self_employed_activity_months=n["self_employed_activity_months"],
            telework_pct_in_residence=n["telework_pct_in_residence"],
            art16_request=n["art16_request"],
            art16_agreement=n["art16_agreement"],
            nationality=tuple(n["nationality"]) if n["nationality"] else None,
            previous_posting=n["previous_posting"],
            notes=tuple(n["notes"]),
            original_end=trip.get("original_end_date"),
            previous_legislation_state=n["previous_legislation_state"],
            fixed_place_of_business=n["fixed_place_of_business"],
        )


@dataclass
class _Answer:
    certificate_type: CertificateType
    legislation_state: str | None
    rule: str
    max_period_months: int | None = None
    segments: list[dict[str, Any]] = field(default_factory=list)
    home_coverage_possible: Message | None = None
    # Whose institution issues the certificate; defaults to the legislation state.
    issuer_state: str | None = None


def _message(message: Message | str, params: Mapping[str, Any]) -> Message:
    return message if isinstance(message, dict) else msg(message, **params)


@dataclass
class _Ctx:
    case: _Case
    today: date
    reasons: list[Message] = field(default_factory=list)
    warnings: list[Message] = field(default_factory=list)

    def reason(self, message: Message | str, **params: Any) -> None:
        self.reasons.append(_message(message, params))

    def warn(self, message: Message | str, **params: Any) -> None:
        found = _message(message, params)
        if found not in self.warnings:
            self.warnings.append(found)

    def review(
        self, rule: str, why: Message | str, *, max_months: int | None = None, **params: Any
    ) -> _Answer:
        self.reason("review.prefix", why=_message(why, params))
        return _Answer("review_required", None, rule, max_period_months=max_months)


@dataclass(frozen=True)
class _Instrument:
    """The coordination instrument for the states of a case."""

    kind: Literal["883", "wa", "tca"]
    basis: str

    def cite(self, article: str) -> str:
        """The article as applied under this instrument, e.g. 'Reg. 883/2004 Art 12(1)'."""
        if self.kind == "tca":
            if article.startswith("Reg. 883/2004 Art 12"):
                detached = (
                    "TCA Protocol on Social Security Coordination Art SSC.11 (detached workers)"
                )
                if "not met" in article:
                    return f"{detached} not met → legislation of the state of work"
                return f"{detached}, on the conditions of Reg. 883/2004 Art 12"
            return (
                f"TCA Protocol on Social Security Coordination, rule mirroring {article} "
                "(article number not verified)"
            )
        if self.kind == "wa":
            return f"Withdrawal Agreement (Reg. 883/2004 continues): {article}"
        return article


# --------------------------------------------------------------------------- public entry point


def determine(
    case: Mapping[str, Any],
    *,
    provider_filing_states: Collection[str] = (),
    today: date | None = None,
) -> dict[str, Any]:
    """Which legislation applies to ``case`` and which certificate proves it.

    ``case`` is the JSON object of issue 8 (see :mod:`web.coverage.validation`);
    ``provider_filing_states`` are the states where the provider files requests with the authority
    (kept by the operator); ``today`` dates the warnings (defaults to the current date).

    Returns ``legislation_state`` (or None), ``certificate_type``, ``certificate_issuer``,
    ``rule``, ``max_period_months``, ``reasons``, ``segments`` (empty unless the legislation changes
    during the trip), ``warnings``, ``provider_category`` and ``home_coverage_possible``
    (informative, only where no treaty applies). Raises :class:`CaseError` for bad input.
    """
    normalised = validate_case(case)
    filing = normalise_states(provider_filing_states, field="provider_filing_states")
    c = _Case.of(normalised)
    ctx = _Ctx(c, today or date.today())
    for note in c.notes:
        if note["id"] == "notes.ignored_fields":
            ctx.warn(note)
        else:
            ctx.reason(note)

    answer = _posting(ctx) if c.kind == "posting" else _multi_state(ctx)

    issuer_state = answer.issuer_state or answer.legislation_state
    issues_certificate = answer.certificate_type in _CERTIFICATES and issuer_state is not None
    category = _provider_category(c, answer, issuer_state, filing)
    summary = _summary(c, answer, category)
    cover = answer.home_coverage_possible
    return {
        "legislation_state": answer.legislation_state,
        "certificate_type": answer.certificate_type,
        "certificate_issuer": countries.institution(issuer_state) if issues_certificate else None,
        "rule": answer.rule,
        "max_period_months": answer.max_period_months,
        "summary": english(summary),
        "reasons": [english(m) for m in ctx.reasons],
        "segments": answer.segments,
        "warnings": [english(m) for m in ctx.warnings],
        "provider_category": category,
        "home_coverage_possible": english(cover) if cover else None,
        "explanation": {
            "rule": _rule_message(answer.rule),
            "summary": summary,
            "reasons": ctx.reasons,
            "warnings": ctx.warnings,
            "home_coverage_possible": cover,
        },
        "catalogue_version": countries.catalogue_version(),
    }


_NO_TREATY_RULE = "No social security agreement: national law only"
_AGREEMENT_RULE = re.compile(
    r"Agreement (?P<home>[A-Z]{2})–(?P<partner>[A-Z]{2})(?:, (?P<article>[^:]+))?"
    r"(?P<host>: not applicable \(foreseen beyond (?P<months>\d+) months\) → host legislation)?$"
)


def _rule_message(rule: str) -> Message | None:
    """A bilateral rule ("Agreement FR–JP, Art 7") as a message, so pages name it in words."""
    if rule == _NO_TREATY_RULE:
        return msg("rule.no_treaty")
    found = _AGREEMENT_RULE.match(rule)
    if not found:
        return None  # a regulation's citation reads the same in every language
    article = found["article"]
    params: dict[str, Any] = {
        "agreement": msg(
            "agreement.name", home_state=found["home"], partner_state=found["partner"]
        ),
        "article": msg("bilateral.article", article=article) if article else "",
    }
    if found["host"]:
        return msg("rule.agreement_not_applicable", months=int(found["months"]), **params)
    return msg("rule.agreement", **params)


def _document(certificate_type: str) -> Message:
    return msg(f"document.{certificate_type}")


def _summary(c: _Case, answer: _Answer, category: ProviderCategory) -> Message:
    """One plain sentence an employer understands, before the legal detail."""
    kind = answer.certificate_type
    if answer.segments:
        first, second = answer.segments[0], answer.segments[1]
        key = (
            "summary.segments_prolongation"
            if second["certificate_type"] in _CERTIFICATES
            else "summary.segments_host"
        )
        return msg(
            key,
            state=first["legislation_state"],
            end_date=first["end_date"],
            document=_document(first["certificate_type"]),
            next_date=second["start_date"],
            next_state=second["legislation_state"],
        )
    if kind in _CERTIFICATES and answer.legislation_state:
        key = (
            "summary.certificate_official"
            if category == "official"
            else "summary.certificate_provisional"
        )
        return msg(key, state=answer.legislation_state, document=_document(kind))
    if kind == "none_host_legislation" and answer.legislation_state:
        return msg("summary.host", state=answer.legislation_state)
    if kind == "none_no_treaty":
        if (
            c.destination
            and countries.treaty_between(c.home_state, c.destination).status == "bilateral"
        ):
            return msg("summary.no_treaty_person")
        return msg(
            "summary.no_treaty",
            home_state=c.home_state,
            destination_state=c.destination or c.residence_state,
        )
    return msg("summary.review")


def _provider_category(
    c: _Case, answer: _Answer, issuer_state: str | None, filing: frozenset[str]
) -> ProviderCategory:
    # The person is outside every agreement (e.g. a nationality limit): no certificate can exist.
    if answer.certificate_type == "none_no_treaty":
        return "no_treaty"
    destination = c.destination or next(
        (s for s in sorted(_activity_keys(c)) if s != c.home_state), c.residence_state
    )
    if destination == c.home_state:
        destination = c.residence_state
    issuing = issuer_state if answer.certificate_type in _CERTIFICATES else None
    return provider_category(c.home_state, destination, filing, issuing_state=issuing)


def _activity_keys(c: _Case) -> set[str]:
    keys: set[str] = set()
    for split in (c.work_split, c.employed_split, c.self_employed_split):
        keys |= set(split or {})
    return keys


# --------------------------------------------------------------------------- instrument and scope


def _instrument(ctx: _Ctx, states: set[str]) -> _Instrument | _Answer:
    """Which coordination instrument links ``states`` (all coordinated), or a review answer."""
    start = ctx.case.start
    gap = countries.coordination_gap(states)
    if gap:
        return ctx.review("TCA Protocol on Social Security Coordination; EFTA Convention", gap)
    groups = {countries.group_of(s) for s in states}
    if "GB" in groups:
        if start is not None and start < TCA_START:
            ctx.reason("instrument.the_trip_started_before_1")
            return _Instrument("wa", countries.legal_basis("GB") or "")
        ctx.reason("instrument.the_uk_is_involved_the")
        return _Instrument("tca", countries.legal_basis("GB") or "")
    for group in sorted(g for g in groups if g):
        applies_from = countries.group_applies_from(group)
        if start is not None and start < applies_from:
            return ctx.review(
                "Reg. 883/2004 Art 87, 91",
                msg(
                    "instrument.the_trip_starts_before_when",
                    applies_from_date=applies_from.isoformat(),
                    group=group,
                ),
            )
    bases = sorted({countries.legal_basis(s) or "" for s in states} - {""})
    ctx.reason("instrument.legal_basis", bases="; ".join(bases))
    return _Instrument("883", "; ".join(bases))


def _third_country_national(nationality: tuple[str, ...], inst: _Instrument) -> bool:
    """No nationality that the instrument covers as such (EU/EEA/CH; UK too under WA/TCA)."""
    covered = {"EU", "EEA", "CH"} | ({"GB"} if inst.kind in ("wa", "tca") else set())
    return not any(countries.group_of(n) in covered for n in nationality)


def _personal_scope(ctx: _Ctx, inst: _Instrument, involved: set[str]) -> _Answer | None:
    """Reg. 1231/2010 and the nationality limits of the EU–CH and EEA instruments."""
    c = ctx.case
    sensitive = involved & _THIRD_COUNTRY_SENSITIVE
    if c.nationality is None:
        if sensitive and inst.kind != "tca":
            ctx.warn(
                "personal_scope.nationality_not_given_if_the", sensitive_states=sorted(sensitive)
            )
        return None
    if not _third_country_national(c.nationality, inst):
        return None
    nationals = sorted(c.nationality)
    if inst.kind == "tca":
        ctx.warn("personal_scope.the_person_is_a_national_2", nationals_states=nationals)
        return None
    if sensitive:
        extra: Message | str = ""
        if "CH" in sensitive and countries.bilateral_agreement(c.home_state, "CH"):
            extra = msg("personal_scope.swiss_bilateral", home_state=c.home_state)
        return ctx.review(
            "Reg. 1231/2010; CJEU C-477/17 Balandin",
            msg(
                "personal_scope.the_person_is_a_third",
                nationals_states=nationals,
                sensitive_states=sorted(sensitive),
                extra=extra,
            ),
        )
    if not countries.in_883_area(c.residence_state):
        return ctx.review(
            "Reg. 1231/2010",
            msg(
                "personal_scope.the_person_is_a_third_2",
                nationals_states=nationals,
                residence_state=c.residence_state,
            ),
        )
    ctx.reason("personal_scope.the_person_is_a_national", nationals_states=nationals)
    ctx.warn("personal_scope.confirm_that_the_person_is")
    return None


# --------------------------------------------------------------------------- postings (Art 12)


def _posting(ctx: _Ctx) -> _Answer:
    c = ctx.case
    assert c.destination is not None and c.start is not None and c.end is not None
    ctx.reason(
        "posting.posting_from_to_from_to",
        home_state=c.home_state,
        destination_state=c.destination,
        start_date=c.start.isoformat(),
        end_date=c.end.isoformat(),
        days=days_inclusive(c.start, c.end),
    )
    treaty = countries.treaty_between(c.home_state, c.destination, c.start)
    if treaty.status != "coordination":
        return _bilateral(ctx, treaty)
    ctx.reason("posting.temporary_work_is_a_posting")

    states = {c.home_state, c.destination}
    inst = _instrument(ctx, states)
    if isinstance(inst, _Answer):
        return inst
    if not countries.is_coordinated(c.residence_state):
        ctx.reason("posting.the_person_lives_in_outside", residence_state=c.residence_state)
    blocked = _personal_scope(ctx, inst, states | {c.residence_state})
    if blocked:
        return blocked

    if c.employment_status == "self_employed":
        return _posting_self_employed_art12_2(ctx, inst)
    if c.employment_status == "employed_and_self_employed":
        elsewhere = set()
        for split in (c.employed_split, c.self_employed_split):
            elsewhere |= set(_active_states(split or {}, None)) - {c.home_state}
        if elsewhere:
            return ctx.review(
                inst.cite("Reg. 883/2004 Art 12(1), 13(3)"),
                msg(
                    "posting.the_person_is_employed_and", states=sorted(elsewhere | {c.home_state})
                ),
                max_months=MAX_POSTING_MONTHS,
            )
        ctx.reason("posting.the_person_is_also_self")
    return _posting_employed_art12_1(ctx, inst)


def _posting_employed_art12_1(ctx: _Ctx, inst: _Instrument) -> _Answer:
    """883/2004 Art 12(1); 987/2009 Art 14(1)-(2); TCA Art SSC.11 on the same conditions."""
    c = ctx.case
    failed: list[Message] = []
    needs_review: list[Message] = []

    gap = _gap_after_previous_posting(ctx, inst)
    if gap:
        failed.append(gap)

    # Alpenrind (C-527/16): the ban holds even when the two workers have different employers.
    if c.replacing_posted_worker is True:
        failed.append(msg("posting_employed_art12_1.the_person_is_sent_to"))
    elif c.replacing_posted_worker is None:
        ctx.warn("posting_employed_art12_1.confirm_that_the_person_does")

    # 987 Art 14(2): the employer must normally carry out substantial activities in the home state.
    if c.employer_substantial_activity_in_home_state is False:
        failed.append(
            msg("posting_employed_art12_1.the_employer_does_not_carry", home_state=c.home_state)
        )
    elif c.employer_substantial_activity_in_home_state is None:
        ctx.warn(
            "posting_employed_art12_1.confirm_that_the_employer_carries", home_state=c.home_state
        )

    # 987 Art 14(1): "immediately before" the posting, read as at least one month by institutions.
    months = c.prior_insurance_months
    previous = c.previous_legislation_state
    if previous is not None and previous != c.home_state:
        # Subject to another state's legislation immediately before: the condition fails outright.
        failed.append(
            msg(
                "posting_employed_art12_1.previous_legislation_other",
                previous_state=previous,
                home_state=c.home_state,
            )
        )
    elif previous == c.home_state and (months is None or months >= MIN_PRIOR_INSURANCE_MONTHS):
        ctx.reason(
            "posting_employed_art12_1.previous_legislation_home",
            home_state=c.home_state,
        )
    elif months == 0:
        # No insurance at all in the sending state before the posting: not a shortfall to weigh.
        failed.append(msg("posting_employed_art12_1.no_prior_insurance", home_state=c.home_state))
    elif months is not None and months < MIN_PRIOR_INSURANCE_MONTHS:
        needs_review.append(
            msg(
                "posting_employed_art12_1.the_person_was_insured_in",
                home_state=c.home_state,
                months=months,
            )
        )
    elif months is None and c.recruited_for_posting:
        needs_review.append(
            msg("posting_employed_art12_1.the_person_was_recruited_for", home_state=c.home_state)
        )
    elif months is None:
        ctx.warn("posting_employed_art12_1.confirm_at_least_one_month", home_state=c.home_state)
    else:
        ctx.reason(
            "posting_employed_art12_1.the_person_was_insured_in_2",
            home_state=c.home_state,
            months=months,
        )

    exceeded, extended = _posting_duration(ctx, failed)
    if failed:
        for message in needs_review:
            ctx.warn("posting.also", why=message)
        return _art12_not_applicable(ctx, inst, failed, duration_exceeded=exceeded)
    if needs_review:
        return ctx.review(
            inst.cite("Reg. 883/2004 Art 12(1); Reg. 987/2009 Art 14(1)"),
            needs_review[0]
            if len(needs_review) == 1
            else msg("posting.several", items=needs_review),
            max_months=MAX_POSTING_MONTHS,
        )
    articles = "Reg. 883/2004 Art 12(1); Reg. 987/2009 Art 14(1)-(2), 15(1)"
    if extended is not None:
        return _extended_posting(ctx, inst, articles, extended)
    return _posting_a1(ctx, inst, articles)


def _posting_self_employed_art12_2(ctx: _Ctx, inst: _Instrument) -> _Answer:
    """883/2004 Art 12(2); 987/2009 Art 14(3)-(4). No replacement ban for the self-employed."""
    c = ctx.case
    failed: list[Message] = []
    needs_review: list[Message] = []

    gap = _gap_after_previous_posting(ctx, inst)
    if gap:
        failed.append(gap)

    # 987 Art 14(4): the activity abroad must be similar in nature to the usual one.
    if c.similar_activity is False:
        failed.append(msg("posting_self_employed_art12_2.the_activity_abroad_is_not"))
    elif c.similar_activity is None:
        ctx.warn("posting_self_employed_art12_2.confirm_that_the_activity_abroad")

    # Art 12(2)/987 Art 14(3): pursued "for some time" before; guidance says about 2 months.
    months = c.self_employed_activity_months
    if months is not None and months < MIN_SELF_EMPLOYED_ACTIVITY_MONTHS:
        needs_review.append(
            msg(
                "posting_self_employed_art12_2.the_person_has_been_self",
                home_state=c.home_state,
                months=months,
            )
        )
    elif months is None:
        ctx.warn(
            "posting_self_employed_art12_2.confirm_that_the_person_has", home_state=c.home_state
        )

    exceeded, extended = _posting_duration(ctx, failed)
    if failed:
        for message in needs_review:
            ctx.warn("posting.also", why=message)
        return _art12_not_applicable(ctx, inst, failed, duration_exceeded=exceeded)
    if needs_review:
        return ctx.review(
            inst.cite("Reg. 883/2004 Art 12(2); Reg. 987/2009 Art 14(3)"),
            needs_review[0]
            if len(needs_review) == 1
            else msg("posting.several", items=needs_review),
            max_months=MAX_POSTING_MONTHS,
        )
    articles = "Reg. 883/2004 Art 12(2); Reg. 987/2009 Art 14(3)-(4), 15(1)"
    if extended is not None:
        return _extended_posting(ctx, inst, articles, extended)
    return _posting_a1(ctx, inst, articles)


def _posting_duration(ctx: _Ctx, failed: list[Message]) -> tuple[bool, date | None]:
    """Art 12: anticipated duration at most 24 months (inclusive dates).

    Returns (foreseen beyond the limit from the outset, last day of the limit when a posting first
    foreseen within it was later extended beyond it)."""
    c = ctx.case
    assert c.start is not None and c.end is not None
    last_day = period_end(c.start, MAX_POSTING_MONTHS)
    foreseen = c.original_end or c.end
    if c.original_end is not None and c.end > last_day and foreseen <= last_day:
        ctx.reason(
            "posting_duration.extended",
            original_end_date=c.original_end.isoformat(),
            end_date=c.end.isoformat(),
            max_posting_months=MAX_POSTING_MONTHS,
            last_day_date=last_day.isoformat(),
        )
        ctx.reason("posting_duration.absences")
        return False, last_day
    if fits_within(c.start, c.end, MAX_POSTING_MONTHS):
        ctx.reason(
            "posting_duration.the_posting_ends_on_or",
            last_day_date=last_day.isoformat(),
            max_posting_months=MAX_POSTING_MONTHS,
        )
        return False, None
    failed.append(
        msg(
            "posting_duration.the_anticipated_duration_exceeds_months",
            max_posting_months=MAX_POSTING_MONTHS,
            last_day_date=last_day.isoformat(),
            end_date=c.end.isoformat(),
        )
    )
    return True, None


def _extended_posting(ctx: _Ctx, inst: _Instrument, articles: str, last_day: date) -> _Answer:
    """A posting first foreseen within 24 months and later extended beyond them (Practical Guide,
    Part I §1: an unforeseen extension does not reach back): home legislation up to the last day
    of the 24 months, then the state of work, unless an Art 16 exception covers the rest."""
    c = ctx.case
    assert c.start is not None and c.end is not None and c.destination is not None
    home_part = _posting_a1(ctx, inst, articles)
    rest = last_day + ONE_DAY
    host_rule = inst.cite("Reg. 883/2004 Art 12 not met → Art 11(3)(a) (state of work)")
    segmented = _Answer(
        "A1",
        c.home_state,
        home_part.rule,
        max_period_months=MAX_POSTING_MONTHS,
        segments=[
            _segment(c.start, last_day, c.home_state, "A1", home_part.rule),
            _segment(rest, c.end, c.destination, "none_host_legislation", host_rule),
        ],
    )
    after = msg(
        "extended.host_after",
        rest_date=rest.isoformat(),
        destination_state=c.destination,
    )
    if inst.kind == "tca":
        ctx.warn("art12_not_applicable.the_tca_protocol_allows_no")
        ctx.reason(after)
        return segmented
    exception = _art16_agreement(ctx, inst, fallback=segmented, fallback_sentence=after)
    if exception is not None:
        return exception
    ctx.reason(after)
    _derogation_notice(ctx, c.home_state)
    return segmented


def _gap_after_previous_posting(ctx: _Ctx, inst: _Instrument) -> Message | None:
    """Practical Guide: a new posting of the same worker, by the same undertakings, to the same
    state needs a gap of at least 2 months after the previous one ended."""
    c = ctx.case
    prev = c.previous_posting
    if not prev or prev["destination"] != c.destination or not prev["same_employer"]:
        return None
    assert c.start is not None
    earliest = add_months(prev["end_date"] + ONE_DAY, POSTING_GAP_MONTHS)
    if c.start >= earliest:
        ctx.reason(
            "gap_after_previous_posting.the_previous_posting_to_ended",
            destination_state=c.destination,
            end_date=prev["end_date"].isoformat(),
            posting_gap_months=POSTING_GAP_MONTHS,
        )
        return None
    if inst.kind == "tca":
        ctx.warn(
            "gap_after_previous_posting.the_previous_posting_to_ended_2",
            destination_state=c.destination,
            end_date=prev["end_date"].isoformat(),
            posting_gap_months=POSTING_GAP_MONTHS,
        )
        return None
    return msg(
        "gap_after_previous_posting.the_same_employer_s_previous",
        destination_state=c.destination,
        end_date=prev["end_date"].isoformat(),
        posting_gap_months=POSTING_GAP_MONTHS,
        earliest_date=earliest.isoformat(),
    )


def _posting_a1(ctx: _Ctx, inst: _Instrument, articles: str) -> _Answer:
    c = ctx.case
    ctx.reason("posting_a1.all_posting_conditions_are_met", home_state=c.home_state)
    _advance_notice(ctx)
    return _Answer("A1", c.home_state, inst.cite(articles), max_period_months=MAX_POSTING_MONTHS)


def _advance_notice(ctx: _Ctx, *, bilateral: bool = False) -> None:
    c = ctx.case
    # The regulation's article for EU/EEA/CH/UK cases; an agreement's own procedure otherwise.
    ctx.warn(
        "advance_notice.bilateral" if bilateral else "advance_notice.the_employer_must_inform_the"
    )
    if c.home_state == "BE":
        ctx.warn("advance_notice.belgium_a_dimona_declaration_must")
    if c.start is not None and c.start < ctx.today:
        ctx.warn(
            "advance_notice.the_trip_started_on_before",
            start_date=c.start.isoformat(),
            today_date=ctx.today.isoformat(),
        )


def _art12_not_applicable(
    ctx: _Ctx, inst: _Instrument, failed: list[Message], *, duration_exceeded: bool
) -> _Answer:
    """A posting condition fails: host legislation (Art 11(3)(a)) unless an Art 16 agreement."""
    c = ctx.case
    assert c.destination is not None
    for text in failed:
        ctx.reason(text)
    host = _Answer(
        "none_host_legislation",
        c.destination,
        inst.cite("Reg. 883/2004 Art 12 not met → Art 11(3)(a) (state of work)"),
        max_period_months=MAX_POSTING_MONTHS,
    )
    host_sentence = msg(
        "art12_not_applicable.the_posting_rules_do_not", destination_state=c.destination
    )
    if inst.kind == "tca":
        if duration_exceeded:
            ctx.warn("art12_not_applicable.the_tca_protocol_allows_no")
        if c.art16_agreement == "granted":
            return ctx.review(
                "TCA Protocol Art SSC.11",
                msg("art12_not_applicable.an_exception_is_recorded_as"),
                max_months=MAX_POSTING_MONTHS,
            )
        ctx.reason(host_sentence)
        return host

    answer = _art16_agreement(ctx, inst, fallback=host, fallback_sentence=host_sentence)
    if answer is not None:
        return answer
    if duration_exceeded:
        ctx.reason("art12_not_applicable.a_posting_known_from_the")
        _derogation_notice(ctx, c.home_state)
    ctx.reason(host_sentence)
    return host


# --------------------------------------------------------------------------- Art 16


def _art16_agreement(
    ctx: _Ctx, inst: _Instrument, *, fallback: _Answer, fallback_sentence: Message
) -> _Answer | None:
    """883/2004 Art 16: an individual agreement keeps the home state's legislation."""
    c = ctx.case
    if c.art16_agreement == "granted":
        ctx.reason("art16_agreement.the_competent_authorities_agreed_an", home_state=c.home_state)
        if (
            c.kind == "posting"
            and c.start is not None
            and c.end is not None
            and not fits_within(c.start, c.end, TYPICAL_ART16_POSTING_MONTHS)
        ):
            ctx.warn("art16_agreement.the_trip_is_longer_than")
        ctx.warn("art16_agreement.the_a1_is_valid_only")
        return _Answer(
            "A1_via_derogation_art16",
            c.home_state,
            inst.cite("Reg. 883/2004 Art 16; Reg. 987/2009 Art 18"),
        )
    if c.art16_agreement == "requested":
        _derogation_notice(ctx, c.home_state)
        return ctx.review(
            inst.cite("Reg. 883/2004 Art 16; Reg. 987/2009 Art 18"),
            msg(
                "art16_agreement.requested",
                home_state=c.home_state,
                fallback=fallback_sentence,
            ),
            max_months=fallback.max_period_months,
        )
    return None


def _derogation_notice(ctx: _Ctx, requested_state: str) -> None:
    c = ctx.case
    ctx.warn("derogation_notice.an_art_16_derogation_must", requested_state=requested_state)
    if c.start is not None and c.start < add_months(ctx.today, DEROGATION_NOTICE_MONTHS):
        ctx.warn(
            "derogation_notice.the_trip_starts_on_less",
            start_date=c.start.isoformat(),
            today_date=ctx.today.isoformat(),
        )


# --------------------------------------------------------------------------- bilateral / no treaty


def _bilateral(ctx: _Ctx, treaty: countries.Treaty) -> _Answer:
    """A bilateral agreement's detached-worker rule and its maximum period
    (the catalogue: ``docs/agreements.md``)."""
    c = ctx.case
    home, dest = c.home_state, c.destination
    assert dest is not None and c.start is not None and c.end is not None
    if treaty.status == "none":
        ctx.reason(
            "bilateral.no_social_security_agreement_links",
            home_state=home,
            destination_state=dest,
            source=_cite(treaty.source),
        )
        return _no_treaty(ctx)
    if treaty.status == "unknown":
        if isinstance(treaty.note, str) and treaty.note in ALL_MESSAGES:
            return ctx.review(
                "TCA Protocol on Social Security Coordination; EFTA Convention", treaty.note
            )
        if treaty.note:
            return ctx.review(
                "No complete list of agreements",
                msg(
                    "bilateral.incomplete_list",
                    home_state=home,
                    destination_state=dest,
                    why=treaty.note,
                ),
            )
        return ctx.review(
            "No list of agreements",
            msg("bilateral.the_catalogue_has_no_complete", home_state=home, destination_state=dest),
        )
    a = treaty.agreement
    if treaty.status == "not_yet":
        assert a is not None
        return ctx.review(
            a.citation,
            msg("bilateral.not_yet_in_force", agreement=_agreement_name(a), from_date=treaty.note),
        )
    if treaty.status == "unconfirmed":
        return ctx.review(
            "Agreement not confirmed",
            msg(
                "bilateral.an_agreement_between_and_is",
                home_state=home,
                destination_state=dest,
                note=treaty.note,
                source=_cite(treaty.source),
            ),
        )
    assert a is not None
    rule = a.citation
    if a.applies_from is not None:
        ctx.reason(
            "bilateral.applies",
            agreement=_agreement_name(a),
            from_date=a.applies_from.isoformat(),
            source=_cite(a.source),
        )
    else:
        ctx.reason(
            "bilateral.applies_undated", agreement=_agreement_name(a), source=_cite(a.source)
        )

    if a.status == "partly_suspended":
        return ctx.review(
            rule,
            msg("bilateral.the_is_partly_suspended", agreement=_agreement_name(a), note=a.note),
        )
    if a.detached_worker_rule is False:
        return ctx.review(
            rule,
            msg("bilateral.the_has_no_detached_worker", agreement=_agreement_name(a)),
        )
    if a.detached_worker_rule is None:
        return ctx.review(
            rule, msg("bilateral.the_s_posting_rule_is", agreement=_agreement_name(a), note=a.note)
        )
    if c.employment_status != "employed" and a.self_employed is False:
        return ctx.review(rule, msg("bilateral.no_self_employed", agreement=_agreement_name(a)))
    if a.nationality_limit:
        limited = _nationality_limit(ctx, a, rule)
        if limited is not None:
            return limited
    if a.scope:
        ctx.warn("bilateral.the_covers_only_part_of", agreement=_agreement_name(a), scope=a.scope)
    quebec = countries.quebec_agreement(a.home) if "CA" in (a.partner, a.home) else None
    if quebec is not None:
        if quebec.max_posting_months:
            ctx.warn("bilateral.quebec", months=quebec.max_posting_months)
        else:
            ctx.warn("bilateral.quebec_unknown")
    if c.employment_status != "employed" and a.self_employed is None:
        ctx.warn("bilateral.the_sources_give_the_agreement")
    ctx.warn("bilateral.confirm_the_agreement_s_posting")

    if a.no_fixed_limit:
        ctx.reason("bilateral.the_sets_no_fixed_time", agreement=_agreement_name(a))
        return _coc(ctx, a, rule, None)
    if a.max_posting_months is None:
        ctx.warn("bilateral.the_maximum_posting_period_of", agreement=_agreement_name(a))
        return _coc(ctx, a, rule, None)

    maximum = a.max_posting_months
    last_day = period_end(c.start, maximum)
    if c.end <= last_day:
        ctx.reason(
            "bilateral.the_trip_ends_on_or", last_day_date=last_day.isoformat(), maximum=maximum
        )
        return _coc(ctx, a, rule, maximum)
    foreseen = c.original_end or c.end
    if foreseen <= last_day:
        # Notified within the maximum, extended later: the first period stands (as under Art 12).
        ctx.reason(
            "bilateral.extended",
            original_end_date=foreseen.isoformat(),
            end_date=c.end.isoformat(),
            maximum=maximum,
            last_day_date=last_day.isoformat(),
        )
        ctx.reason("posting_duration.absences")
        return _bilateral_segments(ctx, a, rule, maximum, last_day)
    if _extension_covers(a, c.start, c.end, last_day) or c.art16_agreement == "granted":
        return _bilateral_segments(ctx, a, rule, maximum, last_day)
    if a.beyond_maximum == "home_then_host":
        ctx.reason(
            "bilateral_segments.the_trip_is_known_to",
            maximum=maximum,
            home_state=home,
            destination_state=dest,
            source=_cite(a.beyond_maximum_source or a.source),
        )
        return _bilateral_segments(ctx, a, rule, maximum, last_day)
    # Foreseen from the outset beyond the maximum and any extension: the detached-worker rule does
    # not apply at all, as under Art 12 (the agreement's own article is cited).
    ctx.reason(
        "bilateral.beyond_from_outset",
        maximum=maximum,
        agreement=_agreement_name(a),
        article=msg("bilateral.article", article=a.article) if a.article else "",
        destination_state=dest,
    )
    return _Answer(
        "none_host_legislation",
        dest,
        f"{rule}: not applicable (foreseen beyond {maximum} months) → host legislation",
        max_period_months=maximum,
    )


def _extension_covers(a: countries.Agreement, start: date, end: date, last_day: date) -> bool:
    """True when the agreement's own extension reaches the trip's end (no discretion involved)."""
    ext = a.extension or {}
    kind = ext.get("kind")
    if kind in ("to_completion", "indefinite"):
        return True
    if kind == "months":
        return end <= period_end(last_day + ONE_DAY, int(ext["months"]))
    return False


def _cite(source: str | None) -> str | None:
    """The address of a source (its first URL) for a reason; the whole text when it has none."""
    if not source:
        return source
    found = re.search(r"https?://\S+", source)
    return found.group(0).rstrip(";,)") if found else source


def _agreement_name(a: countries.Agreement) -> Message:
    return msg("agreement.name", home_state=a.home, partner_state=a.partner)


def _nationality_limit(ctx: _Ctx, a: countries.Agreement, rule: str) -> _Answer | None:
    c = ctx.case
    limit = a.nationality_limit or ()
    eu_ok = "EU" in limit
    named = msg(
        "bilateral.limit_with_eu" if eu_ok else "bilateral.limit",
        limit_states=sorted(n for n in limit if n != "EU"),
    )
    if c.nationality is None:
        return ctx.review(
            rule,
            msg("bilateral.limit_unknown", agreement=_agreement_name(a), nationals=named),
        )
    if any(n in limit or (eu_ok and countries.group_of(n) == "EU") for n in c.nationality):
        ctx.reason("bilateral.limit_met", agreement=_agreement_name(a), nationals=named)
        return None
    ctx.reason(
        "bilateral.limit_not_met",
        agreement=_agreement_name(a),
        nationals=named,
        nationality_states=sorted(c.nationality),
    )
    return _no_treaty(ctx)


def _coc(ctx: _Ctx, a: countries.Agreement, rule: str, maximum: int | None) -> _Answer:
    c = ctx.case
    ctx.reason("coc.s_legislation_continues_to_apply", home_state=c.home_state)
    _advance_notice(ctx, bilateral=True)
    return _Answer("CoC", c.home_state, rule, max_period_months=maximum, issuer_state=c.home_state)


def _bilateral_segments(
    ctx: _Ctx, a: countries.Agreement, rule: str, maximum: int, last_day: date
) -> _Answer:
    """A trip longer than the agreement's maximum: the CoC period, then prolongation or host law."""
    c = ctx.case
    home, dest = c.home_state, c.destination
    assert dest is not None and c.start is not None and c.end is not None
    segments = [_segment(c.start, last_day, home, "CoC", rule)]
    rest = last_day + ONE_DAY
    ext = a.extension or {}
    kind = ext.get("kind")
    host_rule = f"{rule}: maximum period exhausted → host legislation"
    prolong_rule = f"{rule}: extension of the posting"

    if kind in ("to_completion", "indefinite") or (
        kind in ("on_application", "exceptional_only", None) and c.art16_agreement == "granted"
    ):
        segments.append(_segment(rest, c.end, home, "CoC_prolongation", prolong_rule))
        if kind == "to_completion":
            ctx.reason("bilateral_segments.to_completion", rest_date=rest.isoformat())
        elif kind == "indefinite":
            ctx.reason("bilateral_segments.indefinite", rest_date=rest.isoformat())
        else:
            ctx.reason("bilateral_segments.exception_granted", rest_date=rest.isoformat())
        ctx.warn("bilateral_segments.the_prolongation_must_be_requested")
    elif kind == "months":
        extra = int(ext["months"])
        ext_end = period_end(rest, extra)
        if c.end <= ext_end:
            segments.append(_segment(rest, c.end, home, "CoC_prolongation", prolong_rule))
            ctx.reason(
                "bilateral_segments.extension_months", months=extra, rest_date=rest.isoformat()
            )
        else:
            segments.append(_segment(rest, ext_end, home, "CoC_prolongation", prolong_rule))
            segments.append(
                _segment(ext_end + ONE_DAY, c.end, dest, "none_host_legislation", host_rule)
            )
            ctx.reason(
                "bilateral_segments.extension_months_then_host",
                months=extra,
                rest_date=rest.isoformat(),
                host_date=(ext_end + ONE_DAY).isoformat(),
                destination_state=dest,
            )
        ctx.warn("bilateral_segments.the_prolongation_must_be_requested")
    else:
        segments.append(_segment(rest, c.end, dest, "none_host_legislation", host_rule))
        ctx.reason(
            "bilateral_segments.from_s_legislation_applies_the",
            rest_date=rest.isoformat(),
            destination_state=dest,
        )
        if kind == "none":
            ctx.reason("bilateral_segments.the_agreement_allows_no_extension")
        elif kind == "on_application":
            ctx.warn("bilateral_segments.the_agreement_allows_an_extension")
        elif kind == "exceptional_only":
            ctx.warn("bilateral_segments.beyond_the_maximum_only_an")
        else:
            ctx.warn("bilateral_segments.whether_the_agreement_allows_an")
    _advance_notice(ctx, bilateral=True)
    return _Answer(
        "CoC",
        home,
        rule,
        max_period_months=maximum,
        segments=segments,
        issuer_state=home,
    )


def _segment(start: date, end: date, state: str, certificate: str, rule: str) -> dict[str, Any]:
    return {
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "legislation_state": state,
        "certificate_type": certificate,
        "rule": rule,
    }


def _no_treaty(ctx: _Ctx) -> _Answer:
    """No coordination: home law may still cover, host law may apply too."""
    c = ctx.case
    ctx.reason("no_treaty.no_coordination_instrument_applies_so")
    ctx.warn("no_treaty.s_law_may_apply_at", destination_state=c.destination or c.home_state)
    cover_id = countries.home_cover_message(c.home_state)
    cover = msg(cover_id) if cover_id else None
    if cover is not None:
        ctx.reason(cover)
    return _Answer(
        "none_no_treaty",
        None,
        _NO_TREATY_RULE,
        home_coverage_possible=cover,
    )


# ------------------------------------------------------------------------- Art 13 (several states)


def _active_states(
    time: Mapping[str, float], money: Mapping[str, float] | None
) -> dict[str, float]:
    """States with a non-marginal activity: 987 Art 14(5b), guidance < 5 % of working time
    and/or remuneration. A state counts when either measure reaches 5 %."""
    active: dict[str, float] = {}
    for state in sorted(set(time) | set(money or {})):
        t = time.get(state, 0)
        m = (money or {}).get(state)
        if t >= MARGINAL_SHARE_PCT or (m is not None and m >= MARGINAL_SHARE_PCT):
            active[state] = t
    return active


def _marginal_note(ctx: _Ctx, time: Mapping[str, float], active: Mapping[str, float]) -> None:
    marginal = {s: p for s, p in time.items() if s not in active and p > 0}
    if marginal:
        ctx.reason(
            "marginal_note.marginal_activities_under_are_disregarded",
            marginal_share_pct=MARGINAL_SHARE_PCT,
            listed_shares=_shares(marginal),
        )


def _multi_state(ctx: _Ctx) -> _Answer:
    c = ctx.case
    if c.employment_status == "employed_and_self_employed":
        return _employed_and_self_employed_art13_3(ctx)
    time = c.work_split or {}
    active = _active_states(time, c.remuneration_split)
    if not active:  # every share under 5 %: nothing is marginal relative to anything else
        active = dict(time)
    ctx.reason("multi_state.work_split", work_shares=_shares(time))
    _marginal_note(ctx, time, active)
    blocked = _multi_state_scope(ctx, set(active))
    if isinstance(blocked, _Answer):
        return blocked
    inst = blocked

    if len(active) == 1:
        return _single_state_art11(ctx, inst, next(iter(active)))
    if c.employment_status == "employed":
        answer = _employed_art13_1(ctx, inst, time, c.remuneration_split)
        if answer.certificate_type == "review_required":
            return answer
        return _with_art16(ctx, inst, answer, set(active))
    answer = _self_employed_art13_2(ctx, inst, time, c.remuneration_split, active)
    if answer.certificate_type == "review_required":
        return answer
    return _with_art16(ctx, inst, answer, set(active))


def _multi_state_scope(ctx: _Ctx, active: set[str]) -> _Instrument | _Answer:
    """Art 13 covers activities in coordinated states only, for persons resident in one."""
    c = ctx.case
    outside = {s for s in active if not countries.is_coordinated(s)}
    if outside:
        return ctx.review(
            "Reg. 883/2004 Art 13",
            msg("multi_state_scope.part_of_the_work_is", outside_states=sorted(outside)),
        )
    if not countries.is_coordinated(c.residence_state):
        return ctx.review(
            "Reg. 883/2004 Art 13",
            msg("multi_state_scope.the_person_lives_in_outside", residence_state=c.residence_state),
        )
    seats_inside = {s for s, _ in c.employer_seats if countries.is_coordinated(s)}
    worked_or_lived = active | {c.residence_state}
    time = c.work_split if c.work_split is not None else (c.employed_split or {})
    money = c.remuneration_split if c.work_split is not None else None
    residence_substantial = _substantial(
        time.get(c.residence_state, 0), (money or {}).get(c.residence_state)
    )
    if "GB" in seats_inside and "GB" not in worked_or_lived and residence_substantial:
        seats_inside.discard("GB")  # the residence state applies under either instrument
    elif "GB" in seats_inside and "GB" not in worked_or_lived:
        # A UK employer for work only in EU/EEA/CH states: the TCA or 883/2004 with an employer
        # "outside the Union" (987 Art 14(11)) would give different answers; the sources do not say.
        return ctx.review(
            "Reg. 883/2004 Art 13(1)(b); Reg. 987/2009 Art 14(11); TCA Protocol",
            msg("multi_state_scope.an_employer_is_established_in"),
        )
    involved = worked_or_lived | seats_inside
    inst = _instrument(ctx, involved)
    if isinstance(inst, _Answer):
        return inst
    blocked = _personal_scope(ctx, inst, involved)
    return blocked if blocked is not None else inst


def _single_state_art11(ctx: _Ctx, inst: _Instrument, state: str) -> _Answer:
    """Only one non-marginal activity state left: the state of work (Art 11(3)(a))."""
    ctx.reason("single_state_art11.leaving_marginal_activities_aside_all", state=state)
    _art13_procedure(ctx, state)
    return _Answer(
        "A1",
        state,
        inst.cite("Reg. 883/2004 Art 11(3)(a); Reg. 987/2009 Art 14(5b)"),
    )


def _substantial(time_pct: float, money_pct: float | None) -> bool:
    """987 Art 14(8): working time and/or remuneration; under 25 % indicates not substantial."""
    return time_pct >= SUBSTANTIAL_SHARE_PCT or (
        money_pct is not None and money_pct >= SUBSTANTIAL_SHARE_PCT
    )


def _residence_share(
    ctx: _Ctx,
    time: Mapping[str, float],
    money: Mapping[str, float] | None,
    money_word: str,
) -> bool:
    """Explain and decide whether a substantial part is pursued in the residence state."""
    r = ctx.case.residence_state
    t = time.get(r, 0)
    m = (money or {}).get(r) if money is not None else None
    word = msg(f"word.{money_word}")
    measured = (
        msg("residence_share.time_only", time_pct=t)
        if m is None
        else msg("residence_share.time_and_money", time_pct=t, money_pct=m, word=word)
    )
    if _substantial(t, m):
        ctx.reason(
            "residence_share.substantial",
            measured=measured,
            residence_state=r,
            substantial_share_pct=SUBSTANTIAL_SHARE_PCT,
        )
        if m is not None and (t >= SUBSTANTIAL_SHARE_PCT) != (m >= SUBSTANTIAL_SHARE_PCT):
            ctx.warn(
                "residence_share.working_time_and_point_different", word=word, residence_state=r
            )
        return True
    ctx.reason(
        "residence_share.only_is_in_the_residence",
        measured=measured,
        residence_state=r,
        substantial_share_pct=SUBSTANTIAL_SHARE_PCT,
    )
    if max(t, m or 0) >= SUBSTANTIAL_SHARE_PCT - 5:
        ctx.reason("residence_share.the_25_threshold_must_be")
    return False


def _employed_art13_1(
    ctx: _Ctx,
    inst: _Instrument,
    time: Mapping[str, float],
    money: Mapping[str, float] | None,
    *,
    via: str = "",
) -> _Answer:
    """883/2004 Art 13(1): residence if substantial, else the employer-seat rules (i)-(iv)."""
    c = ctx.case
    r = c.residence_state
    if _residence_share(ctx, time, money, "remuneration"):
        _art13_procedure(ctx, r)
        return _Answer(
            "A1",
            r,
            inst.cite(f"{via}Reg. 883/2004 Art 13(1)(a); Reg. 987/2009 Art 14(8), 14(10)"),
        )

    # 987 Art 14(5b): an employment under 5 % of working time is marginal; its employer drops out.
    seats = [
        (s, share) for s, share in c.employer_seats if share is None or share >= MARGINAL_SHARE_PCT
    ]
    dropped = [
        s for s, share in c.employer_seats if share is not None and share < MARGINAL_SHARE_PCT
    ]
    if dropped and seats:
        ctx.reason(
            "employed_art13_1.an_employment_under_of_working",
            marginal_share_pct=MARGINAL_SHARE_PCT,
            dropped_states=sorted(set(dropped)),
        )
    else:
        seats = list(c.employer_seats)
    seat_states = {s for s, _ in seats}
    outside = {s for s in seat_states if not _in_area(inst, s)}
    if outside:
        if outside == seat_states:
            ctx.reason(
                "employed_art13_1.the_employer_is_established_in",
                outside_states=sorted(outside),
                residence_state=r,
            )
            _art13_procedure(ctx, r)
            return _Answer("A1", r, inst.cite(f"{via}Reg. 987/2009 Art 14(11)"))
        return ctx.review(
            inst.cite("Reg. 883/2004 Art 13(1)(b); Reg. 987/2009 Art 14(11)"),
            msg(
                "employed_art13_1.some_employers_are_established_in",
                outside_states=sorted(outside),
                inside_states=sorted(seat_states - outside),
            ),
        )

    # "Registered office" = where essential decisions are taken (987 Art 14(5a)).
    employers = len(seats)
    if len(seat_states) == 1:
        seat = next(iter(seat_states))
        point = "(i)" if employers == 1 else "(ii)"
        if employers == 1:
            ctx.reason("employed_art13_1.one_employer", seat_state=seat)
        else:
            ctx.reason("employed_art13_1.all_employers", employers=employers, seat_state=seat)
        state = seat
    elif len(seat_states) == 2 and r in seat_states:
        other = next(iter(seat_states - {r}))
        point = "(iii)"
        ctx.reason(
            "employed_art13_1.the_employers_have_their_registered",
            residence_state=r,
            other_state=other,
        )
        state = other
    else:
        point = "(iv)"
        ctx.reason(
            "employed_art13_1.the_employers_have_their_registered_2",
            seat_states=sorted(seat_states),
            residence_state=r,
        )
        state = r
    _art13_procedure(ctx, state)
    return _Answer(
        "A1",
        state,
        inst.cite(f"{via}Reg. 883/2004 Art 13(1)(b){point}; Reg. 987/2009 Art 14(5a), 14(8)"),
    )


def _in_area(inst: _Instrument, state: str) -> bool:
    if inst.kind == "883":
        return countries.in_883_area(state)
    return countries.group_of(state) in ("EU", "GB")


def _self_employed_art13_2(
    ctx: _Ctx,
    inst: _Instrument,
    time: Mapping[str, float],
    income: Mapping[str, float] | None,
    active: Mapping[str, float],
) -> _Answer:
    """883/2004 Art 13(2): residence if substantial, else the centre of interest (987 Art 14(9))."""
    c = ctx.case
    r = c.residence_state
    if _residence_share(ctx, time, income, "income"):
        _art13_procedure(ctx, r)
        return _Answer(
            "A1", r, inst.cite("Reg. 883/2004 Art 13(2)(a); Reg. 987/2009 Art 14(8), 14(10)")
        )
    top = max(active.values())
    leaders = {s for s, p in active.items() if p == top}
    place = c.fixed_place_of_business
    if place is None:
        place = c.home_state
        ctx.warn("self_employed_art13_2.place_assumed", home_state=c.home_state)
    if place in active and place in leaders:
        ctx.reason(
            "self_employed_art13_2.the_centre_of_interest_is",
            place_state=place,
            share_pct=active[place],
        )
        ctx.warn("self_employed_art13_2.the_centre_of_interest_is_2")
        _art13_procedure(ctx, place)
        return _Answer(
            "A1",
            place,
            inst.cite("Reg. 883/2004 Art 13(2)(b); Reg. 987/2009 Art 14(9)"),
        )
    return ctx.review(
        inst.cite("Reg. 883/2004 Art 13(2)(b); Reg. 987/2009 Art 14(9)"),
        msg(
            "self_employed_art13_2.no_substantial_part_is_pursued",
            place_state=place,
            leaders_states=sorted(leaders),
        ),
    )


def _employed_and_self_employed_art13_3(ctx: _Ctx) -> _Answer:
    """883/2004 Art 13(3): the state of the employed activity; Art 13(1) if employed in several."""
    c = ctx.case
    employed = c.employed_split or {}
    employed_active = _active_states(employed, None) or dict(employed)
    self_active = _active_states(c.self_employed_split, None) if c.self_employed_split else {}
    if c.self_employed_split:
        ctx.reason(
            "art13_3.activities",
            employed_shares=_shares(employed),
            self_employed_shares=_shares(c.self_employed_split),
        )
    else:
        ctx.reason("art13_3.employed_activity", employed_shares=_shares(employed))
    _marginal_note(ctx, employed, employed_active)
    blocked = _multi_state_scope(ctx, set(employed_active) | set(self_active))
    if isinstance(blocked, _Answer):
        return blocked
    inst = blocked
    if len(employed_active) == 1:
        state = next(iter(employed_active))
        if self_active and set(self_active) <= {state}:
            ctx.reason("employed_and_self_employed_art13_3.both_the_employed_and_the", state=state)
            _art13_procedure(ctx, state)
            return _Answer("A1", state, inst.cite("Reg. 883/2004 Art 11(3)(a)"))
        ctx.reason("employed_and_self_employed_art13_3.the_person_is_employed_in_2", state=state)
        _art13_procedure(ctx, state)
        return _with_art16(
            ctx,
            inst,
            _Answer("A1", state, inst.cite("Reg. 883/2004 Art 13(3)")),
            set(employed_active),
        )
    ctx.reason("employed_and_self_employed_art13_3.the_person_is_employed_in")
    answer = _employed_art13_1(ctx, inst, employed, None, via="Reg. 883/2004 Art 13(3) → ")
    if answer.certificate_type == "review_required":
        return answer
    return _with_art16(ctx, inst, answer, set(employed_active))


def _art13_procedure(ctx: _Ctx, state: str) -> None:
    """987 Art 16 and 14(10): the residence state decides provisionally, final after 2 months."""
    r = ctx.case.residence_state
    ctx.warn(
        "art13_procedure.the_person_usually_through_the",
        residence_state=r,
        provisional_determination_months=PROVISIONAL_DETERMINATION_MONTHS,
    )
    ctx.warn(
        "art13_procedure.the_assessment_projects_the_next",
        assessment_horizon_months=ASSESSMENT_HORIZON_MONTHS,
    )
    if state != r:
        ctx.reason("art13_procedure.s_institution_then_registers_the", state=state)


def _with_art16(ctx: _Ctx, inst: _Instrument, general: _Answer, active: set[str]) -> _Answer:
    """Art 16 on top of Art 13: the telework framework agreement, then individual agreements."""
    c = ctx.case
    if c.art16_request and c.employment_status == "employed" and inst.kind == "883":
        framework = _telework_framework_agreement(ctx, general, active)
        if framework is not None:
            return framework
    elif c.art16_request and inst.kind != "883":
        ctx.reason("with_art16.the_telework_framework_agreement_is")
    general_sentence = msg(
        "with_art16.s_legislation_applies_under",
        legislation_state=general.legislation_state or "",
        rule=general.rule,
    )
    if inst.kind == "tca" and c.art16_agreement != "none":
        return ctx.review(
            general.rule,
            msg("with_art16.an_art_16_type_exception"),
        )
    answer = _art16_agreement(ctx, inst, fallback=general, fallback_sentence=general_sentence)
    return answer if answer is not None else general


def _telework_framework_agreement(ctx: _Ctx, general: _Answer, active: set[str]) -> _Answer | None:
    """Framework agreement on cross-border telework (Art 16, from 1 Jul 2023).

    On a joint request, the employer-seat state applies when telework in the residence state is
    under 50 %, both states have signed, and the work is only telework at home plus work in the
    employer-seat state. Returns None (with the reason) when it does not apply.
    """
    c = ctx.case
    r = c.residence_state
    seat_states = {s for s, _ in c.employer_seats}
    why_not: str | None = None
    seat = next(iter(seat_states)) if len(seat_states) == 1 else None
    signatories = countries.telework_signatories()
    telework = c.telework_pct_in_residence
    if seat is None:
        why_not = msg("telework_framework_agreement.it_needs_a_single_employer")
    elif seat == r:
        why_not = msg("telework_framework_agreement.the_employer_is_seated_in")
    elif telework is None:
        why_not = msg("telework_framework_agreement.the_share_of_telework_in")
    elif telework >= TELEWORK_LIMIT_PCT:
        why_not = msg(
            "telework_framework_agreement.telework_in_the_residence_state",
            telework_pct=telework,
            telework_limit_pct=TELEWORK_LIMIT_PCT,
        )
    elif not {r, seat} <= signatories:
        missing = {r, seat} - signatories
        why_not = msg(
            "telework_framework_agreement.had_not_signed_it_list", missing_states=sorted(missing)
        )
    elif c.start is not None and c.start < countries.telework_framework_from():
        why_not = msg("telework_framework_agreement.it_applies_from_1_july")
    elif not active <= {r, seat}:
        why_not = msg(
            "telework_framework_agreement.the_person_also_works_in",
            others_states=sorted(active - {r, seat}),
        )
    elif (c.work_split or {}).get(r, 0) > telework + 1:
        why_not = msg("telework_framework_agreement.the_person_also_works_in_2")

    if why_not is not None:
        ctx.reason(
            "telework_framework_agreement.the_telework_framework_agreement_was", why_not=why_not
        )
        if general.legislation_state == r:
            ctx.warn("telework_framework_agreement.an_individual_art_16_agreement")
        return None
    assert seat is not None
    if general.legislation_state == seat:
        ctx.reason(
            "telework_framework_agreement.the_telework_framework_agreement_is", seat_state=seat
        )
        return None
    ctx.reason(
        "telework_framework_agreement.on_the_joint_request_of",
        residence_state=r,
        telework_pct=telework,
        telework_limit_pct=TELEWORK_LIMIT_PCT,
        seat_state=seat,
    )
    ctx.warn("telework_framework_agreement.the_request_goes_to_the", seat_state=seat)
    return _Answer(
        "A1_via_derogation_art16",
        seat,
        "Reg. 883/2004 Art 16; Framework Agreement on cross-border telework (from 1 Jul 2023); "
        "Reg. 987/2009 Art 18",
    )

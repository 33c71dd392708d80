"""The applicable-legislation engine: whose social security covers a trip, and which certificate.

Built to ``/work/shared/domain/legal-rules.md`` (cited as "legal-rules §n"). Each rule family is a
small function named after its article, so a lawyer can read the decision in the order the
regulation takes it:

1. instrument: EU/EEA/CH → Reg. 883/2004 (:func:`_instrument`); GB → TCA Protocol, or the
   Withdrawal Agreement for a situation running since before 2021; any other pair → a bilateral
   agreement (:func:`_bilateral`) or none (:func:`_no_treaty`);
2. a temporary trip is a posting (:func:`_posting_employed_art12_1`,
   :func:`_posting_self_employed_art12_2`); a regular pattern is work in two or more states
   (:func:`_employed_art13_1`, :func:`_self_employed_art13_2`,
   :func:`_employed_and_self_employed_art13_3`);
3. Art 16 exceptions, including the telework framework agreement (:func:`_art16_agreement`,
   :func:`_telework_framework_agreement`);
4. the certificate is issued by the competent institution of the state whose legislation applies.

Inputs (after :func:`web.coverage.validation.validate_case`):

- ``home_state`` is the sending state: the employer's state for an employed posting, the state
  where a self-employed person normally works; for regular multi-state work it is the employer's
  state, and for the self-employed the state of the fixed place of business. It is also the state
  whose legislation an individual Art 16 agreement keeps.
- ``art16_request`` (true/false) says the employer and employee ask for an Art 16 exception: in
  multi-state work, the joint request under the telework framework agreement; for a posting, the
  wish to request a derogation. It changes warnings and triggers the framework agreement; it never
  decides a case alone. ``art16_agreement`` says where an individual agreement stands: ``none``,
  ``requested`` (filed, not decided) or ``granted``.

Cases answered ``review_required`` (the rules need an individual assessment; never a guess):

1. Prior insurance of less than one month before a posting (987 Art 14(1): "immediately before";
   institutions read at least one month; shorter periods are assessed case by case), or a person
   recruited for the posting whose prior insurance is not given.
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
   1 April 2012; EEA before 1 June 2012): the older rules are not in the sources.
7. Multi-state work partly in a state outside the EU/EEA/CH/UK (Art 13 does not cover that part;
   the multi-state rules of bilateral agreements are not in the sources).
8. Multi-state work for several employers of which some, not all, are established outside the
   coordination area (987 Art 14(11) is written for an employer outside the EU).
9. A self-employed person in several states without a substantial part in the residence state
   whose home state (fixed place of business) is not also where most of the work is done: the
   centre of interest is an overall assessment (987 Art 14(9)).
10. A person both employed and self-employed who is posted while the activities normally lie in
    different states (Art 12 and Art 13(3) interact).
11. An Art 16 agreement requested and not yet decided (outcome depends on the authorities).
12. An Art 16-type exception recorded as granted under the TCA Protocol, which the sources say
    allows none.
13. Bilateral: an agreement the sources name without confirming it (e.g. France's commonly cited
    partners, Italy and the former Yugoslav states, Austria–Japan/Brazil, Spain–China), one that is
    partly suspended (Austria–Kosovo), one without a confirmed detached-worker rule (Italy–US,
    Italy–Mexico), one limited to certain nationals when the nationality is not given.
14. A pair for which no complete list of agreements is stored (home states FR, LU, IT, ES, PL, or
    any state not in the catalogue): the catalogue cannot say there is no agreement.
15. Regular multi-state work in EU/EEA/Swiss states only, for an employer in the UK, without a
    substantial part in the residence state: the TCA and 883/2004 with an employer "outside the
    Union" (987 Art 14(11)) would differ, and the sources do not settle which governs.

Not covered (no input for them): civil servants (Art 11(3)(b), 13(4)), flight crew and mariners
(Art 11(4)-(5)), unemployment and other special cases; the caller must not use the engine for them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from web.coverage import countries
from web.coverage.countries import label
from web.coverage.dates import ONE_DAY, add_months, days_inclusive, fits_within, period_end
from web.coverage.providers import ProviderCategory, normalise_states, provider_category
from web.coverage.validation import CaseError, validate_case

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

CertificateType = Literal[
    "A1",
    "A1_via_derogation_art16",
    "CoC",
    "CoC_prolongation",
    "none_host_legislation",
    "none_no_treaty",
    "review_required",
]
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


def _pct(value: float | None) -> str:
    if value is None:
        return "0 %"
    rounded = round(value, 2)
    return f"{int(rounded)} %" if rounded == int(rounded) else f"{rounded:g} %"


def _days(start: date, end: date) -> str:
    days = days_inclusive(start, end)
    return "1 day" if days == 1 else f"{days} days"


def _states(codes: Iterable[str]) -> str:
    names = [label(c) for c in sorted(codes)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


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
    notes: tuple[str, ...]

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
        )


@dataclass
class _Answer:
    certificate_type: CertificateType
    legislation_state: str | None
    rule: str
    max_period_months: int | None = None
    segments: list[dict[str, Any]] = field(default_factory=list)
    home_coverage_possible: str | None = None
    # Whose institution issues the certificate; defaults to the legislation state.
    issuer_state: str | None = None


@dataclass
class _Ctx:
    case: _Case
    today: date
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def reason(self, text: str) -> None:
        self.reasons.append(text)

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def review(self, rule: str, why: str, *, max_months: int | None = None) -> _Answer:
        self.reason(f"Review required: {why}")
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
        if note.startswith("Ignored"):
            ctx.warn(note)
        else:
            ctx.reason(note)

    answer = _posting(ctx) if c.kind == "posting" else _multi_state(ctx)

    issuer_state = answer.issuer_state or answer.legislation_state
    issues_certificate = answer.certificate_type in _CERTIFICATES and issuer_state is not None
    return {
        "legislation_state": answer.legislation_state,
        "certificate_type": answer.certificate_type,
        "certificate_issuer": countries.institution(issuer_state) if issues_certificate else None,
        "rule": answer.rule,
        "max_period_months": answer.max_period_months,
        "reasons": ctx.reasons,
        "segments": answer.segments,
        "warnings": ctx.warnings,
        "provider_category": _provider_category(c, answer, issuer_state, filing),
        "home_coverage_possible": answer.home_coverage_possible,
    }


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
        return ctx.review("legal-rules §1", gap)
    groups = {countries.group_of(s) for s in states}
    if "GB" in groups:
        if start is not None and start < TCA_START:
            ctx.reason(
                "The trip started before 1 January 2021: a cross-border situation with the UK "
                "running without interruption since then stays under the Withdrawal Agreement, "
                "which keeps Regulation 883/2004."
            )
            return _Instrument("wa", countries.legal_basis("GB") or "")
        ctx.reason(
            "The UK is involved: the EU–UK Trade and Cooperation Agreement's Protocol on Social "
            "Security Coordination applies (new cases from 1 January 2021)."
        )
        return _Instrument("tca", countries.legal_basis("GB") or "")
    for group in sorted(g for g in groups if g):
        applies_from = countries.group_applies_from(group)
        if start is not None and start < applies_from:
            return ctx.review(
                "legal-rules §1",
                f"the trip starts before {applies_from.isoformat()}, when Regulation 883/2004 "
                f"began to apply for {group} states; the earlier rules are not in the sources.",
            )
    bases = sorted({countries.legal_basis(s) or "" for s in states} - {""})
    ctx.reason("Legal basis: " + "; ".join(bases) + ".")
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
                f"Nationality not given: if the person is a third-country national, the "
                f"coordination rules may not apply in relation to {_states(sensitive)} "
                "(Reg. 1231/2010 does not apply to Denmark or Switzerland) and the case needs "
                "review."
            )
        return None
    if not _third_country_national(c.nationality, inst):
        return None
    nationals = _states(c.nationality)
    if inst.kind == "tca":
        ctx.warn(
            f"The person is a national of {nationals}: the TCA Protocol's position for "
            "third-country nationals is not verified in the sources."
        )
        return None
    if sensitive:
        extra = ""
        if "CH" in sensitive and countries.bilateral_agreement(c.home_state, "CH"):
            extra = (
                f" The {countries.country_name(c.home_state)}–Switzerland bilateral agreement, "
                "which covers nationals outside the EU–Switzerland agreement, may apply."
            )
        return ctx.review(
            "Reg. 1231/2010; CJEU C-477/17 Balandin",
            f"the person is a third-country national ({nationals}). Regulation 1231/2010 extends "
            "883/2004 to legally resident third-country nationals but not in relation to Denmark "
            f"or Switzerland, and the EEA position is unconfirmed; {_states(sensitive)} "
            f"is involved.{extra}",
        )
    if not countries.in_883_area(c.residence_state):
        return ctx.review(
            "Reg. 1231/2010",
            f"the person is a third-country national ({nationals}) living in "
            f"{label(c.residence_state)}; Regulation 1231/2010 covers third-country nationals "
            "only while legally resident in a Member State.",
        )
    ctx.reason(
        f"The person is a national of {nationals}: Regulation 1231/2010 extends Regulation "
        "883/2004 to third-country nationals legally resident in a Member State."
    )
    ctx.warn("Confirm that the person is legally resident in a Member State (Reg. 1231/2010).")
    return None


# --------------------------------------------------------------------------- postings (Art 12)


def _posting(ctx: _Ctx) -> _Answer:
    c = ctx.case
    assert c.destination is not None and c.start is not None and c.end is not None
    ctx.reason(
        f"Posting from {label(c.home_state)} to {label(c.destination)} from "
        f"{c.start.isoformat()} to {c.end.isoformat()} ({_days(c.start, c.end)}, dates "
        "inclusive). Temporary work abroad is assessed as a posting whatever its length; a "
        "regular pattern of work in several states would fall under Art 13 instead (987 Art "
        "14(7); CCSS: business trips are postings)."
    )
    treaty = countries.treaty_between(c.home_state, c.destination)
    if treaty.status != "coordination":
        return _bilateral(ctx, treaty)

    states = {c.home_state, c.destination}
    inst = _instrument(ctx, states)
    if isinstance(inst, _Answer):
        return inst
    if not countries.is_coordinated(c.residence_state):
        ctx.reason(
            f"The person lives in {label(c.residence_state)}, outside the coordination area; "
            "Regulation 883/2004 covers nationals of the Member States wherever they live "
            "(Art 2(1))."
        )
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
                "the person is employed and self-employed with activities normally in "
                f"{_states(elsewhere | {c.home_state})}: how a posting interacts with Art 13(3) "
                "needs an individual assessment.",
                max_months=MAX_POSTING_MONTHS,
            )
        ctx.reason(
            "The person is also self-employed in the home state; the posted activity is the "
            "employed one, so Art 12(1) is applied."
        )
    return _posting_employed_art12_1(ctx, inst)


def _posting_employed_art12_1(ctx: _Ctx, inst: _Instrument) -> _Answer:
    """883/2004 Art 12(1); 987/2009 Art 14(1)-(2); TCA Art SSC.11 on the same conditions."""
    c = ctx.case
    failed: list[str] = []
    needs_review: list[str] = []

    gap = _gap_after_previous_posting(ctx, inst)
    if gap:
        failed.append(gap)

    # Alpenrind (C-527/16): the ban holds even when the two workers have different employers.
    if c.replacing_posted_worker is True:
        failed.append(
            "The person is sent to replace another posted person, which Art 12(1) forbids even "
            "when the two were posted by different employers (CJEU C-527/16 Alpenrind)."
        )
    elif c.replacing_posted_worker is None:
        ctx.warn("Confirm that the person does not replace another posted person (Art 12(1)).")

    # 987 Art 14(2): the employer must normally carry out substantial activities in the home state.
    if c.employer_substantial_activity_in_home_state is False:
        failed.append(
            f"The employer does not carry out substantial activities in {label(c.home_state)} "
            "(only internal management does not count), so it does not 'normally carry out its "
            "activities' there (987 Art 14(2))."
        )
    elif c.employer_substantial_activity_in_home_state is None:
        ctx.warn(
            f"Confirm that the employer carries out substantial activities in "
            f"{label(c.home_state)}, not only internal management (987 Art 14(2))."
        )

    # 987 Art 14(1): "immediately before" the posting, read as at least one month by institutions.
    months = c.prior_insurance_months
    if months is not None and months < MIN_PRIOR_INSURANCE_MONTHS:
        needs_review.append(
            f"the person was insured in {label(c.home_state)} for {months:g} month(s) before "
            "the posting; institutions require at least one month (987 Art 14(1)) and assess "
            "shorter periods individually."
        )
    elif months is None and c.recruited_for_posting:
        needs_review.append(
            "the person was recruited for the posting, so they must have been insured in "
            f"{label(c.home_state)} immediately before it (at least one month, 987 Art 14(1)); "
            "the prior insurance is not given."
        )
    elif months is None:
        ctx.warn(
            f"Confirm at least one month of insurance in {label(c.home_state)} before the "
            "posting (987 Art 14(1))."
        )
    else:
        ctx.reason(
            f"The person was insured in {label(c.home_state)} for {months:g} month(s) before the "
            "posting: at least one month (987 Art 14(1))."
        )

    exceeded = _posting_duration(ctx, failed)
    if failed:
        for text in needs_review:
            ctx.warn("Also: " + text[0].upper() + text[1:])
        return _art12_not_applicable(ctx, inst, failed, duration_exceeded=exceeded)
    if needs_review:
        return ctx.review(
            inst.cite("Reg. 883/2004 Art 12(1); Reg. 987/2009 Art 14(1)"),
            " ".join(needs_review),
            max_months=MAX_POSTING_MONTHS,
        )
    return _posting_a1(ctx, inst, "Reg. 883/2004 Art 12(1); Reg. 987/2009 Art 14(1)-(2), 15(1)")


def _posting_self_employed_art12_2(ctx: _Ctx, inst: _Instrument) -> _Answer:
    """883/2004 Art 12(2); 987/2009 Art 14(3)-(4). No replacement ban for the self-employed."""
    c = ctx.case
    failed: list[str] = []
    needs_review: list[str] = []

    gap = _gap_after_previous_posting(ctx, inst)
    if gap:
        failed.append(gap)

    # 987 Art 14(4): the activity abroad must be similar in nature to the usual one.
    if c.similar_activity is False:
        failed.append(
            "The activity abroad is not similar to the person's usual self-employed activity "
            "(987 Art 14(4)), so Art 12(2) does not apply."
        )
    elif c.similar_activity is None:
        ctx.warn("Confirm that the activity abroad is similar to the usual one (987 Art 14(4)).")

    # Art 12(2)/987 Art 14(3): pursued "for some time" before; guidance says about 2 months.
    months = c.self_employed_activity_months
    if months is not None and months < MIN_SELF_EMPLOYED_ACTIVITY_MONTHS:
        needs_review.append(
            f"the person has been self-employed in {label(c.home_state)} for {months:g} "
            "month(s); the activity must have been pursued 'for some time' before the posting "
            "(guidance: about 2 months)."
        )
    elif months is None:
        ctx.warn(
            f"Confirm that the person has been self-employed in {label(c.home_state)} for some "
            "time before the trip (guidance: about 2 months)."
        )

    exceeded = _posting_duration(ctx, failed)
    if failed:
        for text in needs_review:
            ctx.warn("Also: " + text[0].upper() + text[1:])
        return _art12_not_applicable(ctx, inst, failed, duration_exceeded=exceeded)
    if needs_review:
        return ctx.review(
            inst.cite("Reg. 883/2004 Art 12(2); Reg. 987/2009 Art 14(3)"),
            " ".join(needs_review),
            max_months=MAX_POSTING_MONTHS,
        )
    return _posting_a1(ctx, inst, "Reg. 883/2004 Art 12(2); Reg. 987/2009 Art 14(3)-(4), 15(1)")


def _posting_duration(ctx: _Ctx, failed: list[str]) -> bool:
    """Art 12: anticipated duration at most 24 months (inclusive dates). True when exceeded."""
    c = ctx.case
    assert c.start is not None and c.end is not None
    last_day = period_end(c.start, MAX_POSTING_MONTHS)
    if fits_within(c.start, c.end, MAX_POSTING_MONTHS):
        ctx.reason(
            f"The posting ends on or before {last_day.isoformat()}, the last day of "
            f"{MAX_POSTING_MONTHS} months from the start: within the "
            f"{MAX_POSTING_MONTHS}-month limit."
        )
        return False
    failed.append(
        f"The anticipated duration exceeds {MAX_POSTING_MONTHS} months: the {MAX_POSTING_MONTHS} "
        f"months end on {last_day.isoformat()}, the trip on {c.end.isoformat()}. Holidays, "
        "illness or training do not extend the limit (Practical Guide)."
    )
    return True


def _gap_after_previous_posting(ctx: _Ctx, inst: _Instrument) -> str | None:
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
            f"The previous posting to {label(c.destination)} ended on "
            f"{prev['end_date'].isoformat()}: at least {POSTING_GAP_MONTHS} months have passed."
        )
        return None
    if inst.kind == "tca":
        ctx.warn(
            f"The previous posting to {label(c.destination)} ended on "
            f"{prev['end_date'].isoformat()}, less than {POSTING_GAP_MONTHS} months before this "
            "one. The Practical Guide's 2-month gap is an EU rule; its use under the TCA is "
            "not verified."
        )
        return None
    return (
        f"The same employer's previous posting of this person to {label(c.destination)} ended "
        f"on {prev['end_date'].isoformat()}; a new posting needs a gap of at least "
        f"{POSTING_GAP_MONTHS} months, so it could start on {earliest.isoformat()} at the earliest "
        "(Practical Guide, Part I §13)."
    )


def _posting_a1(ctx: _Ctx, inst: _Instrument, articles: str) -> _Answer:
    c = ctx.case
    ctx.reason(
        f"All posting conditions are met: {label(c.home_state)}'s legislation continues to apply "
        f"and its competent institution issues the A1 on request (987 Art 19(2))."
    )
    _advance_notice(ctx)
    return _Answer("A1", c.home_state, inst.cite(articles), max_period_months=MAX_POSTING_MONTHS)


def _advance_notice(ctx: _Ctx) -> None:
    c = ctx.case
    ctx.warn(
        "The employer must inform the competent institution before the posting starts "
        "(987 Art 15(1))."
    )
    if c.home_state == "BE":
        ctx.warn(
            "Belgium: a Dimona declaration must cover the employee for the whole period "
            "requested, or the application cannot be filed (LSS)."
        )
    if c.start is not None and c.start < ctx.today:
        ctx.warn(
            f"The trip started on {c.start.isoformat()}, before today ({ctx.today.isoformat()}): "
            "request the certificate at once."
        )


def _art12_not_applicable(
    ctx: _Ctx, inst: _Instrument, failed: list[str], *, duration_exceeded: bool
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
    host_sentence = (
        f"The posting rules do not apply, so the legislation of the state where the work is "
        f"done, {label(c.destination)}, applies from the first day (Art 11(3)(a)): the employer "
        "registers the employee there; no A1 is issued."
    )
    if inst.kind == "tca":
        if duration_exceeded:
            ctx.warn(
                "The TCA Protocol allows no extension beyond 24 months and no Art 16-type "
                "agreement (INPS circular 71/2021; Vialto)."
            )
        if c.art16_agreement == "granted":
            return ctx.review(
                "TCA Protocol Art SSC.11",
                "an exception is recorded as granted, but the sources say the TCA Protocol "
                "allows no Art 16-type extension; check the document.",
                max_months=MAX_POSTING_MONTHS,
            )
        ctx.reason(host_sentence)
        return host

    answer = _art16_agreement(ctx, inst, fallback=host, fallback_sentence=host_sentence)
    if answer is not None:
        return answer
    if duration_exceeded:
        ctx.reason(
            "A posting known from the start to exceed 24 months needs an Art 16 agreement "
            "(Practical Guide)."
        )
        _derogation_notice(ctx, c.home_state)
    ctx.reason(host_sentence)
    return host


# --------------------------------------------------------------------------- Art 16


def _art16_agreement(
    ctx: _Ctx, inst: _Instrument, *, fallback: _Answer, fallback_sentence: str
) -> _Answer | None:
    """883/2004 Art 16: an individual agreement keeps the home state's legislation."""
    c = ctx.case
    if c.art16_agreement == "granted":
        ctx.reason(
            f"The competent authorities agreed an exception under Art 16: "
            f"{label(c.home_state)}'s legislation applies for the agreed period, certified by an "
            "A1 issued under the derogation."
        )
        if (
            c.kind == "posting"
            and c.start is not None
            and c.end is not None
            and not fits_within(c.start, c.end, TYPICAL_ART16_POSTING_MONTHS)
        ):
            ctx.warn(
                "The trip is longer than the usual Art 16 total of about 5 years (usp.gv.at): "
                "check that the agreement covers all of it."
            )
        ctx.warn("The A1 is valid only for the period and conditions the agreement states.")
        return _Answer(
            "A1_via_derogation_art16",
            c.home_state,
            inst.cite("Reg. 883/2004 Art 16; Reg. 987/2009 Art 18"),
        )
    if c.art16_agreement == "requested":
        _derogation_notice(ctx, c.home_state)
        return ctx.review(
            inst.cite("Reg. 883/2004 Art 16; Reg. 987/2009 Art 18"),
            "an Art 16 agreement has been requested and not yet decided. If it is granted, "
            f"{label(c.home_state)}'s legislation applies with an A1 under the derogation; if "
            f"it is refused, {fallback_sentence[0].lower()}{fallback_sentence[1:]}",
            max_months=fallback.max_period_months,
        )
    return None


def _derogation_notice(ctx: _Ctx, requested_state: str) -> None:
    c = ctx.case
    ctx.warn(
        "An Art 16 derogation must be requested at least 3 months before the start; the request "
        f"goes to the authority of the state whose legislation is requested, "
        f"{label(requested_state)} (987 Art 18; Urssaf)."
    )
    if c.start is not None and c.start < add_months(ctx.today, DEROGATION_NOTICE_MONTHS):
        ctx.warn(
            f"The trip starts on {c.start.isoformat()}, less than 3 months from today "
            f"({ctx.today.isoformat()}): a derogation requested now may not be decided in time."
        )


# --------------------------------------------------------------------------- bilateral / no treaty


def _bilateral(ctx: _Ctx, treaty: countries.Treaty) -> _Answer:
    """A bilateral agreement's detached-worker rule and its maximum period (legal-rules §7)."""
    c = ctx.case
    home, dest = c.home_state, c.destination
    assert dest is not None and c.start is not None and c.end is not None
    if treaty.status == "none":
        ctx.reason(
            f"No social security agreement links {label(home)} and {label(dest)} "
            f"(complete list: {treaty.source})."
        )
        return _no_treaty(ctx)
    if treaty.status == "unknown":
        if treaty.note:
            return ctx.review("legal-rules §1", treaty.note)
        return ctx.review(
            "legal-rules §7",
            f"the catalogue has no complete list of {label(home)}'s social security agreements "
            f"and none with {label(dest)} is stored, so it cannot say whether one exists.",
        )
    if treaty.status == "unconfirmed":
        return ctx.review(
            "legal-rules §7",
            f"an agreement between {label(home)} and {label(dest)} is named in the sources but "
            f"not confirmed ({treaty.note}; {treaty.source}).",
        )
    a = treaty.agreement
    assert a is not None
    rule = f"{a.name}: detached-worker rule"
    ctx.reason(f"The {a.name} applies (source: {a.source}).")

    if a.status == "partly_suspended":
        return ctx.review(rule, f"the {a.name} is partly suspended ({a.note}).")
    if a.detached_worker_rule is False:
        return ctx.review(
            a.name,
            f"the {a.name} has no detached-worker rule; which legislation applies follows from "
            "its other rules, which are not in the sources.",
        )
    if a.detached_worker_rule is None:
        return ctx.review(a.name, f"the {a.name}'s posting rule is not confirmed ({a.note}).")
    if a.nationality_limit:
        limited = _nationality_limit(ctx, a, rule)
        if limited is not None:
            return limited
    if a.scope:
        ctx.warn(
            f"The {a.name} covers only part of social security ({a.scope}): other branches "
            "follow national law, and double coverage is possible."
        )
    quebec = countries.quebec_agreement(a.home) if "CA" in (a.partner, a.home) else None
    if quebec is not None:
        qmax = quebec.max_posting_months
        ctx.warn(
            "Work in Quebec falls under the separate understanding with Quebec"
            + (f" (maximum {qmax} months)." if qmax else " (maximum period not confirmed).")
        )
    if c.employment_status != "employed":
        ctx.warn(
            "The sources give the agreement's rule for employees; confirm that it covers a "
            "self-employed person's trip."
        )
    ctx.warn(
        "Confirm the agreement's posting conditions with the institution (employee of the "
        "sending employer, temporary work)."
    )

    if a.no_fixed_limit:
        ctx.reason(
            f"The {a.name} sets no fixed time limit on postings: the limit follows from the "
            "contract or the nature of the task."
        )
        return _coc(ctx, a, rule, None)
    if a.max_posting_months is None:
        ctx.warn(
            f"The maximum posting period of the {a.name} is not confirmed in the sources: check "
            "it before relying on the certificate."
        )
        return _coc(ctx, a, rule, None)

    maximum = a.max_posting_months
    last_day = period_end(c.start, maximum)
    rule = f"{rule} (maximum {maximum} months)"
    if c.end <= last_day:
        ctx.reason(
            f"The trip ends on or before {last_day.isoformat()}, within the agreement's "
            f"maximum of {maximum} months."
        )
        return _coc(ctx, a, rule, maximum)
    if a.beyond_maximum == "host_from_start":
        ctx.reason(
            f"The trip is expected to last beyond the agreement's {maximum} months, so the "
            f"detached-worker rule does not apply and {label(dest)}'s legislation applies from "
            "the first day (SSA: the rule covers assignments expected to last 5 years or less)."
        )
        return _Answer(
            "none_host_legislation",
            dest,
            f"{a.name}: detached-worker rule not applicable (expected duration over {maximum} "
            "months) → host legislation",
            max_period_months=maximum,
        )
    return _bilateral_segments(ctx, a, rule, maximum, last_day)


def _nationality_limit(ctx: _Ctx, a: countries.Agreement, rule: str) -> _Answer | None:
    c = ctx.case
    limit = a.nationality_limit or ()
    named = [countries.country_name(n) if n != "EU" else "EU Member States" for n in limit]
    if c.nationality is None:
        return ctx.review(
            rule,
            f"the {a.name} covers only nationals of {', '.join(named)}; the person's "
            "nationality is not given.",
        )
    eu_ok = "EU" in limit
    if any(n in limit or (eu_ok and countries.group_of(n) == "EU") for n in c.nationality):
        ctx.reason(f"The person's nationality is covered by the {a.name} ({', '.join(named)}).")
        return None
    ctx.reason(
        f"The {a.name} covers only nationals of {', '.join(named)}; the person is a national of "
        f"{_states(c.nationality)}, so it does not apply to them."
    )
    return _no_treaty(ctx)


def _coc(ctx: _Ctx, a: countries.Agreement, rule: str, maximum: int | None) -> _Answer:
    c = ctx.case
    ctx.reason(
        f"{label(c.home_state)}'s legislation continues to apply; its institution issues a "
        "certificate of coverage (CoC)."
    )
    _advance_notice(ctx)
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
    host_rule = f"{a.name}: maximum period exhausted → host legislation"
    prolong_rule = f"{a.name}: extension of the posting"

    if a.beyond_maximum == "home_then_host":
        ctx.reason(
            f"The trip is known to exceed the agreement's {maximum} months: "
            f"{label(home)}'s legislation still applies for the {maximum} months, then "
            f"{label(dest)}'s (legal-rules §7)."
        )
    else:
        ctx.warn(
            "The sources do not confirm what this agreement provides when a posting is known "
            "from the start to exceed its maximum; the segments assume home legislation for "
            "the maximum period, then the extension or host legislation."
        )
    if kind in ("to_completion", "indefinite") or (
        kind in ("on_application", "exceptional_only", None) and c.art16_agreement == "granted"
    ):
        segments.append(_segment(rest, c.end, home, "CoC_prolongation", prolong_rule))
        ctx.reason(
            f"The agreement allows the posting to be extended "
            f"{'until the work is completed' if kind == 'to_completion' else 'beyond the maximum'}"
            f"; from {rest.isoformat()} a prolongation of the CoC is needed."
            if kind in ("to_completion", "indefinite")
            else f"An exception beyond the maximum is recorded as granted; from {rest.isoformat()} "
            "the prolonged CoC applies."
        )
        ctx.warn("The prolongation must be requested and approved before the first period ends.")
    elif kind == "months":
        extra = int(ext["months"])
        ext_end = period_end(rest, extra)
        if c.end <= ext_end:
            segments.append(_segment(rest, c.end, home, "CoC_prolongation", prolong_rule))
        else:
            segments.append(_segment(rest, ext_end, home, "CoC_prolongation", prolong_rule))
            segments.append(
                _segment(ext_end + ONE_DAY, c.end, dest, "none_host_legislation", host_rule)
            )
        ctx.reason(
            f"The agreement allows an extension of up to {extra} months; from {rest.isoformat()} "
            "a prolongation of the CoC is needed"
            + (
                f", and from {(ext_end + ONE_DAY).isoformat()} {label(dest)}'s legislation applies."
                if c.end > ext_end
                else "."
            )
        )
        ctx.warn("The prolongation must be requested and approved before the first period ends.")
    else:
        segments.append(_segment(rest, c.end, dest, "none_host_legislation", host_rule))
        ctx.reason(
            f"From {rest.isoformat()} {label(dest)}'s legislation applies: the employer registers "
            "the employee there."
        )
        if kind == "none":
            ctx.reason("The agreement allows no extension.")
        elif kind == "on_application":
            ctx.warn(
                "The agreement allows an extension on application (length not confirmed): "
                "request it before the first period ends to keep home legislation."
            )
        elif kind == "exceptional_only":
            ctx.warn(
                "Beyond the maximum only an exceptional derogation agreed by the authorities "
                "can keep home legislation."
            )
        else:
            ctx.warn(
                "Whether the agreement allows an extension is not confirmed in the sources; ask "
                "the institution before the first period ends."
            )
    _advance_notice(ctx)
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
    """legal-rules §8: no coordination; home law may still cover, host law may apply too."""
    c = ctx.case
    ctx.reason(
        "No coordination instrument applies, so no A1 or certificate of coverage can exist: "
        "each state applies its national law."
    )
    ctx.warn(
        f"{label(c.destination or c.home_state)}'s law may apply at the same time as home law: "
        "double contributions are possible."
    )
    cover = countries.home_cover_without_treaty(c.home_state)
    if cover:
        ctx.reason(cover)
    return _Answer(
        "none_no_treaty",
        None,
        "No social security agreement: national law only (legal-rules §8)",
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
        listed = ", ".join(f"{label(s)} ({_pct(p)})" for s, p in sorted(marginal.items()))
        ctx.reason(
            f"Marginal activities under {MARGINAL_SHARE_PCT} % are disregarded (987 Art 14(5b)): "
            f"{listed}."
        )


def _multi_state(ctx: _Ctx) -> _Answer:
    c = ctx.case
    if c.employment_status == "employed_and_self_employed":
        return _employed_and_self_employed_art13_3(ctx)
    time = c.work_split or {}
    active = _active_states(time, c.remuneration_split)
    if not active:  # every share under 5 %: nothing is marginal relative to anything else
        active = dict(time)
    ctx.reason(
        "Regular work in several states over the next 12 months: "
        + ", ".join(f"{label(s)} {_pct(p)}" for s, p in sorted(time.items()))
        + " of working time."
    )
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
            "Reg. 883/2004 Art 13; legal-rules §2",
            f"part of the work is in {_states(outside)}, outside the EU, EEA, Switzerland and "
            "the UK: Art 13 does not cover that part, and the multi-state rules of any "
            "bilateral agreement are not in the sources.",
        )
    if not countries.is_coordinated(c.residence_state):
        return ctx.review(
            "Reg. 883/2004 Art 13",
            f"the person lives in {label(c.residence_state)}, outside the coordination area; "
            "the Art 13 rules are built on a residence state inside it.",
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
            "an employer is established in the United Kingdom but the work and the residence are "
            "in EU/EEA/Swiss states only: whether the TCA Protocol or Regulation 883/2004 (with "
            "an employer outside the Union, 987 Art 14(11)) governs is not settled in the sources.",
        )
    involved = worked_or_lived | seats_inside
    inst = _instrument(ctx, involved)
    if isinstance(inst, _Answer):
        return inst
    blocked = _personal_scope(ctx, inst, involved)
    return blocked if blocked is not None else inst


def _single_state_art11(ctx: _Ctx, inst: _Instrument, state: str) -> _Answer:
    """Only one non-marginal activity state left: the state of work (Art 11(3)(a))."""
    ctx.reason(
        f"Leaving marginal activities aside, all the work is done in {label(state)}: its "
        "legislation applies (Art 11(3)(a))."
    )
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
    measured = f"{_pct(t)} of working time" + (
        f" and {_pct(m)} of {money_word}" if m is not None else ""
    )
    if _substantial(t, m):
        ctx.reason(
            f"{measured[0].upper()}{measured[1:]} is in the residence state {label(r)}: at least "
            f"{SUBSTANTIAL_SHARE_PCT} % is a substantial part (987 Art 14(8); exactly 25 % counts)."
        )
        if m is not None and (t >= SUBSTANTIAL_SHARE_PCT) != (m >= SUBSTANTIAL_SHARE_PCT):
            ctx.warn(
                f"Working time and {money_word} point different ways for {label(r)}: the "
                "institution makes an overall assessment (987 Art 14(8))."
            )
        return True
    ctx.reason(
        f"Only {measured} is in the residence state {label(r)}: less than "
        f"{SUBSTANTIAL_SHARE_PCT} % indicates no substantial part there (987 Art 14(8))."
    )
    if max(t, m or 0) >= SUBSTANTIAL_SHARE_PCT - 5:
        ctx.reason(
            "The 25 % threshold must be met; other circumstances cannot make up a shortfall "
            "(CJEU C-203/24 Hakamp)."
        )
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
            f"An employment under {MARGINAL_SHARE_PCT} % of working time is marginal and its "
            f"employer is disregarded (987 Art 14(5b)): employer in {_states(set(dropped))}."
        )
    else:
        seats = list(c.employer_seats)
    seat_states = {s for s, _ in seats}
    outside = {s for s in seat_states if not _in_area(inst, s)}
    if outside:
        if outside == seat_states:
            ctx.reason(
                f"The employer is established in {_states(outside)}, outside the coordination "
                "area, and the person has no substantial activity in the residence state: the "
                f"residence state {label(r)}'s legislation applies (987 Art 14(11))."
            )
            _art13_procedure(ctx, r)
            return _Answer("A1", r, inst.cite(f"{via}Reg. 987/2009 Art 14(11)"))
        return ctx.review(
            inst.cite("Reg. 883/2004 Art 13(1)(b); Reg. 987/2009 Art 14(11)"),
            f"some employers are established in {_states(outside)}, outside the coordination "
            f"area, and others in {_states(seat_states - outside)}: the seat rules and 987 "
            "Art 14(11) do not settle this mix.",
        )

    # "Registered office" = where essential decisions are taken (987 Art 14(5a)).
    employers = len(seats)
    if len(seat_states) == 1:
        seat = next(iter(seat_states))
        point = "(i)" if employers == 1 else "(ii)"
        who = (
            "The only employer has its registered office"
            if employers == 1
            else f"All {employers} employers have their registered offices"
        )
        ctx.reason(
            f"{who} in {label(seat)}: that state's legislation applies (Art 13(1)(b){point})."
        )
        state = seat
    elif len(seat_states) == 2 and r in seat_states:
        other = next(iter(seat_states - {r}))
        point = "(iii)"
        ctx.reason(
            f"The employers have their registered offices in two states, one of them the "
            f"residence state {label(r)}: the other state, {label(other)}, applies "
            "(Art 13(1)(b)(iii))."
        )
        state = other
    else:
        point = "(iv)"
        ctx.reason(
            f"The employers have their registered offices in {_states(seat_states)}, at least two "
            f"of them outside the residence state: the residence state {label(r)} applies "
            "(Art 13(1)(b)(iv))."
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
    if c.home_state in active and c.home_state in leaders:
        ctx.reason(
            f"The centre of interest is in {label(c.home_state)}: the fixed place of business "
            f"is there and it has the largest share of the work ({_pct(active[c.home_state])}) "
            "(Art 13(2)(b); 987 Art 14(9))."
        )
        ctx.warn(
            "The centre of interest is an overall assessment (fixed place of business, habitual "
            "nature and duration, number of services, intention; 987 Art 14(9)): the institution "
            "may weigh other facts."
        )
        _art13_procedure(ctx, c.home_state)
        return _Answer(
            "A1",
            c.home_state,
            inst.cite("Reg. 883/2004 Art 13(2)(b); Reg. 987/2009 Art 14(9)"),
        )
    return ctx.review(
        inst.cite("Reg. 883/2004 Art 13(2)(b); Reg. 987/2009 Art 14(9)"),
        f"no substantial part is pursued in the residence state, and the fixed place of business "
        f"({label(c.home_state)}) is not where most of the work is done ({_states(leaders)}): "
        "the centre of interest needs an overall assessment.",
    )


def _employed_and_self_employed_art13_3(ctx: _Ctx) -> _Answer:
    """883/2004 Art 13(3): the state of the employed activity; Art 13(1) if employed in several."""
    c = ctx.case
    employed = c.employed_split or {}
    employed_active = _active_states(employed, None) or dict(employed)
    self_active = _active_states(c.self_employed_split, None) if c.self_employed_split else {}
    ctx.reason(
        "Employed activity: "
        + ", ".join(f"{label(s)} {_pct(p)}" for s, p in sorted(employed.items()))
        + (
            "; self-employed activity: "
            + ", ".join(f"{label(s)} {_pct(p)}" for s, p in sorted(c.self_employed_split.items()))
            if c.self_employed_split
            else ""
        )
        + "."
    )
    _marginal_note(ctx, employed, employed_active)
    blocked = _multi_state_scope(ctx, set(employed_active) | set(self_active))
    if isinstance(blocked, _Answer):
        return blocked
    inst = blocked
    if len(employed_active) == 1:
        state = next(iter(employed_active))
        if self_active and set(self_active) <= {state}:
            ctx.reason(
                f"Both the employed and the self-employed activity are in {label(state)}: its "
                "legislation applies (Art 11(3)(a))."
            )
            _art13_procedure(ctx, state)
            return _Answer("A1", state, inst.cite("Reg. 883/2004 Art 11(3)(a)"))
        ctx.reason(
            f"The person is employed in {label(state)} and self-employed in another state: the "
            "state of the employed activity applies (Art 13(3))."
        )
        _art13_procedure(ctx, state)
        return _with_art16(
            ctx,
            inst,
            _Answer("A1", state, inst.cite("Reg. 883/2004 Art 13(3)")),
            set(employed_active),
        )
    ctx.reason(
        "The person is employed in two or more states: Art 13(3) refers to Art 13(1), applied "
        "to the employed activity."
    )
    answer = _employed_art13_1(ctx, inst, employed, None, via="Reg. 883/2004 Art 13(3) → ")
    if answer.certificate_type == "review_required":
        return answer
    return _with_art16(ctx, inst, answer, set(employed_active))


def _art13_procedure(ctx: _Ctx, state: str) -> None:
    """987 Art 16 and 14(10): the residence state decides provisionally, final after 2 months."""
    r = ctx.case.residence_state
    ctx.warn(
        f"The person (usually through the employer) informs the designated institution of the "
        f"residence state, {label(r)}; it determines the applicable legislation provisionally, "
        f"and the determination becomes definitive after {PROVISIONAL_DETERMINATION_MONTHS} "
        "months unless another institution objects (987 Art 16)."
    )
    ctx.warn(
        f"The assessment projects the next {ASSESSMENT_HORIZON_MONTHS} calendar months "
        "(987 Art 14(10)); request a new determination each time the A1 expires (CCSS)."
    )
    if state != r:
        ctx.reason(
            f"{label(state)}'s institution then registers the person and issues the A1 (CCSS)."
        )


def _with_art16(ctx: _Ctx, inst: _Instrument, general: _Answer, active: set[str]) -> _Answer:
    """Art 16 on top of Art 13: the telework framework agreement, then individual agreements."""
    c = ctx.case
    if c.art16_request and c.employment_status == "employed" and inst.kind == "883":
        framework = _telework_framework_agreement(ctx, general, active)
        if framework is not None:
            return framework
    elif c.art16_request and inst.kind != "883":
        ctx.reason(
            "The telework framework agreement is an EU/EEA/CH arrangement; it does not apply "
            "with the UK."
        )
    general_sentence = (
        f"{label(general.legislation_state or '')}'s legislation applies under {general.rule}."
    )
    if inst.kind == "tca" and c.art16_agreement != "none":
        return ctx.review(
            general.rule,
            "an Art 16-type exception is recorded, but the sources say the TCA Protocol allows "
            "none; check the document.",
        )
    answer = _art16_agreement(ctx, inst, fallback=general, fallback_sentence=general_sentence)
    return answer if answer is not None else general


def _telework_framework_agreement(ctx: _Ctx, general: _Answer, active: set[str]) -> _Answer | None:
    """Framework agreement on cross-border telework (Art 16, from 1 Jul 2023), legal-rules §4.

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
        why_not = "it needs a single employer-seat state"
    elif seat == r:
        why_not = "the employer is seated in the residence state"
    elif telework is None:
        why_not = "the share of telework in the residence state is not given"
    elif telework >= TELEWORK_LIMIT_PCT:
        why_not = (
            f"telework in the residence state is {_pct(telework)}, not under {TELEWORK_LIMIT_PCT} %"
        )
    elif not {r, seat} <= signatories:
        missing = {r, seat} - signatories
        why_not = f"{_states(missing)} had not signed it (list as of 30 Aug 2023)"
    elif c.start is not None and c.start < countries.telework_framework_from():
        why_not = "it applies from 1 July 2023"
    elif not active <= {r, seat}:
        why_not = f"the person also works in {_states(active - {r, seat})}"
    elif (c.work_split or {}).get(r, 0) > telework + 1:
        why_not = "the person also works in the residence state other than by telework"

    if why_not is not None:
        ctx.reason(f"The telework framework agreement was requested but does not apply: {why_not}.")
        if general.legislation_state == r:
            ctx.warn("An individual Art 16 agreement can still be requested; it is not automatic.")
        return None
    assert seat is not None
    if general.legislation_state == seat:
        ctx.reason(
            f"The telework framework agreement is not needed: {label(seat)}'s legislation "
            "already applies under the general rule."
        )
        return None
    ctx.reason(
        f"On the joint request of employer and employee, the telework framework agreement "
        f"applies: telework in {label(r)} is {_pct(telework)} (under {TELEWORK_LIMIT_PCT} %), "
        f"both {label(r)} and {label(seat)} have signed it, so the employer-seat state "
        f"{label(seat)}'s legislation applies instead of the residence state's."
    )
    ctx.warn(
        f"The request goes to the institution of {label(seat)}, the state whose legislation is "
        "requested (987 Art 18); re-check the signatory list kept by the Belgian depositary."
    )
    return _Answer(
        "A1_via_derogation_art16",
        seat,
        "Reg. 883/2004 Art 16; Framework Agreement on cross-border telework (from 1 Jul 2023); "
        "Reg. 987/2009 Art 18",
    )

"""Explanations as message ids with parameters, rendered in the reader's language.

The engine never writes sentences: each reason and warning is ``{"id": …, "params": {…}}``. The
English template of each id lives here (the gettext msgid, so Babel extracts it and the
translation catalogues hold the other languages); :func:`render` fills it in. The Flask layer
(:mod:`web.coverage.explain`) renders through the request's catalogue; without an application the
English template is used, so the CLI and the tests read English.

Parameters are typed by their name, so that a country or a date is written the reader's way:

- ``*_state`` (or ``state``): a country code → the country's name;
- ``*_states``: a list of country codes → "A, B and C";
- ``*_date``: an ISO date → a date in the reader's format;
- ``*_pct``: a number → "25 %";
- ``days``: a number of days → "1 day" / "N days";
- a ``{"id", "params"}`` value: a nested message, rendered first;
- anything else: written as it is (numbers without trailing zeros).

The one-sentence summaries, document names and home-cover notes that employees and inspectors
also read are in :mod:`web.coverage.public_messages` (seven languages); the legal detail here is
for the consoles and the API (English, French, German).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from web.coverage.public_messages import N_, PUBLIC_MESSAGES

Message = dict[str, Any]


def msg(message_id: str, **params: Any) -> Message:
    """A message: its id and JSON-ready parameters (dates as ISO strings)."""
    if message_id not in ALL_MESSAGES:
        raise KeyError(f"unknown message id {message_id!r}")
    clean: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, set | frozenset | tuple):
            value = sorted(value)
        clean[key] = value
    return {"id": message_id, "params": clean}


MESSAGES: dict[str, str] = {
    "rule.no_treaty": N_("No social security agreement: national law only"),
    "rule.agreement": N_("%(agreement)s%(article)s: detached-worker rule"),
    "rule.agreement_not_applicable": N_(
        "%(agreement)s%(article)s: not applicable (foreseen beyond %(months)s months), law of "
        "the country of work"
    ),
    "advance_notice.bilateral": N_(
        "Request the certificate from the competent institution before the posting starts."
    ),
    "unit.one_day": N_("1 day"),
    "unit.days": N_("%(num)s days"),
    "review.prefix": N_("Review required: %(why)s"),
    "notes.ignored_fields": N_("Ignored unknown field(s): %(fields)s."),
    "notes.alias": N_("%(field)s: %(given)s is read as %(code)s."),
    "notes.territory": N_(
        "%(field)s: %(territory_state)s is part of %(member_state)s for EU social security "
        "coordination (TFEU Art 355) and is treated as %(code)s."
    ),
    "notes.merged": N_("%(field)s: two entries for %(merged_state)s are added together."),
    "gap_after_previous_posting.the_same_employer_s_previous": N_(
        "The same employer's previous posting of this person to %(destination_state)s ended "
        "on %(end_date)s; a new posting needs a gap of at least %(posting_gap_months)s "
        "months, so it could start on %(earliest_date)s at the earliest (Practical Guide, "
        "Part I §13)."
    ),
    "art12_not_applicable.the_posting_rules_do_not": N_(
        "The posting rules do not apply, so the legislation of the state where the work is "
        "done, %(destination_state)s, applies from the first day (Art 11(3)(a)): the employer"
        " registers the employee there; no A1 is issued."
    ),
    "with_art16.s_legislation_applies_under": N_(
        "%(legislation_state)s's legislation applies under %(rule)s."
    ),
    "personal_scope.the_person_is_a_national": N_(
        "The person is a national of %(nationals_states)s: Regulation 1231/2010 extends "
        "Regulation 883/2004 to third-country nationals legally resident in a Member State."
    ),
    "personal_scope.confirm_that_the_person_is": N_(
        "Confirm that the person is legally resident in a Member State (Reg. 1231/2010)."
    ),
    "posting.posting_from_to_from_to": N_(
        "Posting from %(home_state)s to %(destination_state)s from %(start_date)s to "
        "%(end_date)s (%(days)s, dates inclusive)."
    ),
    # Only where the coordination regulations govern: a bilateral answer cites its agreement.
    "posting.temporary_work_is_a_posting": N_(
        "Temporary work abroad is assessed as a posting whatever its length; a regular pattern "
        "of work in several states would fall under Art 13 instead (987 Art 14(7); CCSS: "
        "business trips are postings)."
    ),
    "posting_duration.the_anticipated_duration_exceeds_months": N_(
        "The anticipated duration exceeds %(max_posting_months)s months: the "
        "%(max_posting_months)s months end on %(last_day_date)s, the trip on %(end_date)s. "
        "Holidays, illness or training do not extend the limit (Practical Guide)."
    ),
    "posting_a1.all_posting_conditions_are_met": N_(
        "All posting conditions are met: %(home_state)s's legislation continues to apply and "
        "its competent institution issues the A1 on request (987 Art 19(2))."
    ),
    "advance_notice.the_employer_must_inform_the": N_(
        "The employer must inform the competent institution before the posting starts (987 "
        "Art 15(1))."
    ),
    "derogation_notice.an_art_16_derogation_must": N_(
        "An Art 16 derogation must be requested at least 3 months before the start; the "
        "request goes to the authority of the state whose legislation is requested, "
        "%(requested_state)s (987 Art 18; Urssaf)."
    ),
    "bilateral.confirm_the_agreement_s_posting": N_(
        "Confirm the agreement's posting conditions with the institution (employee of the "
        "sending employer, temporary work)."
    ),
    "coc.s_legislation_continues_to_apply": N_(
        "%(home_state)s's legislation continues to apply; its institution issues a "
        "certificate of coverage (CoC)."
    ),
    "no_treaty.no_coordination_instrument_applies_so": N_(
        "No coordination instrument applies, so no A1 or certificate of coverage can exist: "
        "each state applies its national law."
    ),
    "no_treaty.s_law_may_apply_at": N_(
        "%(destination_state)s's law may apply at the same time as home law: double "
        "contributions are possible."
    ),
    "single_state_art11.leaving_marginal_activities_aside_all": N_(
        "Leaving marginal activities aside, all the work is done in %(state)s: its "
        "legislation applies (Art 11(3)(a))."
    ),
    "residence_share.only_is_in_the_residence": N_(
        "Only %(measured)s is in the residence state %(residence_state)s: less than "
        "%(substantial_share_pct)s %% indicates no substantial part there (987 Art 14(8))."
    ),
    "self_employed_art13_2.no_substantial_part_is_pursued": N_(
        "no substantial part is pursued in the residence state, and the fixed place of "
        "business (%(place_state)s) is not where most of the work is done "
        "(%(leaders_states)s): the centre of interest needs an overall assessment by the "
        "institution."
    ),
    "employed_and_self_employed_art13_3.the_person_is_employed_in": N_(
        "The person is employed in two or more states: Art 13(3) refers to Art 13(1), applied"
        " to the employed activity."
    ),
    "art13_procedure.the_person_usually_through_the": N_(
        "The person (usually through the employer) informs the designated institution of the "
        "residence state, %(residence_state)s; it determines the applicable legislation "
        "provisionally, and the determination becomes definitive after "
        "%(provisional_determination_months)s months unless another institution objects (987 "
        "Art 16)."
    ),
    "art13_procedure.the_assessment_projects_the_next": N_(
        "The assessment projects the next %(assessment_horizon_months)s calendar months (987 "
        "Art 14(10)); request a new determination each time the A1 expires (CCSS)."
    ),
    "telework_framework_agreement.it_needs_a_single_employer": N_(
        "it needs a single employer-seat state"
    ),
    "telework_framework_agreement.on_the_joint_request_of": N_(
        "On the joint request of employer and employee, the telework framework agreement "
        "applies: telework in %(residence_state)s is %(telework_pct)s (under "
        "%(telework_limit_pct)s %%), both %(residence_state)s and %(seat_state)s have signed "
        "it, so the employer-seat state %(seat_state)s's legislation applies instead of the "
        "residence state's."
    ),
    "telework_framework_agreement.the_request_goes_to_the": N_(
        "The request goes to the institution of %(seat_state)s, the state whose legislation "
        "is requested (987 Art 18); re-check the signatory list kept by the Belgian "
        "depositary."
    ),
    "instrument.the_uk_is_involved_the": N_(
        "The UK is involved: the EU–UK Trade and Cooperation Agreement's Protocol on Social "
        "Security Coordination applies (new cases from 1 January 2021)."
    ),
    "personal_scope.the_person_is_a_national_2": N_(
        "The person is a national of %(nationals_states)s: the TCA Protocol's position for "
        "third-country nationals is not verified in the sources."
    ),
    "personal_scope.the_person_is_a_third": N_(
        "the person is a third-country national (%(nationals_states)s). Regulation 1231/2010 "
        "extends 883/2004 to legally resident third-country nationals but not in relation to "
        "Denmark or Switzerland, and the EEA position is unconfirmed; %(sensitive_states)s is"
        " involved.%(extra)s"
    ),
    "personal_scope.the_person_is_a_third_2": N_(
        "the person is a third-country national (%(nationals_states)s) living in "
        "%(residence_state)s; Regulation 1231/2010 covers third-country nationals only while "
        "legally resident in a Member State."
    ),
    "posting.the_person_lives_in_outside": N_(
        "The person lives in %(residence_state)s, outside the coordination area; Regulation "
        "883/2004 covers nationals of the Member States wherever they live (Art 2(1))."
    ),
    "posting.the_person_is_also_self": N_(
        "The person is also self-employed in the home state; the posted activity is the "
        "employed one, so Art 12(1) is applied."
    ),
    "posting_employed_art12_1.the_person_is_sent_to": N_(
        "The person is sent to replace another posted person, which Art 12(1) forbids even "
        "when the two were posted by different employers (CJEU C-527/16 Alpenrind)."
    ),
    "posting_employed_art12_1.the_employer_does_not_carry": N_(
        "The employer does not carry out substantial activities in %(home_state)s (only "
        "internal management does not count), so it does not 'normally carry out its "
        "activities' there (987 Art 14(2))."
    ),
    "posting_employed_art12_1.the_person_was_insured_in": N_(
        "the person was insured in %(home_state)s for %(months)s month(s) before the posting;"
        " institutions require at least one month (987 Art 14(1)) and assess shorter periods "
        "individually."
    ),
    "posting_self_employed_art12_2.the_activity_abroad_is_not": N_(
        "The activity abroad is not similar to the person's usual self-employed activity (987"
        " Art 14(4)), so Art 12(2) does not apply."
    ),
    "posting_self_employed_art12_2.the_person_has_been_self": N_(
        "the person has been self-employed in %(home_state)s for %(months)s month(s); the "
        "activity must have been pursued 'for some time' before the posting (guidance: about "
        "2 months)."
    ),
    "posting_duration.the_posting_ends_on_or": N_(
        "The posting ends on or before %(last_day_date)s, the last day of "
        "%(max_posting_months)s months from the start: within the "
        "%(max_posting_months)s-month limit."
    ),
    "gap_after_previous_posting.the_previous_posting_to_ended": N_(
        "The previous posting to %(destination_state)s ended on %(end_date)s: at least "
        "%(posting_gap_months)s months have passed."
    ),
    "gap_after_previous_posting.the_previous_posting_to_ended_2": N_(
        "The previous posting to %(destination_state)s ended on %(end_date)s, less than "
        "%(posting_gap_months)s months before this one. The Practical Guide's 2-month gap is "
        "an EU rule; its use under the TCA is not verified."
    ),
    "advance_notice.belgium_a_dimona_declaration_must": N_(
        "Belgium: a Dimona declaration must cover the employee for the whole period "
        "requested, or the application cannot be filed (LSS)."
    ),
    "advance_notice.the_trip_started_on_before": N_(
        "The trip started on %(start_date)s, before today (%(today_date)s): request the "
        "certificate at once."
    ),
    "art12_not_applicable.a_posting_known_from_the": N_(
        "A posting known from the start to exceed 24 months needs an Art 16 agreement "
        "(Practical Guide)."
    ),
    "art16_agreement.the_competent_authorities_agreed_an": N_(
        "The competent authorities agreed an exception under Art 16: %(home_state)s's "
        "legislation applies for the agreed period, certified by an A1 issued under the "
        "derogation."
    ),
    "art16_agreement.the_a1_is_valid_only": N_(
        "The A1 is valid only for the period and conditions the agreement states."
    ),
    "derogation_notice.the_trip_starts_on_less": N_(
        "The trip starts on %(start_date)s, less than 3 months from today (%(today_date)s): a"
        " derogation requested now may not be decided in time."
    ),
    "bilateral.no_social_security_agreement_links": N_(
        "No social security agreement links %(home_state)s and %(destination_state)s: the "
        "list of %(home_state)s's agreements is complete (source: %(source)s)."
    ),
    "bilateral.the_catalogue_has_no_complete": N_(
        "the catalogue has no list of %(home_state)s's social security agreements and none "
        "with %(destination_state)s is stored, so it cannot say whether one exists."
    ),
    "bilateral.an_agreement_between_and_is": N_(
        "an agreement between %(home_state)s and %(destination_state)s is named in the "
        "sources but not confirmed (%(note)s; source: %(source)s)."
    ),
    "bilateral.the_is_partly_suspended": N_("the %(agreement)s is partly suspended (%(note)s)."),
    "bilateral.the_has_no_detached_worker": N_(
        "the %(agreement)s has no detached-worker rule; which legislation applies follows "
        "from its other rules, which are not in the sources."
    ),
    "bilateral.the_s_posting_rule_is": N_(
        "the %(agreement)s's posting rule is not confirmed (%(note)s)."
    ),
    "bilateral.the_covers_only_part_of": N_(
        "The %(agreement)s covers only part of social security (%(scope)s): other branches "
        "follow national law, and double coverage is possible."
    ),
    "bilateral.the_sources_give_the_agreement": N_(
        "The sources give the agreement's rule for employees; confirm that it covers a "
        "self-employed person's trip."
    ),
    "bilateral.the_sets_no_fixed_time": N_(
        "The %(agreement)s sets no fixed time limit on postings: the limit follows from the "
        "contract or the nature of the task."
    ),
    "bilateral.the_maximum_posting_period_of": N_(
        "The maximum posting period of the %(agreement)s is not confirmed in the sources: "
        "check it before relying on the certificate."
    ),
    "bilateral.the_trip_ends_on_or": N_(
        "The trip ends on or before %(last_day_date)s, within the agreement's maximum of "
        "%(maximum)s months."
    ),
    "bilateral_segments.the_trip_is_known_to": N_(
        "The trip is foreseen beyond the agreement's %(maximum)s months: the agreement keeps "
        "%(home_state)s's legislation for the first %(maximum)s months, then "
        "%(destination_state)s's applies (source: %(source)s)."
    ),
    "bilateral_segments.the_prolongation_must_be_requested": N_(
        "The prolongation must be requested and approved before the first period ends."
    ),
    "marginal_note.marginal_activities_under_are_disregarded": N_(
        "Marginal activities under %(marginal_share_pct)s %% are disregarded (987 Art "
        "14(5b)): %(listed_shares)s."
    ),
    "multi_state_scope.part_of_the_work_is": N_(
        "part of the work is in %(outside_states)s, outside the EU, EEA, Switzerland and the "
        "UK: Art 13 does not cover that part, and the multi-state rules of any bilateral "
        "agreement are not in the sources."
    ),
    "multi_state_scope.the_person_lives_in_outside": N_(
        "the person lives in %(residence_state)s, outside the coordination area; the Art 13 "
        "rules are built on a residence state inside it."
    ),
    "residence_share.the_25_threshold_must_be": N_(
        "The 25 %% threshold must be met; other circumstances cannot make up a shortfall "
        "(CJEU C-203/24 Hakamp)."
    ),
    "employed_art13_1.an_employment_under_of_working": N_(
        "An employment under %(marginal_share_pct)s %% of working time is marginal and its "
        "employer is disregarded (987 Art 14(5b)): employer in %(dropped_states)s."
    ),
    "employed_art13_1.some_employers_are_established_in": N_(
        "some employers are established in %(outside_states)s, outside the coordination area,"
        " and others in %(inside_states)s: the seat rules and 987 Art 14(11) do not settle "
        "this mix."
    ),
    "self_employed_art13_2.the_centre_of_interest_is": N_(
        "The centre of interest is in %(place_state)s: the fixed place of business is there "
        "and it has the largest share of the work (%(share_pct)s) (Art 13(2)(b); 987 Art "
        "14(9))."
    ),
    "self_employed_art13_2.the_centre_of_interest_is_2": N_(
        "The centre of interest is an overall assessment (fixed place of business, habitual "
        "nature and duration, number of services, intention; 987 Art 14(9)): the institution "
        "may weigh other facts."
    ),
    "employed_and_self_employed_art13_3.the_person_is_employed_in_2": N_(
        "The person is employed in %(state)s and self-employed in another state: the state of"
        " the employed activity applies (Art 13(3))."
    ),
    "art13_procedure.s_institution_then_registers_the": N_(
        "%(state)s's institution then registers the person and issues the A1 (CCSS)."
    ),
    "with_art16.an_art_16_type_exception": N_(
        "an Art 16-type exception is recorded, but the sources say the TCA Protocol allows "
        "none; check the document."
    ),
    "telework_framework_agreement.the_employer_is_seated_in": N_(
        "the employer is seated in the residence state"
    ),
    "telework_framework_agreement.the_telework_framework_agreement_was": N_(
        "The telework framework agreement was requested but does not apply: %(why_not)s."
    ),
    "telework_framework_agreement.the_telework_framework_agreement_is": N_(
        "The telework framework agreement is not needed: %(seat_state)s's legislation already"
        " applies under the general rule."
    ),
    "instrument.the_trip_started_before_1": N_(
        "The trip started before 1 January 2021: a cross-border situation with the UK running"
        " without interruption since then stays under the Withdrawal Agreement, which keeps "
        "Regulation 883/2004."
    ),
    "instrument.the_trip_starts_before_when": N_(
        "the trip starts before %(applies_from_date)s, when Regulation 883/2004 began to "
        "apply for %(group)s states; the earlier rules are not in the sources."
    ),
    "personal_scope.nationality_not_given_if_the": N_(
        "Nationality not given: if the person is a third-country national, the coordination "
        "rules may not apply in relation to %(sensitive_states)s (Reg. 1231/2010 does not "
        "apply to Denmark or Switzerland) and the case needs review."
    ),
    "posting.the_person_is_employed_and": N_(
        "the person is employed and self-employed with activities normally in %(states)s: how"
        " a posting interacts with Art 13(3) needs an individual assessment."
    ),
    "posting_employed_art12_1.confirm_that_the_person_does": N_(
        "Confirm that the person does not replace another posted person (Art 12(1))."
    ),
    "posting_employed_art12_1.confirm_that_the_employer_carries": N_(
        "Confirm that the employer carries out substantial activities in %(home_state)s, not "
        "only internal management (987 Art 14(2))."
    ),
    "posting_employed_art12_1.the_person_was_recruited_for": N_(
        "the person was recruited for the posting, so they must have been insured in "
        "%(home_state)s immediately before it (at least one month, 987 Art 14(1)); the prior "
        "insurance is not given."
    ),
    "posting_self_employed_art12_2.confirm_that_the_activity_abroad": N_(
        "Confirm that the activity abroad is similar to the usual one (987 Art 14(4))."
    ),
    "posting_self_employed_art12_2.confirm_that_the_person_has": N_(
        "Confirm that the person has been self-employed in %(home_state)s for some time "
        "before the trip (guidance: about 2 months)."
    ),
    "art12_not_applicable.the_tca_protocol_allows_no": N_(
        "The TCA Protocol allows no extension beyond 24 months and no Art 16-type agreement "
        "(INPS circular 71/2021; Vialto)."
    ),
    "art12_not_applicable.an_exception_is_recorded_as": N_(
        "an exception is recorded as granted, but the sources say the TCA Protocol allows no "
        "Art 16-type extension; check the document."
    ),
    "art16_agreement.the_trip_is_longer_than": N_(
        "The trip is longer than the usual Art 16 total of about 5 years (usp.gv.at): check "
        "that the agreement covers all of it."
    ),
    "bilateral_segments.from_s_legislation_applies_the": N_(
        "From %(rest_date)s %(destination_state)s's legislation applies: the employer "
        "registers the employee there."
    ),
    "multi_state_scope.an_employer_is_established_in": N_(
        "an employer is established in the United Kingdom but the work and the residence are "
        "in EU/EEA/Swiss states only: whether the TCA Protocol or Regulation 883/2004 (with "
        "an employer outside the Union, 987 Art 14(11)) governs is not settled in the "
        "sources."
    ),
    "residence_share.working_time_and_point_different": N_(
        "Working time and %(word)s point different ways for %(residence_state)s: the "
        "institution makes an overall assessment (987 Art 14(8))."
    ),
    "employed_art13_1.the_employer_is_established_in": N_(
        "The employer is established in %(outside_states)s, outside the coordination area, "
        "and the person has no substantial activity in the residence state: the residence "
        "state %(residence_state)s's legislation applies (987 Art 14(11))."
    ),
    "employed_art13_1.the_employers_have_their_registered": N_(
        "The employers have their registered offices in two states, one of them the residence"
        " state %(residence_state)s: the other state, %(other_state)s, applies (Art "
        "13(1)(b)(iii))."
    ),
    "employed_art13_1.the_employers_have_their_registered_2": N_(
        "The employers have their registered offices in %(seat_states)s, at least two of them"
        " outside the residence state: the residence state %(residence_state)s applies (Art "
        "13(1)(b)(iv))."
    ),
    "employed_and_self_employed_art13_3.both_the_employed_and_the": N_(
        "Both the employed and the self-employed activity are in %(state)s: its legislation "
        "applies (Art 11(3)(a))."
    ),
    "with_art16.the_telework_framework_agreement_is": N_(
        "The telework framework agreement is an EU/EEA/CH arrangement; it does not apply with"
        " the UK."
    ),
    "telework_framework_agreement.the_share_of_telework_in": N_(
        "the share of telework in the residence state is not given"
    ),
    "telework_framework_agreement.an_individual_art_16_agreement": N_(
        "An individual Art 16 agreement can still be requested; it is not automatic."
    ),
    "posting_employed_art12_1.confirm_at_least_one_month": N_(
        "Confirm at least one month of insurance in %(home_state)s before the posting (987 "
        "Art 14(1))."
    ),
    "posting_employed_art12_1.the_person_was_insured_in_2": N_(
        "The person was insured in %(home_state)s for %(months)s month(s) before the posting:"
        " at least one month (987 Art 14(1))."
    ),
    "bilateral_segments.the_agreement_allows_no_extension": N_(
        "The agreement allows no extension."
    ),
    "telework_framework_agreement.telework_in_the_residence_state": N_(
        "telework in the residence state is %(telework_pct)s, not under %(telework_limit_pct)s %%"
    ),
    "bilateral_segments.the_agreement_allows_an_extension": N_(
        "The agreement allows an extension on application (length not confirmed): request it "
        "before the first period ends to keep home legislation."
    ),
    "telework_framework_agreement.had_not_signed_it_list": N_(
        "%(missing_states)s had not signed it (list as of 30 Aug 2023)"
    ),
    "bilateral_segments.beyond_the_maximum_only_an": N_(
        "Beyond the maximum only an exceptional derogation agreed by the authorities can keep"
        " home legislation."
    ),
    "bilateral_segments.whether_the_agreement_allows_an": N_(
        "Whether the agreement allows an extension is not confirmed in the sources; ask the "
        "institution before the first period ends."
    ),
    "telework_framework_agreement.it_applies_from_1_july": N_("it applies from 1 July 2023"),
    "telework_framework_agreement.the_person_also_works_in": N_(
        "the person also works in %(others_states)s"
    ),
    "telework_framework_agreement.the_person_also_works_in_2": N_(
        "the person also works in the residence state other than by telework"
    ),
    "instrument.legal_basis": N_("Legal basis: %(bases)s."),
    "scope.uk_efta": N_(
        "The EU–UK Trade and Cooperation Agreement does not cover Iceland, Liechtenstein, "
        "Norway or Switzerland, and the UK–EFTA arrangements were not verified."
    ),
    "scope.ch_eea": N_(
        "Relations between Switzerland and Iceland, Liechtenstein or Norway run under the "
        "EFTA Convention, which the sources do not cover."
    ),
    "personal_scope.swiss_bilateral": N_(
        " The %(home_state)s–Switzerland bilateral agreement, which covers nationals outside "
        "the EU–Switzerland agreement, may apply."
    ),
    "posting.also": N_("Also: %(why)s"),
    "posting.several": N_("%(items)s"),
    "posting_employed_art12_1.previous_legislation_other": N_(
        "Immediately before the employment the person was subject to the legislation of "
        "%(previous_state)s, not of %(home_state)s: a person recruited for a posting must "
        "already be subject to the sending state's legislation (987 Art 14(1); Practical "
        "Guide: at least one month), so Art 12 cannot apply."
    ),
    "posting_employed_art12_1.previous_legislation_home": N_(
        "Immediately before the employment the person was already subject to the legislation "
        "of %(home_state)s, as 987 Art 14(1) requires."
    ),
    "posting_employed_art12_1.no_prior_insurance": N_(
        "The person was not insured in %(home_state)s at all before the posting: 987 Art "
        "14(1) requires the person to be subject to the sending state's legislation "
        "immediately before, so Art 12 cannot apply."
    ),
    "posting_duration.extended": N_(
        "The posting was first foreseen until %(original_end_date)s, within "
        "%(max_posting_months)s months, and was extended to %(end_date)s. The posting rule "
        "covers it up to %(last_day_date)s, the last day of the %(max_posting_months)s "
        "months; an extension does not reach back to the start (Practical Guide)."
    ),
    "posting_duration.absences": N_(
        "Holidays, sickness or training during the posting do not extend the limit."
    ),
    "extended.host_after": N_(
        "From %(rest_date)s the legislation of the state of work, %(destination_state)s, "
        "applies, unless the authorities agree an exception (Art 16)."
    ),
    "art16_agreement.requested": N_(
        "an Art 16 agreement has been requested and not yet decided. If it is granted, "
        "%(home_state)s's legislation applies with an A1 under the derogation; if it is "
        "refused: %(fallback)s"
    ),
    "agreement.name": N_("%(home_state)s–%(partner_state)s social security agreement"),
    "bilateral.applies": N_(
        "The %(agreement)s applies (in force since %(from_date)s; source: %(source)s)."
    ),
    # An agreement whose entry into force the catalogue could not source.
    "bilateral.applies_undated": N_("The %(agreement)s applies (source: %(source)s)."),
    "bilateral.incomplete_list": N_(
        "the catalogue's list of %(home_state)s's agreements is not complete (%(why)s) and "
        "none with %(destination_state)s is stored, so it cannot say that there is no "
        "agreement."
    ),
    "bilateral.not_yet_in_force": N_(
        "the %(agreement)s applies from %(from_date)s, after the start of the trip; the rules"
        " before that date are not in the catalogue."
    ),
    "bilateral.no_self_employed": N_(
        "the %(agreement)s's detached-worker rule does not cover the self-employed; which "
        "legislation applies follows from its other rules."
    ),
    "bilateral.quebec": N_(
        "Work in Quebec falls under the separate understanding with Quebec (maximum "
        "%(months)s months)."
    ),
    "bilateral.quebec_unknown": N_(
        "Work in Quebec falls under the separate understanding with Quebec (maximum period "
        "not confirmed)."
    ),
    "bilateral.extended": N_(
        "The posting was first notified until %(original_end_date)s, within the agreement's "
        "%(maximum)s months, and was extended to %(end_date)s: the agreement covers it up to "
        "%(last_day_date)s."
    ),
    "bilateral.beyond_from_outset": N_(
        "The posting is foreseen from the outset to last beyond the agreement's %(maximum)s "
        "months and any extension it allows: the detached-worker rule of the "
        "%(agreement)s%(article)s does not apply at all, and %(destination_state)s's "
        "legislation applies from the first day."
    ),
    "bilateral.limit": N_("%(limit_states)s"),
    "bilateral.limit_with_eu": N_("%(limit_states)s or an EU Member State"),
    "bilateral.limit_unknown": N_(
        "the %(agreement)s covers only nationals of %(nationals)s; the person's nationality "
        "is not given."
    ),
    "bilateral.limit_met": N_(
        "The person's nationality is covered by the %(agreement)s (nationals of %(nationals)s)."
    ),
    "bilateral.limit_not_met": N_(
        "The %(agreement)s covers only nationals of %(nationals)s; the person is a national "
        "of %(nationality_states)s, so it does not apply to them."
    ),
    "bilateral_segments.to_completion": N_(
        "The agreement allows the posting to be extended until the work is completed; from "
        "%(rest_date)s a prolongation of the certificate is needed."
    ),
    "bilateral_segments.indefinite": N_(
        "The agreement allows the posting to be extended beyond the maximum; from "
        "%(rest_date)s a prolongation of the certificate is needed."
    ),
    "bilateral_segments.exception_granted": N_(
        "An exception beyond the maximum is recorded as granted; from %(rest_date)s the "
        "prolonged certificate applies."
    ),
    "bilateral_segments.extension_months": N_(
        "The agreement allows an extension of up to %(months)s months; from %(rest_date)s a "
        "prolongation of the certificate is needed."
    ),
    "bilateral_segments.extension_months_then_host": N_(
        "The agreement allows an extension of up to %(months)s months; from %(rest_date)s a "
        "prolongation of the certificate is needed, and from %(host_date)s "
        "%(destination_state)s's legislation applies."
    ),
    "self_employed_art13_2.place_assumed": N_(
        "The fixed place of business is not given: it is taken to be in %(home_state)s; give "
        "it to confirm the centre of interest."
    ),
    "multi_state.work_split": N_(
        "Regular work in several states over the next 12 months: %(work_shares)s of working time."
    ),
    "residence_share.time_only": N_("%(time_pct)s of working time"),
    "residence_share.time_and_money": N_(
        "%(time_pct)s of working time and %(money_pct)s of %(word)s"
    ),
    "residence_share.substantial": N_(
        "In the residence state %(residence_state)s: %(measured)s. At least "
        "%(substantial_share_pct)s %% is a substantial part (987 Art 14(8); exactly 25 %% "
        "counts)."
    ),
    "word.remuneration": N_("remuneration"),
    "word.income": N_("income"),
    "employed_art13_1.one_employer": N_(
        "The only employer has its registered office in %(seat_state)s: that state's "
        "legislation applies (Art 13(1)(b)(i))."
    ),
    "employed_art13_1.all_employers": N_(
        "All %(employers)s employers have their registered offices in %(seat_state)s: that "
        "state's legislation applies (Art 13(1)(b)(ii))."
    ),
    "art13_3.activities": N_(
        "Employed activity: %(employed_shares)s; self-employed activity: %(self_employed_shares)s."
    ),
    "art13_3.employed_activity": N_("Employed activity: %(employed_shares)s."),
    "field.required": N_("is required"),
    "field.country_not_text": N_("must be a two-letter country code"),
    "field.country_format": N_("is not a two-letter country code: %(value)s"),
    "field.country_unknown": N_("unknown country code %(value)s"),
    "field.number": N_("must be a number"),
    "field.between": N_("must be between %(low)s and %(high)s"),
    "field.at_least": N_("must be at least %(low)s"),
    "field.flag": N_("must be true, false or null"),
    "field.choice": N_("must be one of %(options)s"),
    "field.date_format": N_("must be a date in the form YYYY-MM-DD"),
    "field.date_range": N_("must be between %(low)s and %(high)s"),
    "field.split_object": N_("must be an object of {country code: percent}"),
    "field.split_empty": N_("must name at least one country"),
    "field.split_total": N_("percentages add up to %(total)s, not 100"),
    "field.seats_required": N_("is required: name the registered office of each employer"),
    "field.seats_list": N_("must be a list of {country, share_of_working_time_pct}"),
    "field.seat_object": N_("must be an object {country, share_of_working_time_pct}"),
    "field.seats_total": N_("shares of working time add up to %(total)s, not 100"),
    "field.case_object": N_("must be a JSON object"),
    "field.trip_object": N_("must be an object {kind, destination, start_date, end_date}"),
    "field.before_start": N_("is before the start date"),
    "field.home_destination": N_("is the home state; a posting goes to another state"),
    "field.previous_posting_object": N_("must be an object {destination, start_date, end_date}"),
    "field.original_after_end": N_(
        "is after the end date: the end first notified cannot be later than the current one"
    ),
    "field.original_before_start": N_("is before the start date"),
    "field.original_kind": N_("applies to a posting only"),
    "field.place_outside_work": N_("is not one of the states where the person works (%(states)s)"),
    "field.place_self_employed": N_("applies to a self-employed activity only"),
    "bilateral.article": N_(" (%(article)s)"),
    # -- the catalogue's remarks shown to a reader (web/coverage/data/bilateral_agreements.json)
    "scope.pension_unemployment": N_(
        "pension and unemployment insurance only; other branches follow national law (double "
        "coverage possible)"
    ),
    "scope.nl_cn": N_(
        "old-age pension (AOW), survivors' pension (ANW) and unemployment insurance (WW) only; "
        "other branches follow national law"
    ),
    "scope.pensions": N_(
        "pensions only; other branches follow national law (double coverage possible)"
    ),
    "scope.lu_cn": N_(
        "postings, export of benefits and equal treatment only; periods are not added together"
    ),
    "scope.postings_only": N_("the applicable legislation of posted workers only"),
    "scope.pensions_work_injury": N_(
        "pensions and work injury only; other branches follow national law (double coverage "
        "possible)"
    ),
    "scope.merchant_navy": N_("seafarers of the merchant navy only"),
    "scope.cmiss_postings": N_(
        "Ibero-American Multilateral Convention: postings for professional, research, scientific, "
        "technical or management work only"
    ),
    "catalogue_note.suspended_parts_unconfirmed": N_(
        "the sources do not say which provisions are suspended"
    ),
    "catalogue_note.posting_rule_unconfirmed": N_(
        "the sources do not say whether it has a detached-worker rule"
    ),
    "catalogue_note.former_yugoslavia_successor": N_(
        "agreement with the former Yugoslavia; its application to %(partner_state)s is not "
        "confirmed"
    ),
    "catalogue_note.signed_not_in_force": N_("agreement signed, not in force"),
    "catalogue_note.concluded_entry_unconfirmed": N_(
        "agreement concluded; its entry into force is not confirmed"
    ),
    "catalogue_note.named_by_secondary_sources": N_(
        "named only by secondary sources, as an agreement on postings"
    ),
    "incomplete.list_read_in_part": N_(
        "the list of agreements published by %(institution)s could be read only in part"
    ),
    "incomplete.list_read_up_to": N_(
        "the list of agreements published by %(institution)s could be read only up to "
        "%(last_state)s; an agreement with a partner after it in that list is not confirmed"
    ),
    "incomplete.list_not_read": N_(
        "the list of agreements published by %(institution)s could not be read"
    ),
    "incomplete.secondary_only": N_("only secondary lists of the agreements were available"),
    "incomplete.only_us": N_(
        "only the agreement with the United States is confirmed from an official source; the "
        "list published by %(institution)s was not read"
    ),
}

ALL_MESSAGES: dict[str, str] = {**MESSAGES, **PUBLIC_MESSAGES}


def _number(value: float) -> str:
    rounded = round(float(value), 2)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:g}"


def _english_country(code: str) -> str:
    from web.coverage.countries import label

    return label(code)


def _english_date(value: str) -> str:
    return value


def _english_plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def render(
    message: Mapping[str, Any] | str,
    *,
    gettext: Callable[[str], str] = lambda s: s,
    ngettext: Callable[[str, str, int], str] | None = None,
    country: Callable[[str], str] = _english_country,
    day: Callable[[str], str] = _english_date,
) -> str:
    """The message in words. Defaults give English; the Flask layer passes its translators.

    A plain string (an answer stored before messages existed) is returned unchanged.
    """
    if isinstance(message, str):
        return message
    template = ALL_MESSAGES.get(message["id"])
    if template is None:
        return str(message["id"])
    plural = ngettext or (lambda s, p, n: _english_plural(s, p, n))
    values: dict[str, str] = {}
    for key, value in (message.get("params") or {}).items():
        values[key] = _param(key, value, gettext, plural, country, day)
    text = gettext(template)
    try:
        return text % values
    except (KeyError, ValueError, TypeError):  # a broken translation must not hide the answer
        return template % values


def _param(key, value, gettext, plural, country, day) -> str:
    if isinstance(value, Mapping) and "id" in value:
        return render(value, gettext=gettext, ngettext=plural, country=country, day=day)
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        return " ".join(
            render(v, gettext=gettext, ngettext=plural, country=country, day=day) for v in value
        )
    if value is None:
        return ""
    if key.endswith("_shares") and isinstance(value, list):
        return ", ".join(f"{country(state)} {_number(pct)} %" for state, pct in value)
    if key.endswith("_states") and isinstance(value, list):
        names = [country(v) for v in value]
        if len(names) <= 1:
            return "".join(names)
        return gettext(PUBLIC_MESSAGES["list.and"]) % {
            "items": ", ".join(names[:-1]),
            "last": names[-1],
        }
    if (key == "state" or key.endswith("_state")) and isinstance(value, str):
        return country(value)
    if key.endswith("_date") and isinstance(value, str):
        return day(value)
    if key.endswith("_pct") and isinstance(value, int | float):
        return f"{_number(value)} %"
    if key == "days" and isinstance(value, int):
        unit = MESSAGES["unit.one_day"] if value == 1 else MESSAGES["unit.days"]
        return gettext(unit) % {"num": value}
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return _number(value)
    return str(value)


def english(message: Mapping[str, Any] | str) -> str:
    return render(message)

"""The messages that employees and inspectors read too: seven languages.

The one plain sentence that opens every answer, the names of the documents, and what home law may
still offer where no agreement exists. ``babel-public.cfg`` extracts this file into the public
catalogues (Dutch, Italian, Spanish, Polish besides English, French and German); the legal detail
in :mod:`web.coverage.messages` stays in the consoles' languages.
"""

from __future__ import annotations


def N_(text: str) -> str:
    """Marks an English template for extraction; it is translated when rendered."""
    return text


PUBLIC_MESSAGES: dict[str, str] = {
    # -- one plain sentence first ------------------------------------------------------------
    "summary.certificate_official": N_(
        "%(state)s's social security continues for this trip; %(document)s proves it, and we "
        "file the request with the authority."
    ),
    "summary.certificate_provisional": N_(
        "%(state)s's social security continues for this trip; %(document)s proves it. We cannot "
        "file in this country, so we issue a provisional certificate until the authority's "
        "document arrives."
    ),
    "summary.segments_host": N_(
        "%(state)s's social security covers this trip until %(end_date)s, proved by "
        "%(document)s; from %(next_date)s the social security of %(next_state)s applies and the "
        "employer registers the employee there."
    ),
    "summary.segments_prolongation": N_(
        "%(state)s's social security covers this trip until %(end_date)s, proved by "
        "%(document)s; from %(next_date)s it continues only if the extension is requested and "
        "approved in time."
    ),
    "summary.host": N_(
        "The social security of %(state)s applies to this trip from the first day: the employer "
        "registers the employee there, and no certificate is issued."
    ),
    "summary.no_treaty": N_(
        "No social security agreement links %(home_state)s and %(destination_state)s: no "
        "certificate can exist, and both countries' laws may apply."
    ),
    "summary.no_treaty_person": N_(
        "The agreement does not cover this person: no certificate can exist, and both "
        "countries' laws may apply."
    ),
    "summary.review": N_(
        "The rules leave this case to the authorities' assessment: we do not guess, and support "
        "or the institution decides."
    ),
    # -- documents ---------------------------------------------------------------------------
    "document.A1": N_("an A1 certificate"),
    "document.A1_via_derogation_art16": N_("an A1 certificate under an exception agreement"),
    "document.CoC": N_("a certificate of coverage"),
    "document.CoC_prolongation": N_("an extended certificate of coverage"),
    # -- home law where no agreement applies ----------------------------------------------
    "home_cover.FR": N_(
        "French social security may continue under domestic law (détachement de droit interne, "
        "Art L761-2 of the Social Security Code: up to 3 years, renewable once, the employer "
        "paying all contributions); otherwise the employee can insure voluntarily with the "
        "Caisse des Français de l'étranger (CFE)."
    ),
    "home_cover.DE": N_(
        "German social security continues under 'Ausstrahlung' (§ 4 SGB IV) when the work "
        "abroad is limited in time in advance, by its nature or by contract."
    ),
    "home_cover.AT": N_(
        "Austrian social security may continue for up to 5 years for a posting to a country "
        "without an agreement."
    ),
    "home_cover.BE": N_(
        "Belgian social security continues for a posting expected to last at most 6 months "
        "(once renewable by 6 months on notice to the NSSO); a longer stay can only be covered "
        "by the voluntary overseas social security scheme."
    ),
    "home_cover.NL": N_(
        "The SVB can state that Dutch insurance continues during a temporary posting ('to whom "
        "it may concern' statement); the host country may still apply its own law."
    ),
    "home_cover.GB": N_(
        "UK National Insurance contributions remain payable for the first 52 weeks of work "
        "abroad for a UK employer when the employee is ordinarily resident in the UK; "
        "voluntary contributions can continue the record afterwards."
    ),
    "home_cover.CH": N_(
        "Swiss old-age and disability insurance (AHV/AVS) can continue for an employee working "
        "abroad for an employer in Switzerland who pays the salary, if the employer agrees "
        "(Art 1a(3)(a) AHVG/LAVS)."
    ),
    # -- words -------------------------------------------------------------------------------
    "list.and": N_("%(items)s and %(last)s"),
}

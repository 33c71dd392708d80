"""Provider coverage categories (README.md, "Which certificate a trip needs").

For a home state × destination the provider is in one of three positions:

- ``no_treaty``: no bilateral or multilateral agreement exists, so no A1 or CoC can be issued;
- ``official``: a treaty exists and the provider files the request with the authority itself;
- ``provisional``: a treaty exists but the provider cannot file; it issues a provisional A1/CoC
  (not an authority document: it confirms that the employee stays insured at home).

"Files in" means the state whose institution issues the certificate: the competent state, whose
legislation applies (987/2009 Art 19(2)). For a posting that is the home (sending) state; for
multi-state work it is the state the engine finds (``issuing_state``). The operator keeps the list
of states where the provider can file and passes it in.

Where the catalogue cannot confirm a treaty (a partner named but unconfirmed, or no complete list
of the home state's agreements), the answer is ``provisional``, never ``official``: the provider
cannot file on an unconfirmed basis, and saying "no certificate can exist" would be a guess. The
engine answers ``review_required`` for those trips.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from web.coverage import countries
from web.coverage.validation import CaseError

ProviderCategory = Literal["no_treaty", "official", "provisional"]


def normalise_states(states: Collection[str] | None, *, field: str) -> frozenset[str]:
    """Canonical codes for a list of states; CaseError naming ``field`` for a bad entry."""
    if states is None:
        return frozenset()
    if isinstance(states, str):
        raise CaseError({field: "must be a list of country codes"})
    found: set[str] = set()
    errors: dict[str, str] = {}
    for i, code in enumerate(states):
        try:
            found.add(countries.member_state_of(countries.normalise_code(code)))
        except ValueError as exc:
            errors[f"{field}[{i}]"] = str(exc)
    if errors:
        raise CaseError(errors)
    return frozenset(found)


def provider_category(
    home_state: str,
    destination: str,
    provider_filing_states: Collection[str],
    *,
    issuing_state: str | None = None,
) -> ProviderCategory:
    """``no_treaty``, ``official`` or ``provisional`` for ``home_state`` → ``destination``.

    ``issuing_state`` is the state whose institution issues the certificate (default: the home
    state, the competent state of a posting). Raises :class:`CaseError` for unknown codes.
    """
    errors: dict[str, str] = {}
    codes: dict[str, str] = {}
    for name, value in (
        ("home_state", home_state),
        ("destination", destination),
        ("issuing_state", issuing_state),
    ):
        if value is None:
            continue
        try:
            codes[name] = countries.member_state_of(countries.normalise_code(value))
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise CaseError(errors)
    filing = normalise_states(provider_filing_states, field="provider_filing_states")

    treaty = countries.treaty_between(codes["home_state"], codes["destination"])
    if treaty.status == "none":
        return "no_treaty"
    if treaty.status in ("unknown", "unconfirmed"):
        return "provisional"
    files_in = codes.get("issuing_state", codes["home_state"])
    return "official" if files_in in filing else "provisional"

"""Coverage: the country catalogue, provider categories and the applicable-legislation engine.

Pure Python (standard library only): the Flask views, the CLI and the tests call these functions
without an application or a database.

- :func:`determine` — which legislation applies to a trip and which certificate proves it;
- :func:`validate_case` / :class:`CaseError` — checked, normalised input, or every bad field;
- :func:`provider_category` — ``no_treaty`` / ``official`` / ``provisional`` per home ×
  destination;
- :mod:`web.coverage.countries` — ISO codes, the coordination area, bilateral agreements.
"""

from web.coverage.countries import (
    bilateral_agreement,
    country_name,
    group_of,
    legal_basis,
    normalise_code,
    treaty_between,
)
from web.coverage.engine import CertificateType, determine
from web.coverage.providers import ProviderCategory, provider_category
from web.coverage.validation import CaseError, validate_case

__all__ = [
    "CaseError",
    "CertificateType",
    "ProviderCategory",
    "bilateral_agreement",
    "country_name",
    "determine",
    "group_of",
    "legal_basis",
    "normalise_code",
    "provider_category",
    "treaty_between",
    "validate_case",
]

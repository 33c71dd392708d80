"""The domain's words, each defined once: the value stored and sent, with its label for people.

A word is a member of a `Vocabulary` enum (`TripKind.POSTING`, `CoverageStatus.COVERED`, …). Models,
forms, services, the API's OpenAPI document and the JavaScript all take their values from these
enums, and templates their labels through one macro (`term` in templates/_macros.html). Every
subclass is registered here by name, so a template can say `term("TripKind", trip.kind)` and a test
can check that the OpenAPI document and the JavaScript constants agree with Python
(tests/test_vocabulary.py).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

# Only the standard library here: the coverage engine (web/coverage/, standard library only)
# takes its words from this module too. Labels are marked for extraction by `_l` and translated
# when read by the translator the application installs (`use_translator`: flask_babel's gettext,
# so the request's language); without one, a label reads in English.
_translate: Callable[[str], str] = str


def use_translator(translate: Callable[[str], str]) -> None:
    global _translate
    _translate = translate


def _l(message: str) -> str:
    """Marks a label for the translation catalogue (pybabel's `-k _l`); translated when read."""
    return message


VOCABULARIES: dict[str, type[Vocabulary]] = {}


class Vocabulary(enum.StrEnum):
    """A domain word: `Member = "value", _l("Label")`. The label is translated when read."""

    _label: Any

    def __new__(cls, value: str, label: Any = None) -> Vocabulary:
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label if label is not None else value
        return member

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        VOCABULARIES[cls.__name__] = cls

    @property
    def label(self) -> str:
        if getattr(type(self), "proper_names", False):
            return str(self._label)
        return _translate(self._label)

    @classmethod
    def values(cls) -> list[str]:
        return [member.value for member in cls]

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """(value, label) pairs for a select field, in the definition's order."""
        return [(member.value, member.label) for member in cls]

    @classmethod
    def label_of(cls, value: str | None) -> str:
        """The label of a stored value; the value itself if it is not (or no longer) a word."""
        try:
            return cls(value).label
        except ValueError:
            return value or ""


def label(vocabulary: str, value: str | None) -> str:
    """The label of ``value`` in the vocabulary named ``vocabulary`` (templates' `term` macro)."""
    return VOCABULARIES[vocabulary].label_of(value)


# --- people and accounts -------------------------------------------------------------------


class Role(Vocabulary):
    EMPLOYEE = "employee", _l("Employee")
    EMPLOYER_ADMIN = "employer_admin", _l("Employer admin")
    SUPPORT = "support", _l("Support agent")
    OPERATOR = "operator", _l("Operator")

    @property
    def belongs_to_company(self) -> bool:
        # Support agents and operators work for the provider, not for a customer company.
        return self in (Role.EMPLOYEE, Role.EMPLOYER_ADMIN)


class InvitationDelivery(Vocabulary):
    """How an invitation link was handed over (stored on the link's ActionToken)."""

    MAIL = "mail", _l("Sent by email")
    LINK = "link", _l("Link given to the admin to pass on")
    MAIL_FAILED = "mail_failed", _l("The email could not be sent")


class InvitationStatus(Vocabulary):
    """Where an employee's invitation stands: accepted (the password is chosen) or still open,
    and what the admin does next (web/auth/invitations.py)."""

    ACCEPTED = "accepted", _l("Accepted")
    MAILED = "mailed", _l("Invited by email")
    LINK_CREATED = "link_created", _l("Invitation link created")
    MAIL_FAILED = "mail_failed", _l("Invitation email failed")
    EXPIRED = "expired", _l("Invitation expired")
    NOT_INVITED = "not_invited", _l("Not invited yet")

    @property
    def needs_invitation(self) -> bool:
        """No usable link is on its way: the admin sends one or creates one."""
        return self in (
            InvitationStatus.MAIL_FAILED,
            InvitationStatus.EXPIRED,
            InvitationStatus.NOT_INVITED,
        )


# --- trips ---------------------------------------------------------------------------------


class TripKind(Vocabulary):
    POSTING = "posting", _l("Posting (temporary work abroad)")
    REGULAR_MULTI_STATE = "regular_multi_state", _l("Regular work in several countries")


class TripStatus(Vocabulary):
    """Whether the trip still takes place (its coverage status is web/trips/status.py's)."""

    PLANNED = "planned", _l("Planned")
    CANCELLED = "cancelled", _l("Cancelled")


class EmploymentStatus(Vocabulary):
    EMPLOYED = "employed", _l("Employed")
    SELF_EMPLOYED = "self_employed", _l("Self-employed")
    EMPLOYED_AND_SELF_EMPLOYED = "employed_and_self_employed", _l("Employed and self-employed")


class Art16Agreement(Vocabulary):
    """Where an Art 16 exception (an agreement between the two states' institutions) stands."""

    NONE = "none", _l("None")
    REQUESTED = "requested", _l("Requested, not decided")
    GRANTED = "granted", _l("Granted")


class CertificateType(Vocabulary):
    """The coverage engine's answer: which certificate a trip needs, or why none exists."""

    A1 = "A1", _l("A1 certificate")
    A1_VIA_DEROGATION_ART16 = "A1_via_derogation_art16", _l("A1 certificate (Art 16 exception)")
    COC = "CoC", _l("Certificate of coverage")
    COC_PROLONGATION = "CoC_prolongation", _l("Extended certificate of coverage")
    NONE_HOST_LEGISLATION = (
        "none_host_legislation",
        _l("No certificate: law of the country of work"),
    )
    NONE_NO_TREATY = "none_no_treaty", _l("No certificate: no social security agreement")
    REVIEW_REQUIRED = "review_required", _l("A person must review the case")


class CoverageStatus(Vocabulary):
    """Is this person covered on this trip? One word per answer, with its label."""

    COVERED = "covered", _l("Covered")
    PROVISIONAL = "provisional", _l("Provisionally covered")
    REQUESTED = "requested", _l("Requested")
    ACTION_NEEDED = "action_needed", _l("Action needed")
    NOT_COVERED = "not_covered", _l("Not covered")
    HOST_LEGISLATION = "host_legislation", _l("Host country's social security")
    NO_AGREEMENT = "no_agreement", _l("No agreement")
    REVIEW_NEEDED = "review_needed", _l("Review needed")
    CANCELLED = "cancelled", _l("Cancelled")


class NextStepKind(Vocabulary):
    """The one action that moves a trip on (its label is the action's button)."""

    NOTHING = "nothing", _l("Nothing to do")
    FILE_REQUEST = "file_request", _l("Confirm the checklist and file")
    UPLOAD_DOCUMENT = "upload_document", _l("Upload the authority's document")
    WAIT_FOR_CHECK = "wait_for_check", _l("Wait for the document's check")
    PREPARE_REQUEST = "prepare_request", _l("Prepare the certificate request")
    ISSUE_PROVISIONAL = "issue_provisional", _l("Issue a provisional statement")
    REQUEST_EXCEPTION = "request_exception", _l("Ask for an exception (Art 16)")
    REGISTER_IN_HOST = "register_in_host", _l("Register in the host country")
    CHECK_OPTIONS = "check_options", _l("Check the insurance options")
    COMPLETE_TRIP = "complete_trip", _l("Complete the trip's details")
    CHECK_AGAIN = "check_again", _l("Check the coverage again")
    # The host state's posted-worker declaration (web/declarations/), once coverage asks nothing.
    ANSWER_DECLARATION = "answer_declaration", _l("Answer the declaration question")
    FILE_DECLARATION = "file_declaration", _l("Record the posted-worker declaration")
    # The trip's other work countries whose own declaration is required, once nothing else asks.
    CHECK_DECLARATIONS_ELSEWHERE = (
        "check_declarations_elsewhere",
        _l("Check the declarations in the other work countries"),
    )


# --- certificates and their requests -------------------------------------------------------


class RequestKind(Vocabulary):
    INITIAL = "initial", _l("Certificate request")
    EXTENSION = "extension", _l("Extension request")
    DEROGATION = "derogation_art16", _l("Art 16 derogation request")
    RENEWAL = "renewal", _l("Renewal request")


class RequestStatus(Vocabulary):
    DRAFT = "draft", _l("Draft")
    SUBMITTED = "submitted", _l("Submitted to the authority")
    ISSUED = "issued", _l("Issued")
    REFUSED = "refused", _l("Refused")
    CANCELLED = "cancelled", _l("Cancelled")


class DocumentType(Vocabulary):
    A1 = "A1", _l("A1 certificate")
    COC = "CoC", _l("Certificate of coverage")


class CertificateKind(Vocabulary):
    OFFICIAL = "official", _l("Official")
    PROVISIONAL = "provisional", _l("Provisional")

    @property
    def signing_class_label(self) -> str:
        """What a signing key of this document class signs, in words (the operator's pages)."""
        return _translate(_SIGNING_CLASS_LABELS[self])


_SIGNING_CLASS_LABELS = {
    CertificateKind.OFFICIAL: _l("Official certificates"),
    CertificateKind.PROVISIONAL: _l("Provisional statements"),
}


class CertificateStatus(Vocabulary):
    ACTIVE = "active", _l("Active")
    WITHDRAWN = "withdrawn", _l("Withdrawn")
    SUPERSEDED = "superseded", _l("Superseded")
    # An official certificate recorded by a customer waits for the provider's review: it is not
    # signed and proves nothing until a reviewer confirms it (web/certificates/review.py).
    PENDING_REVIEW = "pending_review", _l("Waiting for review")
    REJECTED = "rejected", _l("Rejected")  # the review found it wrong: kept, never signed


class KeyState(Vocabulary):
    PUBLISHED = "published", _l("Published")  # in the trust list, not yet signing
    ACTIVE = "active", _l("Signing")  # signs new certificates (exactly one per class)
    RETIRED = "retired", _l("Retired")  # no longer signs; verifies until its certificates expire
    REVOKED = "revoked", _l("Revoked")  # never verifies again


class CertificateStanding(Vocabulary):
    """A certificate as a reader judges it today (Certificate.display_status): its status and
    its dates together."""

    VALID = "valid", _l("Valid")
    NOT_YET_VALID = "not_yet_valid", _l("Not yet valid")
    EXPIRED = "expired", _l("Expired")
    WITHDRAWN = "withdrawn", _l("Withdrawn")
    SUPERSEDED = "superseded", _l("Superseded")
    PENDING_REVIEW = "pending_review", _l("Waiting for review")
    REJECTED = "rejected", _l("Rejected")


class VerificationAnswer(Vocabulary):
    """What a check of a certificate's code answers (the public page, the API, the offline
    scanner's JavaScript, the support console). Only the first two mean "valid"."""

    VALID_OFFICIAL = "valid_official", _l("Valid — official certificate")
    VALID_PROVISIONAL = "valid_provisional", _l("Valid — provisional statement")
    NOT_YET_VALID = "not_yet_valid", _l("Not yet valid")
    EXPIRED = "expired", _l("Expired")
    WITHDRAWN = "withdrawn", _l("Withdrawn")
    SUPERSEDED = "superseded", _l("Superseded — a newer certificate exists")
    NOT_GENUINE = "not_genuine", _l("Not genuine")
    NOT_READABLE = "not_readable", _l("Not readable")


# --- incidents -----------------------------------------------------------------------------


class IncidentStatus(Vocabulary):
    NEW = "new", _l("New")
    ACKNOWLEDGED = "acknowledged", _l("Acknowledged")
    RESOLVED = "resolved", _l("Resolved")


class IncidentOutcome(Vocabulary):
    INSPECTOR_SATISFIED = "inspector_satisfied", _l("The inspector was satisfied")
    DOCUMENT_SENT = "document_sent", _l("Document sent to the authority")
    FOLLOW_UP = "follow_up", _l("Follow-up needed")
    FINE_IMPOSED = "fine_imposed", _l("A fine was imposed")


# --- languages -----------------------------------------------------------------------------


class Language(Vocabulary):
    """The languages of the public pages and the inspector view, each named in itself (a reader
    looks for their own language's name). The consoles use the configured subset (LANGUAGES)."""

    EN = "en", "English"
    FR = "fr", "Français"
    DE = "de", "Deutsch"
    NL = "nl", "Nederlands"
    IT = "it", "Italiano"
    ES = "es", "Español"
    PL = "pl", "Polski"


Language.proper_names = True  # each language is named in itself, in every page

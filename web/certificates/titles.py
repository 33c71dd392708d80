"""What a certificate is called, in the reader's language: the one place for document titles.

Pages, PDFs, push messages and the inspector view all take a certificate's name from here, so a
provisional statement (issued by the provider) can never be titled like the authority's form: its
name is its own, followed by what it is not ("not an A1 certificate").
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from web.models import Certificate, CertificateKind

A1 = "A1"


@dataclass(frozen=True)
class DocumentTitle:
    """A title in two parts: the document's name, and for a provisional statement the words that
    say which official document it is not (shown beside the name, never left out)."""

    name: str
    not_official: str = ""

    def __str__(self) -> str:
        return f"{self.name} — {self.not_official}" if self.not_official else self.name


def _kind_and_type(certificate: Certificate) -> tuple[str, str]:
    return str(certificate.kind), str(certificate.document_type)


def is_provisional(certificate: Certificate) -> bool:
    return str(certificate.kind) == CertificateKind.PROVISIONAL.value


def document_title(certificate: Certificate) -> DocumentTitle:
    """The full title, as the inspector and the employee read it at the top of a page."""
    kind, document_type = _kind_and_type(certificate)
    if kind == CertificateKind.PROVISIONAL.value:
        return DocumentTitle(
            _("Provisional statement of social security coverage"),
            _("not an A1 certificate")
            if document_type == A1
            else _("not a Certificate of Coverage"),
        )
    if document_type == A1:
        return DocumentTitle(_("Portable Document A1"))
    return DocumentTitle(_("Certificate of Coverage (bilateral agreement)"))


def document_short_title(certificate: Certificate) -> str:
    """A short name for lists, cards and notifications."""
    kind, document_type = _kind_and_type(certificate)
    if kind == CertificateKind.PROVISIONAL.value:
        return (
            _("Provisional statement (not an A1)")
            if document_type == A1
            else _("Provisional statement (not a CoC)")
        )
    return _("A1 certificate") if document_type == A1 else _("Certificate of Coverage")


def provisional_explanation(certificate: Certificate, provider: str | None = None) -> str:
    """One sentence of what a provisional statement is; empty for an official certificate."""
    if not is_provisional(certificate):
        return ""
    return _(
        "Issued by %(provider)s while the official certificate is requested from the authority "
        "or cannot be issued.",
        provider=provider or current_app.config["PROVIDER_NAME"],
    )


def qr_label(certificate: Certificate) -> str:
    """The QR code's accessible name."""
    return _(
        "QR code: %(title)s. Verification code %(code)s.",
        title=document_short_title(certificate),
        code=certificate.verification_code_display,
    )


__all__ = [
    "DocumentTitle",
    "document_short_title",
    "document_title",
    "is_provisional",
    "provisional_explanation",
    "qr_label",
]

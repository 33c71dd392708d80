"""What an authority receives when support sends it a certificate ("Send to the authority"):
the verification link, and the document — the authority's own PDF for a confirmed official
certificate, or a PDF of the provider's provisional statement, written in the inspector's
language (fpdf2, with the vendored DejaVu Sans so that Polish and every other public language
print the same on any server)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from fpdf import FPDF

from web.certificates.services import document_file
from web.certificates.titles import document_title, provisional_explanation
from web.countries import country_name
from web.models import Certificate, CertificateKind
from web.verify.services import HolderDetails, holder_details

FONTS = Path(__file__).resolve().parent.parent / "fonts"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "application/pdf"


@dataclass(frozen=True)
class AuthorityMail:
    subject: str
    body: str
    attachment: Attachment


def verification_link(certificate: Certificate, language: str) -> str:
    """The page the QR opens, in the inspector's language."""
    token = certificate.qr_text.split("/V/", 1)[1]
    return f"{current_app.config['PUBLIC_BASE_URL']}/V/{token}?lang={language}"


def statement_pdf(certificate: Certificate, language: str) -> bytes:
    """The provisional statement as a one-page PDF in `language`: its own title (never the
    official form's name), what it is, the holder's signed details and how to check it."""
    details = holder_details(certificate)
    provider = current_app.config["PROVIDER_NAME"]
    with force_locale(language):
        title = document_title(certificate)
        rows = _detail_rows(details, language)
        explanation = provisional_explanation(certificate, provider)
        check = _(
            "Check it at %(link)s or with the verification code %(code)s.",
            link=verification_link(certificate, language),
            code=certificate.verification_code_display,
        )
        not_official = _(
            "It is not an official A1 or Certificate of Coverage. Questions: call %(phone)s.",
            phone=current_app.config["SUPPORT_PHONE"],
        )
    pdf = FPDF(format="A4")
    pdf.set_title(str(title))
    pdf.set_author(provider)
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(width, 8, title.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 12)
    pdf.multi_cell(width, 7, title.not_official, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 11)
    pdf.multi_cell(width, 6, explanation, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for label, value in rows:
        pdf.set_font("DejaVu", "B", 10)
        pdf.multi_cell(width, 5.5, label, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 11)
        pdf.multi_cell(width, 6, value, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(width, 5.5, check, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.multi_cell(width, 5.5, not_official, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _detail_rows(d: HolderDetails, language: str) -> list[tuple[str, str]]:
    def name(value: str, ascii_form: str | None) -> str:
        return f"{value} ({ascii_form})" if ascii_form else value

    def day(value) -> str:
        return format_date(value, "long")

    return [
        (_("Family name"), name(d.family_name, d.family_name_ascii)),
        (_("Given names"), name(d.given_names, d.given_names_ascii)),
        (_("Birth date"), day(d.birth_date)),
        (_("Social security legislation of"), country_name(d.legislation_state, language)),
        (_("For work in"), ", ".join(country_name(s, language) for s in d.work_states)),
        (_("Valid from"), day(d.valid_from)),
        (_("Valid until"), f"{day(d.valid_to)} {_('(inclusive)')}"),
        (_("Issued by"), current_app.config["PROVIDER_NAME"]),
    ]


def authority_mail(certificate: Certificate, language: str) -> AuthorityMail:
    """The mail to an inspector: the link and the document, in `language`. The authority's own
    PDF goes as it was uploaded; a provisional statement is drawn as a PDF."""
    provider = current_app.config["PROVIDER_NAME"]
    official = str(certificate.kind) == CertificateKind.OFFICIAL.value
    if official:
        path = document_file(certificate)
        if path is None:
            raise LookupError("official certificate without the authority's document")
        attachment = Attachment(
            certificate.document_filename or "certificate.pdf", path.read_bytes()
        )
    else:
        attachment = Attachment(
            f"statement-{certificate.verification_code_display}.pdf",
            statement_pdf(certificate, language),
        )
    details = holder_details(certificate)
    holder = f"{details.given_names} {details.family_name}"
    with force_locale(language):
        title = str(document_title(certificate))
        subject = _(
            "%(title)s of %(name)s: verification link and document",
            title=title,
            name=holder,
        )
        body = "\n\n".join(
            (
                _(
                    "At your request, %(provider)s sends you the certificate the holder showed "
                    "you: %(title)s.",
                    provider=provider,
                    title=title,
                ),
                _("Check it here (valid, withdrawn or replaced, as of now):")
                + "\n"
                + verification_link(certificate, language),
                _("Verification code: %(code)s", code=certificate.verification_code_display),
                _("The document is attached (PDF)."),
                provider,
            )
        )
    return AuthorityMail(subject, body, attachment)

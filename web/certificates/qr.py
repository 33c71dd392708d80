"""The QR code as a small inline SVG: one <path>, black on white, no raster."""

from __future__ import annotations

from functools import lru_cache

import qrcode
from markupsafe import Markup, escape
from qrcode.util import MODE_ALPHA_NUM, QRData

QUIET_ZONE = 4  # modules of white around the code, as ISO/IEC 18004 requires


def qr_matrix(
    text: str, error_correction: int = qrcode.constants.ERROR_CORRECT_M
) -> list[list[bool]]:
    """The modules of the QR for ``text`` (alphanumeric mode, verifier/FORMAT.md §1), quiet
    zone included."""
    qr = qrcode.QRCode(error_correction=error_correction, border=QUIET_ZONE)
    qr.add_data(QRData(text, mode=MODE_ALPHA_NUM))
    qr.make(fit=True)
    return qr.get_matrix()


def qr_version(text: str, error_correction: int = qrcode.constants.ERROR_CORRECT_M) -> int:
    qr = qrcode.QRCode(error_correction=error_correction)
    qr.add_data(QRData(text, mode=MODE_ALPHA_NUM))
    qr.make(fit=True)
    return qr.version


def _row_path(y: int, row: list[bool]) -> str:
    """Dark runs of one row as stroked segments, moving relatively along the row."""
    parts: list[str] = []
    x, pen = 0, None
    while x < len(row):
        if not row[x]:
            x += 1
            continue
        start = x
        while x < len(row) and row[x]:
            x += 1
        if pen is None:
            parts.append(f"M{start} {y}.5h{x - start}")
        else:
            parts.append(f"m{start - pen} 0h{x - start}")
        pen = x
    return "".join(parts)


@lru_cache(maxsize=512)
def _qr_path(text: str) -> tuple[int, str]:
    # Encoding a version-11 QR in pure Python takes tens of milliseconds and a certificate's QR
    # text never changes (a re-signed one is a new text): the wallet's pages reuse the drawing.
    # 512 drawings of about 6 KB each per worker.
    matrix = qr_matrix(text)
    return len(matrix), "".join(_row_path(y, row) for y, row in enumerate(matrix))


def qr_svg(text: str, label: str) -> Markup:
    """An SVG of the QR for ``text``, with ``label`` as its text alternative."""
    size, path = _qr_path(text)
    # Safe: every interpolated value is a number or passed through escape().
    return Markup(  # noqa: S704  # nosec B704
        f'<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'role="img" aria-label="{escape(label)}" shape-rendering="crispEdges">'
        f'<path fill="none" stroke="#000" stroke-width="1" d="{path}"/></svg>'
    )

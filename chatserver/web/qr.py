"""QR codes for TOTP enrolment: the otpauth:// URI as an SVG data URI (segno, pure Python), made server-side."""

from __future__ import annotations

import segno

QR_SCALE = 5


def qr_svg_data_uri(text: str) -> str:
    """A ``data:image/svg+xml`` URI of the QR code of ``text`` (the CSP allows ``img-src data:``)."""
    return str(segno.make(text, error="m").svg_data_uri(scale=QR_SCALE, border=4))


def qr_svg(text: str) -> str:
    """The QR code of ``text`` as an SVG document (for a file an operator opens once)."""
    return str(segno.make(text, error="m").svg_inline(scale=QR_SCALE, border=4))

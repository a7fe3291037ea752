"""QR codes as PNG pictures: a link to scan from a poster or from a phone's screen."""

from __future__ import annotations

import io

import segno

# Modules of 10 pixels and the standard quiet zone of 4: about 450 pixels for a deep
# link, sharp on a poster and on a phone held out to a colleague.
QR_SCALE = 10
QR_BORDER = 4


def qr_png(data: str) -> bytes:
    """``data`` as a QR code (error correction Q, so a scratched poster still reads)."""
    buffer = io.BytesIO()
    segno.make(data, error="q", micro=False).save(
        buffer, kind="png", scale=QR_SCALE, border=QR_BORDER
    )
    return buffer.getvalue()


def qr_modules(data: str) -> list[list[int]]:
    """``data`` as the same QR code's rows of modules (1 is dark), quiet zone included:
    for drawing it at any size, as on a printed poster."""
    code = segno.make(data, error="q", micro=False)
    return [[int(bool(module)) for module in row]
            for row in code.matrix_iter(scale=1, border=QR_BORDER)]  # fmt: skip

"""The pickup code as a QR image (segno: pure Python). The image holds the code only, so
the desk's scanner types exactly what a clerk would."""

import io

import segno


def pickup_qr_svg(code: str) -> str:
    """An inline SVG (for pages) with a viewBox and no fixed size: CSS sets its size."""
    return segno.make(code, error="m", micro=False).svg_inline(scale=4, border=2, omitsize=True)


def pickup_qr_png(code: str) -> bytes:
    """A PNG (for emails, as an inline attachment)."""
    out = io.BytesIO()
    segno.make(code, error="m", micro=False).save(out, kind="png", scale=6, border=2)
    return out.getvalue()

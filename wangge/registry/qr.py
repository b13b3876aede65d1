"""Door plates: a QR code per building whose URL opens /q/<token>/, as SVG, and a PNG sheet per grid."""

import io

import segno
from django.conf import settings
from django.urls import reverse
from PIL import Image, ImageDraw, ImageFont

from .models import Building

SHEET_COLUMNS = 4
CELL = 300  # pixels per plate on the sheet (A4 at ~100 dpi across four columns)


def plate_url(request, building: Building) -> str:
    path = reverse("registry:qr_building", args=[building.qr_token])
    base = getattr(settings, "WANGGE_PUBLIC_URL", "")
    return base.rstrip("/") + path if base else request.build_absolute_uri(path)


def plate_svg(url: str) -> str:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=2, xmldecl=False, svgns=True)
    return buffer.getvalue().decode()


# A CJK font for the building names when the system has one (fonts-wqy-microhei, Noto CJK).
CJK_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def _font(size: int):
    for path in CJK_FONTS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def plates_png(entries: list[tuple[str, str, str]]) -> bytes:
    """A printable sheet: entries are (url, code, name); four plates a row, code and name below each."""
    rows = max(1, -(-len(entries) // SHEET_COLUMNS))
    sheet = Image.new("RGB", (SHEET_COLUMNS * CELL, rows * (CELL + 50)), "white")
    draw = ImageDraw.Draw(sheet)
    font = _font(18)
    for i, (url, code, name) in enumerate(entries):
        x, y = (i % SHEET_COLUMNS) * CELL, (i // SHEET_COLUMNS) * (CELL + 50)
        buffer = io.BytesIO()
        segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
        buffer.seek(0)
        code_img = Image.open(buffer).convert("RGB")
        code_img.thumbnail((CELL - 30, CELL - 30))
        sheet.paste(code_img, (x + (CELL - code_img.width) // 2, y + 10))
        draw.text((x + CELL // 2, y + CELL - 8), code, fill="black", font=font, anchor="mm")
        draw.text((x + CELL // 2, y + CELL + 18), name[:16], fill="black", font=font, anchor="mm")
        draw.rectangle((x + 2, y + 2, x + CELL - 2, y + CELL + 46), outline="#999999")
    out = io.BytesIO()
    sheet.save(out, format="PNG", optimize=True)
    return out.getvalue()

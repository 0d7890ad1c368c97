"""A tiny PDF writer for test fixtures: every glyph where we put it, nothing else.

Hand-written rather than reportlab so the fixtures need no extra dependency and so hostile
variants (cut short, looping xref, bombs) can be made from the same bytes. Text uses the
standard 14 fonts with WinAnsi plus a /Differences table, which is how real LaTeX output
produces ligature glyphs (ﬁ) and letters outside Latin-1 (Ł): pypdf maps the glyph names.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

# Codes we re-map with /Differences (they hold rarely used WinAnsi punctuation otherwise).
_EXTRA = {
    "\ufb01": (129, "fi"),
    "\ufb02": (130, "fl"),
    "\ufb00": (131, "ff"),
    "\ufb03": (132, "ffi"),
    "\u0141": (133, "Lslash"),
    "\u2211": (134, "summation"),
    "\u221a": (135, "radical"),
    "\u03c3": (136, "sigma"),
    "\u03b1": (137, "alpha"),
    "\u2212": (138, "minus"),
}
FONTS = {"F1": "Helvetica", "F2": "Helvetica-Bold", "F3": "Times-Italic", "F4": "Times-Roman"}


@dataclass
class Text:
    x: float
    y: float
    text: str
    size: float = 10.0
    font: str = "F4"
    rotate: bool = False  # 90 degrees, like the arXiv side stamp


@dataclass
class Page:
    items: list[Text] = field(default_factory=list)
    image: bool = False  # a full-page grey image and no text: a scan
    raw: bytes | None = None  # a content stream given as is


def encode(text: str) -> bytes:
    out = bytearray()
    for ch in text:
        if ch in _EXTRA:
            out.append(_EXTRA[ch][0])
        else:
            out += ch.encode("cp1252")
    return bytes(out).replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def content_stream(page: Page) -> bytes:
    if page.raw is not None:
        return page.raw
    parts = []
    if page.image:
        parts.append(b"q 612 0 0 792 0 0 cm /Im1 Do Q")
    for t in page.items:
        matrix = f"0 1 -1 0 {t.x:.2f} {t.y:.2f}" if t.rotate else f"1 0 0 1 {t.x:.2f} {t.y:.2f}"
        parts.append(f"BT /{t.font} {t.size:g} Tf {matrix} Tm (".encode() + encode(t.text) + b") Tj ET")
    return b"\n".join(parts)


def _font_obj(base: str) -> bytes:
    diffs = " ".join(f"{code} /{name}" for code, name in sorted(_EXTRA.values()))
    return (
        f"<< /Type /Font /Subtype /Type1 /BaseFont /{base} "
        f"/Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [{diffs}] >> >>"
    ).encode()


def _info(info: dict[str, str]) -> bytes:
    def lit(value: str) -> bytes:
        # UTF-16BE with BOM, as PDF text strings allow, so "Łukasz" survives.
        return b"<FEFF" + value.encode("utf-16-be").hex().upper().encode() + b">"

    return b"<< " + b" ".join(f"/{k} ".encode() + lit(v) for k, v in info.items()) + b" >>"


def build_pdf(
    pages: list[Page],
    *,
    info: dict[str, str] | None = None,
    compress: bool = True,
    width: float = 612,
    height: float = 792,
    share_content: bool = False,
) -> bytes:
    """Objects: 1 catalog, 2 pages, 3.. fonts, then per page (page, content), then image, info."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    add(b"")  # catalog, filled in below
    add(b"")  # page tree
    font_ids = {name: add(_font_obj(base)) for name, base in FONTS.items()}
    fonts = b"<< " + b" ".join(f"/{n} {i} 0 R".encode() for n, i in font_ids.items()) + b" >>"
    image_id = None
    if any(p.image for p in pages):
        pixels = zlib.compress(bytes([128]) * (200 * 200))
        image_id = add(
            b"<< /Type /XObject /Subtype /Image /Width 200 /Height 200 /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n" % len(pixels) + pixels + b"\nendstream"
        )
    resources = b"<< /Font " + fonts + (b" /XObject << /Im1 %d 0 R >>" % image_id if image_id else b"") + b" >>"

    def stream(data: bytes) -> bytes:
        if compress:
            data = zlib.compress(data)
            return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
        return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"

    kids = []
    shared = add(stream(content_stream(pages[0]))) if share_content else None
    for page in pages:
        content = shared if shared else add(stream(content_stream(page)))
        kids.append(
            add(
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width:g} {height:g}] /Contents {content} 0 R /Resources ".encode()
                + resources
                + b" >>"
            )
        )
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode()
    info_id = add(_info(info)) if info else None
    return serialize(objects, info_id=info_id)


def serialize(objects: list[bytes], *, info_id: int | None = None, prev_loop: bool = False) -> bytes:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    trailer = b"<< /Size %d /Root 1 0 R" % (len(objects) + 1)
    if info_id:
        trailer += b" /Info %d 0 R" % info_id
    if prev_loop:
        # The trailer names its own xref as the previous one: a reader that follows /Prev loops.
        trailer += b" /Prev %d" % xref_at
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)

"""Hostile PDFs, made here, through the real `macaw build --pdf`: each fails with its own exit code in 30 s and 1 GiB.

The bytes are written by this module (on top of tests/pdfbuild.py's tiny PDF writer), so the
drill does not lean on the fixtures the extraction tests use.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

from bench.drills.common import Drill, Result, episode_ids, expect_error, run_cli

PAGE_TEXT = "A plain page of readable text, long enough to count as a text layer for the drill."
CONTENT = b"BT /F1 10 Tf 72 700 Td (%s) Tj ET" % PAGE_TEXT.encode()
CONTENT_OBJ = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(CONTENT), CONTENT)


def _plain(pages: int = 3) -> bytes:
    from pdfbuild import Page, Text, build_pdf

    return build_pdf([Page([Text(72, 700, PAGE_TEXT, 10)])] * pages)


def truncated() -> bytes:
    data = _plain(3)
    return data[: len(data) * 3 // 5]  # cut inside the objects: no xref, no trailer, no %%EOF


def circular_xref() -> bytes:
    """The trailer names its own cross-reference section as /Prev: a reader that follows it loops."""
    from pdfbuild import serialize

    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        CONTENT_OBJ,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return serialize(objects, prev_loop=True)


def decompression_bomb() -> bytes:
    """About 1 GiB of zeros in a FlateDecode content stream of about 1 MB."""
    from pdfbuild import Page, build_pdf

    comp = zlib.compressobj(9)
    chunk = b"0" * (1 << 20)
    data = b"".join(comp.compress(chunk) for _ in range(1024)) + comp.flush()
    return build_pdf([Page(raw=b"")], compress=False).replace(
        b"<< /Length 0 >>\nstream\n\nendstream", b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream")


def deep_nesting(depth: int = 200_000) -> bytes:
    """A page whose resources hold arrays nested 200,000 deep (a recursive parser's stack)."""
    from pdfbuild import serialize

    nested = b"[" * depth + b"]" * depth
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> /Deep " + nested + b" >> >>",
        CONTENT_OBJ,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return serialize(objects)


def no_text_layer() -> bytes:
    from pdfbuild import Page, build_pdf

    return build_pdf([Page(image=True)] * 3)  # scanned pages: images, no text


def encrypted() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_plain(2))))
    writer.encrypt(user_password="drill-secret", owner_password="drill-owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _drill(name: str, make, codes: tuple[int, ...]):  # type: ignore[no-untyped-def]
    def fn(tmp: Path) -> Result:
        path = tmp / f"{name}.pdf"
        path.write_bytes(make())
        out = tmp / "out"
        run = run_cli(["build", "--pdf", str(path), "--out", str(out)])
        result = expect_error(run, codes)
        if episode_ids(out) or (out / "feeds").exists():
            result.passed, result.detail = False, "a failed build left an episode or a feed behind | " + result.detail
        if result.passed and path.name not in run.error_line:
            result.passed, result.detail = False, "the error line does not name the file | " + result.detail
        return result

    return fn


DRILLS = [
    Drill("pdf", "truncated", _drill("truncated", truncated, (25,))),
    Drill("pdf", "circular-xref", _drill("circular-xref", circular_xref, (25,))),
    Drill("pdf", "decompression-bomb", _drill("decompression-bomb", decompression_bomb, (24,)), slow=True),
    Drill("pdf", "deep-nesting", _drill("deep-nesting", deep_nesting, (24,))),
    Drill("pdf", "no-text-layer", _drill("no-text-layer", no_text_layer, (23,))),
    Drill("pdf", "encrypted", _drill("encrypted", encrypted, (22,))),
]

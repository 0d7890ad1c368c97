"""Hostile LaTeX sources through the LaTeX path: a tar with `../` members and symlinks, a gzip bomb, a `.tex` whose `\\input` loops.

`macaw build --paper 1706.03762 --until extract` through the real CLI against a local replay
of arXiv on 127.0.0.1 that serves the hostile e-print beside a good PDF. Pass: in 30 s and
1 GiB, nothing is written outside the episode (the `../` target does not appear, the symlink's
target is not read into the document), and the build either falls back to the PDF with the
reason kept in document.json (`fallback`) or stops with one clear line. Reported as not
available until the tree has the LaTeX path (an `arxiv.eprint_url` setting).
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

from bench.drills.common import Drill, Result, expect_error, not_available, run_cli

MAIN = b"\\documentclass{article}\\begin{document}\\section{Intro}Text of the paper.\\input{loop}\\end{document}\n"


def _tar(members: list[tuple[str, bytes | None, str]]) -> bytes:
    """members: (name, data, link target); a link when data is None."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data, target in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.linkname = tarfile.SYMTYPE, target
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def traversal(secret: Path, escape_name: str) -> bytes:
    return _tar([("main.tex", b"\\documentclass{article}\\begin{document}\\section{Intro}Body. \\input{leak}\\end{document}\n", ""),
                 (f"../../{escape_name}", b"written outside\n", ""),
                 ("leak.tex", None, str(secret)),
                 ("abs.tex", None, "/etc/passwd")])


def gzip_bomb() -> bytes:
    """A gzipped .tex of 512 MiB of text (about 0.5 MB on the wire): the LaTeX caps are 8 MiB of TeX, 200 MiB unpacked."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as gz:
        gz.write(b"\\documentclass{article}\\begin{document}\\section{Intro}")
        block = b"lol " * (1 << 18)
        for _ in range(512):
            gz.write(block)
    return buf.getvalue()


def input_loop() -> bytes:
    return _tar([("main.tex", MAIN, ""), ("loop.tex", b"Again. \\input{loop}\n", "")])


def _available() -> bool:
    from macaw.config import ArxivConfig

    return "eprint_url" in ArxivConfig.__dataclass_fields__


def _drill(make, latex_ok=lambda doc_text: True):  # type: ignore[no-untyped-def]
    """latex_ok(document text): whether a document read from the hostile LaTeX (no fallback) is acceptable."""
    def fn(tmp: Path) -> Result:
        if not _available():
            return not_available("no LaTeX path in this tree yet (no arxiv.eprint_url setting; branch latex)")
        from paperfixtures import ReplayServer, Reply, atom, attention_spec, pdf_reply, typeset

        secret = tmp / "secret.tex"
        secret.write_text("DRILL-SECRET-91c2 this must never be read")
        escape_name = "escaped-by-drill.txt"
        data = make(secret, escape_name) if make is traversal else make()
        out = tmp / "work" / "out"
        with ReplayServer() as server:
            server.script["1706.03762"] = [atom("1706.03762-current.xml")]
            server.script["/pdf/1706.03762v7"] = [pdf_reply(typeset(attention_spec()))]
            server.script["/e-print/1706.03762v7"] = [Reply(200, data, "application/gzip")]
            run = run_cli(["build", "--paper", "1706.03762", "--until", "extract", "--out", str(out)], timeout=60,
                          env={"MACAW_ARXIV_API_URL": server.url + "/api/query", "MACAW_ARXIV_PDF_URL": server.url + "/pdf",
                               "MACAW_ARXIV_EPRINT_URL": server.url + "/e-print", "MACAW_CACHE": str(tmp / "cache"),
                               "MACAW_DRILL_ARXIV_POLICY": '{"interval_s": 0}'})
            eprint_hits = server.hits("/e-print/1706.03762v7")
        problems = []
        if eprint_hits == 0:
            problems.append("the e-print was never asked for (nothing was tested)")
        escaped = [p for p in tmp.rglob(escape_name)]
        if escaped:
            problems.append(f"a ../ member was written outside: {escaped[0]}")
        doc_path = next(iter(out.glob("episodes/*/document.json")), None)
        if run.code == 0:
            if doc_path is None:
                problems.append("exit 0 but no document.json")
            else:
                doc = json.loads(doc_path.read_text())
                if "DRILL-SECRET" in doc_path.read_text() or "root:x:0" in doc_path.read_text():
                    problems.append("a symlink's target was read into the document")
                if not doc.get("fallback") and not latex_ok(doc_path.read_text()):
                    problems.append(f"read as LaTeX without falling back, and the attack shows in it (origin_format {doc.get('origin_format')!r})")
            if run.seconds > 30 or run.peak_mb > 1024:
                problems.append(f"{run.seconds:.1f} s, {run.peak_mb:.0f} MiB (limits 30 s, 1 GiB)")
            fallback = json.loads(doc_path.read_text()).get("fallback", "") if doc_path else ""
            ok = f"fell back to the PDF: {str(fallback)[:120]}" if fallback else "read the LaTeX safely (nothing of the attack in the document)"
            return Result(not problems, "; ".join(problems) or ok, run.peak_mb)
        result = expect_error(run, (20, 24, 25))
        if problems:
            result.passed, result.detail = False, "; ".join(problems) + " | " + result.detail
        return result

    return fn


DRILLS = [
    Drill("source", "tar-traversal-and-symlinks", _drill(traversal)),
    Drill("source", "gzip-bomb", _drill(gzip_bomb, latex_ok=lambda text: False), slow=True),
    Drill("source", "input-loop", _drill(input_loop, latex_ok=lambda text: text.count("Again.") <= 3), slow=True),
]

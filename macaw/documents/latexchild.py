"""The sandboxed half of LaTeX extraction: runs as `python -m macaw.documents.latexchild`.

One JSON request on stdin: {"eprint": path, "workdir": an empty folder inside the episode
folder, "caps": {...}}. It unpacks the e-print there (`latexsource`), inlines the main file,
expands the paper's macros (`latexmacros`), parses it (`latexparse`) and writes one JSON
answer: {"ok": true, "format": ..., "main": ..., "document": {...}, "notes": [...]} or
{"ok": false, "error": <kind>, "message": ...}, kind being pdf | damaged | limit | unsafe |
no_tex | no_text. The parent (`macaw.documents.latex`) sets the time, memory and file-size
limits and removes the folder afterwards.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any


def handle(request: dict[str, Any]) -> dict[str, Any]:
    from macaw.documents import latexmacros, latexparse
    from macaw.documents.latexsource import Caps, Refusal, inline, read_tex, unpack

    caps = Caps(**request.get("caps", {}))
    workdir = Path(request["workdir"])
    try:
        fmt, main = unpack(Path(request["eprint"]), workdir, caps)
        text, notes = inline(main, workdir, caps)
        macros, text = latexmacros.collect(text)
        text = latexmacros.expand(text, macros, caps.tex_bytes)
        bbl = ""
        for candidate in (main.with_suffix(".bbl"), *sorted(workdir.rglob("*.bbl"))):
            if candidate.is_file() and candidate.stat().st_size < 4 * 1024 * 1024:
                bbl = read_tex(candidate)
                break
        parsed = latexparse.parse(text, bbl=bbl)
    except Refusal as exc:
        return {"ok": False, "error": exc.kind, "message": exc.message}
    except RecursionError:
        return {"ok": False, "error": "limit", "message": "nests too deeply to parse"}
    words = sum(len(s["text"].split()) for s in parsed.sections if not s["appendix"])
    if words == 0:
        return {"ok": False, "error": "no_text", "message": f"has no text to narrate in {main.name}"}
    return {
        "ok": True,
        "format": fmt,
        "main": os.path.relpath(main, workdir),
        "notes": (notes + parsed.notes)[:50],
        "guard_removals": parsed.guarded,
        "document": {"title": parsed.title, "abstract": parsed.abstract, "sections": parsed.sections,
                     "captions": parsed.captions, "code": parsed.code},
    }


def main() -> None:
    request = json.loads(sys.stdin.read())
    answer: dict[str, Any] = {}

    def work() -> None:
        try:
            answer.update(handle(request))
        except MemoryError:
            answer.update({"ok": False, "error": "limit", "message": "needed more memory than allowed"})

    # pylatexenc parses recursively: a deep stack, so that deeply nested groups end as a clear
    # "nests too deeply" rather than a crash.
    sys.setrecursionlimit(12000)
    threading.stack_size(192 * 1024 * 1024)
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if not answer:
        answer = {"ok": False, "error": "damaged", "message": "could not be parsed"}
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""The LaTeX-source path, per paper: title, headings and reading-text checks, and seconds.

`bench_latex()` measures every paper in ../shared/corpus/papers that has a `source/` folder
(packed as arXiv's e-print endpoint would send it) and the fixture sources in
tests/fixtures/latex/, through the same sandboxed child the build uses. Per paper:

- title_exact: the source's \\title against facts.json's title (NFC, whitespace normalised);
  a `--paper` build takes the title, authors and abstract from arXiv's metadata, so this is
  what the source alone would give;
- heading_recall: the reference top-level headings (facts.json `section_headings`, numbers
  stripped, case folded) found among the non-appendix level-1 headings; and, for a source,
  heading_recall_declared: against the \\section commands its own files declare (a draft may
  name its sections differently from the printed version);
- control_sequences, braces: outside the math marks, in the reading text, the abstract and
  the headings; citation_debris ("[?]", "()", " , "); reference_entries; fragments: sentences
  that start lower-case or with a symbol or end in a function word ("and." "of." "than.");
- guard_removals: control words and braces the parser's last guard had to strip (what the
  walker itself let through), so a clean figure cannot hide a guard doing the work.
"""

from __future__ import annotations

import io
import json
import re
import sys
import tarfile
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "corpus" / "papers"
FIXTURES = REPO / "tests" / "fixtures" / "latex"
# The examples ("and." "than." "of." "requires.") and their kin: words a sentence cannot end on.
FUNCTION_WORDS = {"a", "an", "the", "and", "or", "of", "than", "requires", "to", "with", "by", "for", "our", "their", "its"}


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _heading_key(text: str) -> str:
    return _norm(re.sub(r"^(?:[A-Z]|\d+)(?:\.\d+)*\.?\s+", "", text)).casefold()


def _pack(folder: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.name != "expected.json":
                tf.add(path, arcname=str(path.relative_to(folder)))
    return buf.getvalue()


_ABBREVIATIONS = re.compile(r"(?:\b(?:e\.g|i\.e|et al|etc|cf|vs|Fig|Figs|Eq|Eqs|Sec|Secs|Ref|Refs|Tab|No|resp|approx|Dr|Prof|St|Thm|Lem|Def|Prop|Cor|Ch|Vol|pp)\.|\b[A-Za-z]\.)$")


def split_sentences(paragraph: str) -> list[str]:
    """Sentences at every . ! ? followed by a space, except after an abbreviation or an initial."""
    out: list[str] = []
    for piece in re.split(r"(?<=[.!?])\s+", paragraph):
        if out and _ABBREVIATIONS.search(out[-1]):
            out[-1] += " " + piece
        elif piece.strip():
            out.append(piece)
    return out


def reading_checks(texts: list[str]) -> dict[str, Any]:
    """Debris and fragments in the reading text. A paragraph that follows a display equation and
    goes on with the sentence the equation sits in ("..., we have" [display] "as desired.") is a
    continuation, counted apart: display math is a paragraph of its own by design."""
    from macaw.artifacts import MATH_CLOSE, MATH_OPEN

    joined = "\n\n".join(texts)
    prose = re.sub(f"{MATH_OPEN}.*?{MATH_CLOSE}", "MATH", joined, flags=re.S)
    sentences: list[str] = []
    fragments: list[str] = []
    continuations = 0
    previous = ""
    for paragraph in prose.split("\n\n"):
        parts = split_sentences(paragraph)
        for i, s in enumerate(parts):
            sentences.append(s)
            first = s.lstrip()[:1]
            last_word = re.sub(r"[^\w]", "", s.rstrip().split()[-1]).lower() if s.split() else ""
            starts_badly = first.islower() or (not first.isalnum() and first not in "(\"“'‘")
            if i == 0 and starts_badly and previous.strip() == "MATH":
                continuations += 1
                continue
            if starts_badly or (s.rstrip().endswith(".") and last_word in FUNCTION_WORDS):
                fragments.append(s[:80])
        previous = paragraph
    return {
        "control_sequences": len(re.findall(r"\\[A-Za-z@]+", prose)),
        "braces": prose.count("{") + prose.count("}"),
        "citation_debris": len(re.findall(r"\[\s*[?,;]*\s*\]|\(\s*[,;]*\s*\)|\s[,;.]\s", prose)),
        "reference_entries": len(re.findall(r"^\s*\[\d+\]\s+[A-Z]", prose, flags=re.M)),
        "sentences": len(sentences),
        "fragments": len(fragments),
        "fragment_ratio": round(len(fragments) / len(sentences), 4) if sentences else 0.0,
        "fragment_examples": fragments[:5],
        "continuations_after_display_math": continuations,
        "math_spans": joined.count(MATH_OPEN),
    }


def declared_headings(folder: Path) -> list[str]:
    """Top-level \\section headings as the source's own files declare them, in \\input order."""
    from macaw.documents import latexmacros
    from macaw.documents.latexsource import find_main, inline

    text, _ = inline(find_main(folder), folder)
    macros, text = latexmacros.collect(text)
    text = latexmacros.expand(text, macros, 8 * 1024 * 1024)
    body = text[text.find("\\begin{document}"):]
    cut = re.search(r"\\appendix\b|\\begin\{appendices\}", body)
    body = body[: cut.start()] if cut else body
    found = [m.group(1) for m in re.finditer(r"\\section\*?\s*\{((?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)\}", body)]
    return [re.sub(r"[{}]", "", re.sub(r"\\[A-Za-z@]+\*?", "", h)) for h in found]


def measure(name: str, folder: Path, facts: dict[str, Any]) -> dict[str, Any]:
    from macaw.documents import latex

    work = Path(tempfile.mkdtemp(prefix="macaw-bench-latex-"))
    (work / "source.tar.gz").write_bytes(_pack(folder))
    started = time.perf_counter()
    try:
        answer = latex.run_latex(work / "source.tar.gz", work)
    except latex.LatexSourceError as exc:
        return {"paper": name, "ok": False, "error": str(exc), "seconds": round(time.perf_counter() - started, 2)}
    seconds = time.perf_counter() - started
    doc = answer["document"]
    body = [s for s in doc["sections"] if not s["appendix"]]
    top = {_heading_key(s["heading"]) for s in body if s["level"] == 1 and s["heading"]}
    reference = [_heading_key(h) for h in facts.get("section_headings") or facts.get("outline_headings") or []]
    reference = [h for h in reference if not re.match(r"^(appendix|references|acknowledg)", h)]
    found = [h for h in reference if h in top]
    declared = [_heading_key(h) for h in declared_headings(folder)]
    checks = reading_checks([s["text"] for s in doc["sections"]] + [doc["abstract"]] + [s["heading"] for s in doc["sections"]])
    return {
        "paper": name, "ok": True, "format": answer["format"], "main": answer["main"], "seconds": round(seconds, 2),
        "title_exact": _norm(doc["title"]) == _norm(facts.get("title", "")),
        "heading_recall": round(len(found) / len(reference), 3) if reference else None,
        "headings_missed": [h for h in reference if h not in top],
        "heading_recall_declared": round(sum(1 for h in declared if h in top) / len(declared), 3) if declared else None,
        "sections": len(body), "appendix_sections": len(doc["sections"]) - len(body), "captions": len(doc["captions"]),
        "abstract_starts_right": _norm(doc["abstract"]).startswith(_norm(facts.get("abstract_first_sentence", "")).split(" p ")[0][:40])
        if facts.get("abstract_first_sentence") else None,
        "guard_removals": answer.get("guard_removals", 0),
        "notes": answer["notes"],
        **checks,
    }


def bench_latex() -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    rows = []
    for folder in sorted(SHARED.glob("*/source")) if SHARED.is_dir() else []:
        facts = json.loads((folder.parent / "facts.json").read_text(encoding="utf-8"))
        rows.append(measure(folder.parent.name, folder, facts))
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        rows.append(measure("fixture:" + folder.name, folder, json.loads((folder / "expected.json").read_text(encoding="utf-8"))))
    print("== latex: the source path, per paper (seconds on a shared machine, inflated by its load)")
    for r in rows:
        if not r["ok"]:
            print(f"  {r['paper']:<24} FAILED {r['error']}")
            continue
        print(f"  {r['paper']:<24} {r['seconds']:5.2f} s  title {'ok' if r['title_exact'] else 'DIFFERS'}  headings {r['heading_recall']:.0%}"
              f" (declared {r['heading_recall_declared']:.0%})  \\cs {r['control_sequences']}  braces {r['braces']}"
              f"  cite debris {r['citation_debris']}  ref entries {r['reference_entries']}"
              f"  fragments {r['fragments']}/{r['sentences']} ({r['fragment_ratio']:.1%})  guard {r['guard_removals']}")
        if r["headings_missed"]:
            print(f"  {'':<24} missed: {r['headings_missed']}")
    return {"papers": rows}


if __name__ == "__main__":
    print(json.dumps(bench_latex(), indent=1, ensure_ascii=False)[-6000:])

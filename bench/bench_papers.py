"""Paper extraction figures: the real corpus (../shared/corpus/papers) and the generated fixtures.

`corpus_figures(folder)` runs the real sandboxed extraction (child process included, as a
`--pdf` build runs it: no arXiv metadata) on one paper folder and measures the document
against the folder's facts.json. Every figure is computed from the extracted document, so each
can fail:

- `title_exact`: the title, NFC and whitespace normalised, equals facts.json's `title` (or
  `title_as_printed`, when the first page prints it differently).
- `authors_exact`: the author list equals facts.json's `authors` (None when not curated).
- `heading_recall`: the share of reference headings (`section_headings`, else
  `outline_headings`) found among the extracted headings, numbering and case ignored.
- `bad_headings`: extracted headings that are figure/table labels, dates or affiliations.
- `stamps`: occurrences of the paper's arXiv margin stamp (facts.json `stamp`/`arxiv_stamp`,
  or its `<id>v<N>` core) in the reading text (abstract and sections).
- `table_rows`: sentences that are mostly numbers (at least 4 numeric tokens, over half).
- `glued_words`: a lower-case word run straight into a capital ("areInput_2"), as when a
  figure's text lands on a body line.
- `run_together`: a lower-case run of 21 letters or more ("andespeciallyforretrieval"),
  as when the gaps of a tightly justified line are read as kerning.
- `reference_entries`: sentences shaped like a bibliography entry (see `REFERENCE_ENTRY`).
- `fragments` / `sentences`: sentences that start lower-case or with a symbol, or end in a
  word no sentence ends on ("and." "of." "than." "requires."; not a stranded preposition).
- `seconds`: wall-clock time of the whole extraction, child start-up included.

`bench_extract()` also typesets the test fixtures (tests/paperfixtures.py) and compares their
sections with the text they were typeset from. Run it alone: `python bench/bench_papers.py`.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
CORPUS = ROOT.parent / "shared" / "corpus" / "papers"

# Words no English sentence ends on. Prepositions are not among them: a stranded one ends
# real sentences ("the subsets the specialists are trained on.").
FUNCTION_WORDS = {
    "a", "an", "the", "and", "or", "but", "nor", "of", "than", "as", "that", "which", "whose",
    "is", "are", "was", "were", "requires", "require", "its", "their", "our", "we", "via", "if",
    "when", "whereas", "because", "although", "while", "whether",
}
REFERENCE_ENTRY = re.compile(
    r"(\bIn Proceedings of\b|\bProceedings of the\b|\barXiv preprint\b|\bAdvances in Neural Information Processing\b"
    r"|\bet al\.,? (?:19|20)\d\d[a-z]?\.\s|\b(?:19|20)\d\d[a-z]?\.\s+[A-Z][^.]{5,}\.\s+(?:In\b|arXiv|CoRR|Journal|Proc)"
    r"|^\[\d{1,3}\]\s+[A-Z][a-z]+|\bpp\.\s*\d+\s*[-–]\s*\d+|\bvol\.\s*\d+,?\s*(?:no\.|pp\.))"
)
BAD_HEADING = re.compile(
    r"^(fig\.?|figure|table|tab\.)\s*\d|^\(?[a-z]\)\s|\b(university|institute|department|laborator)"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+(?:19|20)\d\d\b"
    r"|^\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+(?:19|20)\d\d|\.\.\.|…",
    re.I,
)
NUMBERING = re.compile(r"^(?:(?:appendix\s+)?(?:[A-Z]|\d+)(?:\.\d+)*\.?|[IVX]+\.)\s+", re.I)


def norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


TEX_ACCENT = {"^": "\u0302", "'": "\u0301", "`": "\u0300", '"': "\u0308", "~": "\u0303", "c": "\u0327", "v": "\u030c"}


def heading_key(text: str) -> str:
    # Outlines written by hyperref keep TeX: "Lema{^i }tre--Tolman" is "Lemaître–Tolman".
    text = re.sub(r"\{\\?([\^'`\"~cv])\s?\{?\\?([a-zA-Z])\}?\s?\}", lambda m: m.group(2).replace("i", "i") + TEX_ACCENT[m.group(1)], text)
    text = norm(text.replace("--", "–"))
    text = NUMBERING.sub("", text)
    return re.sub(r"[^\w]+", " ", text.lower()).strip()


def sentences(text: str) -> list[str]:
    """Sentences of the reading text; math spans count as a word, not as punctuation."""
    from macaw.artifacts import MATH_CLOSE, MATH_OPEN

    text = re.sub(f"{MATH_OPEN}[^{MATH_CLOSE}]*{MATH_CLOSE}", " X ", text)
    out = []
    for paragraph in text.split("\n\n"):
        # Not a sentence end: "et al.", "e.g.", "i.e.", "Fig.", "Eq.", "vs.", "cf.", an initial.
        flat = re.sub(r"\b(et al|e\.g|i\.e|cf|vs|Fig|Figs|Eq|Eqs|Sec|Tab|resp|approx|No|Ref|Refs|[A-Z])\.(?=\s)", r"\1<dot>", " ".join(paragraph.split()))
        parts = [p.replace("<dot>", ".") for p in re.split(r"(?<=[.!?])\s+(?=[^\s])", flat)]
        out += [p for p in parts if len(p.split()) >= 2]
    return out


def is_fragment(sentence: str) -> bool:
    first = sentence[:1]
    if first.islower() or not (first.isalnum() or first in "\"'“‘(["):
        return True
    last = re.sub(r"[.!?]+$", "", sentence).split()[-1:] or [""]
    return sentence.endswith(".") and last[0].lower() in FUNCTION_WORDS


def is_table_row(sentence: str) -> bool:
    tokens = sentence.split()
    # "(3.22)," is a reference to an equation, prose; "(-11.8," opens a table cell.
    numbers = [t for t in tokens if re.fullmatch(r"[(±]?[-+]?\d+(?:[.,]\d+)*%?[)]?[.,;]?", t) and not re.fullmatch(r"\(\d+(?:\.\d+)?[a-z]?\)[.,;]?", t)]
    return len(numbers) >= 4 and len(numbers) * 2 > len(tokens)


def stamp_patterns(facts: dict[str, Any]) -> list[re.Pattern[str]]:
    out = []
    for key in ("stamp", "arxiv_stamp"):
        if facts.get(key):
            words = [re.escape(w) for w in re.split(r"\s+|(?<=\d)(?=v\d)", facts[key].replace("arXiv:", "")) if w]
            out.append(re.compile(r"\s*".join(words)))
    if facts.get("arxiv_id") and facts.get("version") and facts.get("stamp"):
        out.append(re.compile(re.escape(facts["arxiv_id"]) + r"\s*v" + str(facts["version"]) + r"\b"))
    return out


# Two words run together where a figure's label sat on a body line ("subprograms areInput_2",
# "thatPrimer"): a lower-case word of three letters or more straight into a capital.
GLUED = re.compile(r"\b[a-z]{3,}[A-Z][A-Za-z_]*")
# Words run together where a line's word gaps were taken for kerning: English words longer than
# "internationalization" (20 letters) are rare. 31 such runs in the corpus text before the TJ gap
# rule, 3 after ("communicationefficient": a hyphen lost at a line end).
RUN_TOGETHER = re.compile(r"(?<![A-Za-z])[a-z]{21,}(?![A-Za-z])")


def measure(document: Any, facts: dict[str, Any]) -> dict[str, Any]:
    """Figures for one extracted Document against its facts.json."""
    reading = "\n\n".join([document.abstract, *(s.text for s in document.sections)])
    sents = sentences(reading)
    titles = {norm(facts.get("title", "")), norm(facts.get("title_as_printed", ""))} - {""}
    authors = facts.get("authors")
    reference = facts.get("section_headings") or facts.get("outline_headings") or []
    # The reference list is dropped by design, so its heading is not looked for.
    reference = [h for h in reference if heading_key(h) not in ("references", "bibliography", "references and notes")]
    got = [heading_key(s.heading) for s in document.sections]
    found = [h for h in reference if heading_key(h) in got]
    fragments = [s for s in sents if is_fragment(s)]
    return {
        "title": document.title,
        "title_exact": norm(document.title) in titles,
        "authors_exact": None if authors is None else [norm(a.name) for a in document.authors] == [norm(a) for a in authors],
        "authors_found": [a.name for a in document.authors],
        "heading_recall": round(len(found) / len(reference), 3) if reference else None,
        "headings_missed": [h for h in reference if h not in found],
        "bad_headings": [s.heading for s in document.sections if BAD_HEADING.search(s.heading)],
        "stamps": sum(len(p.findall(reading)) for p in stamp_patterns(facts)),
        "table_rows": [s for s in sents if is_table_row(s)],
        "reference_entries": [s for s in sents if REFERENCE_ENTRY.search(s)],
        "glued_words": GLUED.findall(reading),
        "run_together": RUN_TOGETHER.findall(reading),
        "sentences": len(sents),
        "fragments": len(fragments),
        "fragment_examples": fragments[:8],
        "abstract_starts_right": norm(document.abstract).startswith(norm(facts.get("abstract_first_sentence", ""))[:40]),
        "sections": len(document.sections),
        "appendix_sections": sum(s.appendix for s in document.sections),
    }


def corpus_figures(folder: Path, *, timeout_s: float = 30) -> dict[str, Any]:
    """Extract one corpus paper as `--pdf` does and measure it; an error is a figure too."""
    from macaw.artifacts import Source
    from macaw.documents.pdf import extract_document
    from macaw.errors import MacawError

    facts = json.loads((folder / "facts.json").read_text(encoding="utf-8"))
    source = Source(kind="pdf", id=f"pdf-{folder.name}", title="", raw_file="paper.pdf")
    started = time.perf_counter()
    try:
        document = extract_document(folder / "paper.pdf", source, timeout_s=timeout_s)
    except MacawError as exc:
        return {"paper": folder.name, "ok": False, "error": str(exc), "seconds": round(time.perf_counter() - started, 2)}
    seconds = time.perf_counter() - started
    return {"paper": folder.name, "ok": True, "pages": facts.get("pages"), "seconds": round(seconds, 2), **measure(document, facts)}


def corpus_folders(root: Path = CORPUS) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "facts.json").is_file() and (p / "paper.pdf").is_file()) if root.is_dir() else []


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in rows if r["ok"]]
    curated = [r for r in ok if r["authors_exact"] is not None]
    recalls = [r["heading_recall"] for r in ok if r["heading_recall"] is not None]
    sents = sum(r["sentences"] for r in ok)
    return {
        "papers": len(rows),
        "extracted": len(ok),
        "title_exact": sum(r["title_exact"] for r in ok),
        "authors_exact": f"{sum(r['authors_exact'] for r in curated)}/{len(curated)}",
        "heading_recall_mean": round(sum(recalls) / len(recalls), 3) if recalls else None,
        "papers_heading_recall_ge_0.8": f"{sum(x >= 0.8 for x in recalls)}/{len(recalls)}",
        "bad_headings": sum(len(r["bad_headings"]) for r in ok),
        "stamps": sum(r["stamps"] for r in ok),
        "table_rows": sum(len(r["table_rows"]) for r in ok),
        "reference_entries": sum(len(r["reference_entries"]) for r in ok),
        "glued_words": sum(len(r["glued_words"]) for r in ok),
        "run_together": sum(len(r["run_together"]) for r in ok),
        "fragment_share": round(sum(r["fragments"] for r in ok) / sents, 4) if sents else None,
        "seconds_max": max((r["seconds"] for r in ok), default=None),
    }


def bench_corpus(root: Path = CORPUS, log: Any = print) -> dict[str, Any]:
    rows = [corpus_figures(folder) for folder in corpus_folders(root)]
    log("== papers: the PDF path (as --pdf: no metadata), per paper (seconds on a shared machine, inflated by its load)")
    for r in rows:
        if not r["ok"]:
            log(f"  {r['paper']:<20} FAILED {r['error']}")
            continue
        recall = "-" if r["heading_recall"] is None else f"{r['heading_recall']:.0%}"
        authors = "-" if r["authors_exact"] is None else ("ok" if r["authors_exact"] else "DIFFER")
        log(f"  {r['paper']:<20} {r['seconds']:5.2f} s  title {'ok' if r['title_exact'] else 'DIFFERS'}  authors {authors:<6}"
            f"  headings {recall:>4}  stamps {r['stamps']}  table rows {len(r['table_rows'])}  ref entries {len(r['reference_entries'])}"
            f"  glued {len(r['glued_words'])}  run together {len(r['run_together'])}  fragments {r['fragments']}/{r['sentences']}")
    summary = summarise(rows)
    log("  PDF path: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
    log("  (the LaTeX-source path is bench/bench_latex.py's, printed under its own heading)")
    return {"per_paper": rows, "summary": summary}


def bench_extract(repeats: int = 3) -> dict[str, Any]:
    from paperfixtures import FIXTURES, attention_spec, recovery, typeset
    from pypdf import PdfReader

    from macaw.documents.pdf import run_extraction

    results: dict[str, Any] = {"fixtures": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in FIXTURES.items():
            spec = make()
            path = Path(tmp) / f"{name}.pdf"
            path.write_bytes(typeset(spec))
            pages = len(PdfReader(path).pages)
            best = float("inf")
            for _ in range(repeats):
                started = time.perf_counter()
                found = run_extraction(path)
                best = min(best, time.perf_counter() - started)
            score = recovery([(s["heading"], s["text"]) for s in found.sections], spec)
            results["fixtures"][name] = {"pages": pages, "seconds": round(best, 3), "seconds_per_page": round(best / pages, 4), **score}
        # A longer paper, so the child's start-up cost does not dominate the per-page figure.
        spec = attention_spec(2)
        spec.blocks = spec.blocks[:-2] * 12 + spec.blocks[-2:]
        path = Path(tmp) / "long.pdf"
        path.write_bytes(typeset(spec))
        pages = len(PdfReader(path).pages)
        started = time.perf_counter()
        run_extraction(path)
        elapsed = time.perf_counter() - started
        results["long"] = {"pages": pages, "seconds": round(elapsed, 3), "seconds_per_page": round(elapsed / pages, 4)}
    fixtures = results["fixtures"].values()
    results["summary"] = {
        "seconds_per_page_long": results["long"]["seconds_per_page"],
        "headings_recovered": round(sum(f["headings"] for f in fixtures) / len(fixtures), 3),
        "paragraphs_exact": round(sum(f["paragraphs_exact"] for f in fixtures) / len(fixtures), 3),
        "text_similarity": round(sum(f["text_similarity"] for f in fixtures) / len(fixtures), 3),
    }
    if corpus_folders():
        results["corpus_pdf"] = bench_corpus()
    return results


if __name__ == "__main__":
    if sys.argv[1:] == ["corpus"]:
        corpus = bench_corpus()
        for row in corpus["per_paper"]:
            print(json.dumps({k: v for k, v in row.items() if k not in ("fragment_examples",)}, ensure_ascii=False))
        print(json.dumps(corpus["summary"], indent=1))
    else:
        print(json.dumps(bench_extract(), indent=2))

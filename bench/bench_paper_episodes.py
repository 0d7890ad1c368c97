"""Corpus papers built end to end with the real engines: does each publish at the 5% gate?

    python bench/bench_paper_episodes.py [--keep DIR] [ID ...]   (default: every paper in ../shared/corpus/papers)

`bench_paper_episodes(ids)` builds each paper's PDF with the default engines (bundled SmolLM2,
Piper, tiny.en) in a fresh output root and returns, per paper: first-listen WER, final WER,
whether it passed the gate, minutes, chapters, the model's sentences offered, accepted and
refused, and the seconds write took (`--keep DIR` or $MACAW_BENCH_KEEP keeps each paper's output
root under DIR, to read its quality.json afterwards). A full build is minutes of CPU per paper on a laptop:
pass a few ids while iterating. `spoken_text_problems` is the check the corpus test runs on the
script alone: fragments, debris, raw LaTeX and URLs in what the voice says.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def corpus() -> Path:
    """../shared/corpus/papers beside the checkout (or higher up for a worktree), or $MACAW_CORPUS."""
    if os.environ.get("MACAW_CORPUS"):
        return Path(os.environ["MACAW_CORPUS"])
    for parent in ROOT.parents:
        if (parent / "shared" / "corpus" / "papers").is_dir():
            return parent / "shared" / "corpus" / "papers"
    return ROOT.parent / "shared" / "corpus" / "papers"


_FUNCTION_END = re.compile(r"\b(?:a|an|the|and|or|of|to|in|on|for|with|by|than|that|requires|is|are|from|as)\.$", re.I)
_LATEX = re.compile(r"[\\{}^_$\u27e6\u27e7]|\b(?:mathrm|frac|sqrt|textbf|cite|ref)\b")
_URL = re.compile(r"https?:|www\.|\b\w+\.(?:com|org|net|io)/|\bslash\b.*\bslash\b")
_DEBRIS = [
    ("stamp", re.compile(r"arXiv:\s*\d|\[(?:cs|math|stat|physics|astro-ph|hep-\w+)\.", re.I)),
    ("email", re.compile(r"[\w.+-]+@[\w-]+\.[a-z]{2,}")),
    ("caption", re.compile(r"^(?:Figure|Fig\.|Table|Algorithm)\s*\d")),
    ("footnote marks", re.compile(r"[∗†‡§¶]")),
    ("glued words", re.compile(r"\b[a-z]{3,}[A-Z][a-z]")),  # a figure's label run into a body word: "areInput"
    ("citation list", re.compile(r"\bcolleagues,? (?:nineteen|twenty|two thousand)\b")),  # "[Rajani et al., 2019, ..." read out
    ("affiliation", re.compile(r"\b(?:University|Department|Institute|Departamento)\b.*\b(?:University|Department|Institute|Inc)\b")),
]


def spoken_text_problems(script: Any) -> dict[str, list[str]]:
    """What in a script's spoken text a listener should never hear, by kind; templates included."""
    found: dict[str, list[str]] = {"fragment": [], "debris": [], "raw latex": [], "url": []}
    for s in script.sentences:
        text, spoken = s.text.strip(), s.spoken.strip()
        if s.origin != "template":
            if not text[:1].isupper() and not text[:1].isdigit() and text[:1] not in "\"“":
                found["fragment"].append(text)
            elif _FUNCTION_END.search(text) or text[-1:] not in ".!?" or text.count("(") != text.count(")"):
                found["fragment"].append(text)
            words = text.split()
            numeric = sum(bool(re.fullmatch(r"[\d.,±%()+\-–]+", w)) for w in words)
            if (numeric >= 4 and numeric > 0.3 * len(words)) or re.search(r"(?<![\w.])\d[\d.,]*\s+\d[\d.,]*\s+\d", text):
                found["debris"].append(text)
            elif any(p.search(text) or p.search(spoken) for _, p in _DEBRIS):
                found["debris"].append(text)
        if _LATEX.search(text) or _LATEX.search(spoken):
            found["raw latex"].append(text)
        if _URL.search(text) or _URL.search(spoken):
            found["url"].append(text)
    return found


def bench_paper_episodes(ids: list[str] | None = None, log: bool = True, until: str = "publish",
                         keep: str | None = None) -> dict[str, Any]:
    from macaw import build
    from macaw.artifacts import Master, Quality, Script

    say = print if log else (lambda *a, **k: None)
    papers = corpus()
    ids = ids or sorted(p.name for p in papers.iterdir() if (p / "paper.pdf").is_file())
    rows: dict[str, Any] = {}
    keep = keep or os.environ.get("MACAW_BENCH_KEEP") or None  # an output root kept, to read quality.json after
    with tempfile.TemporaryDirectory() as scratch:
        tmp = keep or scratch
        for pid in ids:
            facts = json.loads((papers / pid / "facts.json").read_text(encoding="utf-8"))
            started = time.perf_counter()
            row: dict[str, Any] = {"pages": facts.get("pages")}
            folder = None
            try:
                outcome = build(pdf=str(papers / pid / "paper.pdf"), out=Path(tmp) / pid, until=until)[0]
                folder = outcome.folder
                row["write_seconds"] = round(outcome.timings.get("write", 0.0), 1)
                if outcome.error is not None:
                    row["error"] = str(outcome.error)
            except Exception as exc:  # a bench reports every paper, whatever one of them does (the gate included)
                row["error"] = f"{type(exc).__name__}: {exc}"
                folder = next(iter((Path(tmp) / pid / "episodes").glob("*")), None)
            row["seconds"] = round(time.perf_counter() - started, 1)
            cache = folder / ".macaw-cache.json" if folder else None
            if "write_seconds" not in row and cache and cache.is_file():  # a build the gate stopped: its stage record
                row["write_seconds"] = round(json.loads(cache.read_text(encoding="utf-8")).get("write", {}).get("seconds", 0.0), 1)
            if folder and (folder / "script.json").is_file():
                script = Script.load(folder)
                row.update(chapters=len(script.segments()), offered=script.offered, accepted=script.accepted,
                           refused=script.refused, words=sum(len(s.text.split()) for s in script.sentences),
                           problems={k: len(v) for k, v in spoken_text_problems(script).items()})
            if folder and (folder / "quality.json").is_file():
                q = Quality.load(folder)
                row.update(wer_first=round(q.wer_first_pass, 4), wer=round(q.wer, 4), passed=q.passed)
            if folder and (folder / "master.json").is_file():
                row["minutes"] = round(Master.load(folder).duration_s / 60, 2)
            rows[pid] = row
            say(f"  {pid:20} pages {row['pages']!s:>3}  first WER {row.get('wer_first', '-')!s:>6}  WER {row.get('wer', '-')!s:>6}"
                f"  passed {row.get('passed', '-')!s:5}  {row.get('minutes', '-')!s:>5} min  {row.get('chapters', '-')} chapters"
                f"  model {row.get('accepted', '-')}/{row.get('offered', '-')} accepted, {row.get('refused', '-')} refused"
                f"  write {row.get('write_seconds', '-')} s  {row.get('error', '')}")
    built = [r for r in rows.values() if "passed" in r]
    load = os.getloadavg()[0]
    summary = {"papers": len(rows), "published": sum(bool(r.get("passed")) for r in built),
               "load_average": round(load, 2), "per_paper": rows}
    say(f"paper episodes: {summary['published']}/{len(rows)} pass the gate (load average {load:.1f}: timings scale with it)")
    return summary


if __name__ == "__main__":
    args = sys.argv[1:]
    kept = None
    if args[:1] == ["--keep"]:
        kept, args = args[1], args[2:]
    result = bench_paper_episodes(args or None, keep=kept)
    if kept:
        Path(kept, "bench.json").write_text(json.dumps(result, indent=1), encoding="utf-8")

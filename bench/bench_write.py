"""Bench the write stage on the bundled model: faithfulness figures and the time for a paper.

    python bench/bench_write.py          (or `make bench`, which calls bench_write())

Fixtures: the journal entries in shared/journals (read and summary modes) and a synthetic
15-page paper (tests/llmfixtures.paper_document); real papers are bench_paper_episodes.py's.
`gate_figures()`: the faithfulness gate's precision and recall on tests/fixtures/gate_labels*.jsonl,
sentences the bundled model wrote on corpus papers, labelled by reading them (`gate_samples` makes
more, unlabelled).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from macaw.script import writer  # noqa: E402
from macaw.stages import write  # noqa: E402
from macaw.artifacts import Document, Script, Source  # noqa: E402
from macaw.config import Config  # noqa: E402
from macaw.script.grounding import numbers_in  # noqa: E402
from macaw.stages.context import StageContext  # noqa: E402


def _fixtures() -> list[tuple[str, str, Document, Source]]:
    from llmfixtures import JOURNALS, journal_document, paper_document

    out = []
    for path in sorted(JOURNALS.glob("*.txt")) if JOURNALS.is_dir() else []:
        doc, source = journal_document(path, author="Ada Writer")
        out += [(path.name, "read", doc, source), (path.name, "summary", doc, source)]
    doc, source = paper_document(15)
    out.append(("synthetic 15-page paper", "paper", doc, source))
    return out


def _numbers(script: Script, doc: Document, source: Source) -> tuple[int, int]:
    known = set(numbers_in(" ".join([doc.full_text(), doc.date, writer.spoken_date(doc.date), source.id,
                                     str(source.metadata.get("arxiv_id", ""))])))
    found = [n for s in script.sentences for n in numbers_in(s.text)]
    return sum(n in known for n in found), len(found)


def bench_write(log: bool = True) -> dict:
    say = print if log else (lambda *a, **k: None)
    results = []
    totals = {"numbers_ok": 0, "numbers": 0, "sentences": 0, "grounded": 0, "repeated": 0, "llm": 0}
    intro_ok = True
    paper_seconds = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name, mode, doc, source in _fixtures():
            config = Config(out=Path(tmp))
            config.journal.mode = mode if mode != "paper" else "read"
            logs: list[str] = []
            ctx = StageContext(config=config, folder=Path(tmp), episode_id=source.id, log=logs.append)
            if not results:  # load (and on a fresh machine convert) the model outside the timings
                ctx.llm().generate([{"role": "user", "content": "Hello."}], max_tokens=1, seed=0)
            ctx._engines["llm"] = _shared_llm(ctx)
            start = time.perf_counter()
            script = write.run(ctx, doc, source)
            seconds = time.perf_counter() - start
            ok, count = _numbers(script, doc, source)
            texts = [s.text for s in script.sentences]
            repeated = len(texts) - len(set(texts))
            intro = " ".join(s.text for s in script.sentences if s.segment == writer.INTRO)
            names = [a.name for a in doc.authors][:6]
            names_title = doc.title in intro and all(n in intro for n in names)
            intro_ok &= names_title
            llm = sum(s.origin == "llm" for s in script.sentences)
            gate = re.search(r"(\d+) LLM calls .*?(\d+) regenerated, (\d+) replaced", " ".join(logs))
            calls, regenerated, replaced = (int(g) for g in gate.groups()) if gate else (0, 0, 0)
            totals["calls"] = totals.get("calls", 0) + calls
            totals["replaced"] = totals.get("replaced", 0) + replaced
            totals["numbers_ok"] += ok
            totals["numbers"] += count
            totals["sentences"] += len(texts)
            totals["grounded"] += sum(s.grounded for s in script.sentences)
            totals["repeated"] += repeated
            totals["llm"] += llm
            if mode == "paper":
                paper_seconds = seconds
            row = {"fixture": name, "mode": mode, "sentences": len(texts), "llm_sentences": llm,
                   "grounded": script.grounded_ratio(), "numbers": f"{ok}/{count}", "repeated": repeated,
                   "intro_names_title_and_authors": names_title, "seconds": round(seconds, 1),
                   "llm_calls": calls, "regenerated": regenerated, "replaced_by_source": replaced}
            results.append(row)
            say(f"  {name:32} {mode:8} {len(texts):3} sentences ({llm} by the LLM, {replaced} replaced)  grounded {script.grounded_ratio():.0%}"
                f"  numbers {ok}/{count}  repeated {repeated}  intro ok {names_title}  {seconds:.1f} s")
    summary = {
        "numbers_supported_pct": round(100 * totals["numbers_ok"] / max(1, totals["numbers"]), 1),
        "grounded_pct": round(100 * totals["grounded"] / max(1, totals["sentences"]), 1),
        "repeated_sentences": totals["repeated"],
        "llm_sentences": totals["llm"],
        "llm_calls": totals.get("calls", 0),
        "llm_sentences_replaced_by_source": totals.get("replaced", 0),
        "intro_names_title_and_authors": intro_ok,
        "paper_15_pages_write_seconds": round(paper_seconds, 1),
        "fixtures": results,
    }
    summary["gate"] = [gate_figures(path, log=log) for path in sorted(LABELS.parent.glob("gate_labels*.jsonl"))]
    load = os.getloadavg()[0]
    summary["load_average"] = round(load, 2)
    say(f"(load average {load:.1f} on {os.cpu_count()} cores while this ran: timings scale with it)")
    say(f"write: numbers supported {summary['numbers_supported_pct']}%, grounded {summary['grounded_pct']}%, "
        f"repeated {summary['repeated_sentences']}, intro names title+authors {intro_ok}, "
        f"15-page paper {summary['paper_15_pages_write_seconds']} s")
    return summary


# -- the gate on a labelled set ---------------------------------------------------------------

LABELS = ROOT / "tests" / "fixtures" / "gate_labels.jsonl"


def gate_verdict(record: dict) -> bool:
    """Does the gate accept this model sentence, as the paper script would? Computed now, every time."""
    from macaw.script import paper
    from macaw.script.grounding import SourceIndex

    if record["job"] == "shorten":
        said, _ = paper.gate_shortened(record["sentence"], record["source"][0])
        return bool(said)
    notes = record["source"]
    said, _, _ = paper.gate_explained(record["sentence"], notes, SourceIndex("\n\n".join(notes)))
    return bool(said)


def gate_figures(path: Path = LABELS, log: bool = True) -> dict:
    """Precision (accepted sentences that are faithful) and recall (faithful sentences accepted) of the gate."""
    import json

    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    tp = fp = fn = tn = 0
    wrong: list[dict] = []
    for r in records:
        accepted, faithful = gate_verdict(r), r["label"] == "faithful"
        tp += accepted and faithful
        fp += accepted and not faithful
        fn += (not accepted) and faithful
        tn += (not accepted) and not faithful
        if accepted and not faithful:
            wrong.append(r)
    out = {"sentences": len(records), "faithful": tp + fn, "accepted": tp + fp, "accepted_faithful": tp,
           "accepted_unfaithful": fp, "refused_faithful": fn, "refused_unfaithful": tn,
           "precision": round(tp / (tp + fp), 4) if tp + fp else None,
           "recall": round(tp / (tp + fn), 4) if tp + fn else None,
           "papers": len({r["paper"] for r in records}), "false_accepts": [r["sentence"] for r in wrong]}
    if log:
        print(f"gate on {out['sentences']} labelled model sentences from {out['papers']} corpus papers: "
              f"precision {out['precision']}, recall {out['recall']} "
              f"({tp} faithful accepted, {fp} unfaithful accepted, {fn} faithful refused, {tn} unfaithful refused)")
    return out


def gate_samples(folders: list[Path], per_paper: int = 6, explain_papers: int = 0) -> list[dict]:
    """What the bundled model really writes on corpus papers, with the source each sentence claims.

    `folders`: episode folders holding document.json and source.json (`macaw build --pdf ... --until
    extract`). Sentences come unlabelled; a person reads each against its source and adds `label`.
    """
    from macaw.script import paper
    from macaw.script.writer import Writer, llm_sentences, render

    out: list[dict] = []
    for n, folder in enumerate(folders):
        doc, source = Document.load(folder), Source.load(folder)
        ctx = StageContext(config=Config(out=folder.parent), folder=folder, episode_id=source.id)
        ctx._engines["llm"] = _shared_llm(ctx)
        w = Writer(ctx, doc, source)
        pool, _ = paper.candidates(w)
        long = [c for c in sorted(pool, key=lambda c: -c.score)
                if len(c.text.split()) > paper.SHORTEN_OVER and not paper.leans(c.text)][:per_paper]
        for c in long:
            reply = w.ask(render("prompt_paper_shorten.j2", sentence=c.text), max_tokens=56, one_sentence=True)
            for draft in llm_sentences(reply)[:1]:
                out.append({"paper": folder.name, "job": "shorten", "sentence": draft, "source": [c.source]})
        if n < explain_papers:
            for part in paper.PARTS[:2]:
                notes = paper.choose([c for c in pool if c.part is part], 120, set(), w)
                if not notes:
                    continue
                reply = w.ask(render("prompt_paper_explain.j2", notes="\n".join(c.text for c in notes), chapter=part.name),
                              max_tokens=200)
                for draft in llm_sentences(reply)[:6]:
                    out.append({"paper": folder.name, "job": "explain", "sentence": draft, "source": [c.text for c in notes]})
    return out


_LLM = None


def _shared_llm(ctx: StageContext):
    """One loaded model for every fixture, as one build would have."""
    global _LLM
    if _LLM is None:
        _LLM = ctx.llm()
    return _LLM


if __name__ == "__main__":
    bench_write()

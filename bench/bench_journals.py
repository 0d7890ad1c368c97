"""Every real journal entry (and every post of the two real feeds) built with the real engines.

`bench_journals()` returns one row per entry: first-listen WER (quality.json `wer_first_pass`),
final WER, published or not, seconds, and how many spoken sentences still hold code or markup.
The feeds are served by a local HTTP server, as a blog would serve them.

    .venv/bin/python bench/bench_journals.py                  # everything (slow: minutes an entry)
    .venv/bin/python bench/bench_journals.py 2018-01-20-medium.md end-of-batch.txt   # a subset
    .venv/bin/python bench/bench_journals.py --feeds          # the two feeds only
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
JOURNALS = REPO.parent / "shared" / "journals"
# The same two patterns as tests/test_journal_real.py: markup, and code's punctuation or an emoticon read raw.
MARKUP = re.compile(r"[`{}\[\]<>_|\\*#$^~=]|http|www\.", re.I)
CODE_LEFT = re.compile(r"[:;]-?[)(DPp](?!\w)|:-|\(\s*\)|[A-Za-z]\((?=\w)|[a-z]\.[a-z]|(?<![\w.])\.[a-z]{2,}\b|>\.<")


def _serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _row(name: str, outcome, seconds: float) -> dict:  # type: ignore[no-untyped-def]
    folder = outcome.folder
    quality = json.loads((folder / "quality.json").read_text()) if folder and (folder / "quality.json").is_file() else {}
    script = json.loads((folder / "script.json").read_text()) if folder and (folder / "script.json").is_file() else {"sentences": []}
    markup = [s["spoken"] for s in script["sentences"] if MARKUP.search(s["spoken"]) or CODE_LEFT.search(s["spoken"])]
    return {"entry": name, "id": folder.name if folder else "", "wer_first_pass": quality.get("wer_first_pass"),
            "wer": quality.get("wer"), "published": outcome.manifest is not None and outcome.error is None,
            "error": str(outcome.error or ""), "seconds": round(seconds, 1), "sentences": len(script["sentences"]),
            "markup_sentences": markup}


def bench_journals(names: list[str] | None = None, feeds: bool = True, entries: bool = True) -> list[dict]:
    """Build each entry into a fresh output root with the default engines; one row per episode."""
    from macaw.config import load
    from macaw.errors import MacawError
    from macaw.pipeline import Outcome, build, resolve

    rows: list[dict] = []
    files = sorted(p for p in JOURNALS.iterdir() if p.suffix in (".md", ".txt") and p.name != "SOURCES.md")
    if names:
        files = [p for p in files if p.name in names]
        feeds = feeds and any(n.endswith(".xml") for n in names)
    for path in files if entries else []:
        out = Path(tempfile.mkdtemp(prefix="macaw-bench-journal-"))
        started = time.perf_counter()
        config = load(out=out, env={})
        try:
            [outcome] = build(journal=str(path), config=config)
        except MacawError as exc:  # one entry's failure (the gate) is a row, not the end of the run
            [request] = resolve(config, journal=str(path))
            outcome = Outcome(request, error=exc, folder=config.episodes_dir / request.episode_id)
        rows.append(_row(path.name, outcome, time.perf_counter() - started))
        _print(rows[-1])
    if feeds:
        server, base = _serve(JOURNALS / "feeds")
        try:
            for feed in sorted((JOURNALS / "feeds").glob("*.xml")):
                if names and feed.name not in names and "--feeds" not in names:
                    continue
                out = Path(tempfile.mkdtemp(prefix="macaw-bench-feed-"))
                started = time.perf_counter()
                # served on loopback, which the feed fetcher refuses unless told otherwise
                outcomes = build(journal=f"{base}/{feed.name}", config=load(out=out, env={}, overrides={"nightly.allow_private": True}))
                each = (time.perf_counter() - started) / max(1, len(outcomes))
                for outcome in outcomes:
                    rows.append(_row(f"{feed.name}:{outcome.folder.name if outcome.folder else '?'}", outcome, each))
                    _print(rows[-1])
        finally:
            server.shutdown()
    return rows


def _print(row: dict) -> None:
    first = "-" if row["wer_first_pass"] is None else f"{row['wer_first_pass']:.1%}"
    final = "-" if row["wer"] is None else f"{row['wer']:.1%}"
    print(f"  {row['entry'][:60]:<60} first {first:>6}  final {final:>6}  {'published' if row['published'] else 'NOT published'}"
          f"  {row['seconds']:6.0f} s  markup {len(row['markup_sentences'])}" + (f"  ({row['error'][:80]})" if row["error"] else ""), flush=True)


def summary(rows: list[dict]) -> dict:
    finals = [r["wer"] for r in rows if r["wer"] is not None]
    return {"entries": len(rows), "published": sum(r["published"] for r in rows),
            "median_first_pass": statistics.median([r["wer_first_pass"] for r in rows if r["wer_first_pass"] is not None] or [float("nan")]),
            "median_final": statistics.median(finals or [float("nan")]), "max_final": max(finals or [float("nan")]),
            "markup_sentences": sum(len(r["markup_sentences"]) for r in rows)}


if __name__ == "__main__":
    args = sys.argv[1:]
    only_feeds = args == ["--feeds"]
    result = bench_journals(None if only_feeds or not args else args, feeds=not args or only_feeds or any(a.endswith(".xml") for a in args),
                            entries=not only_feeds)
    print(json.dumps(summary(result), indent=1))
    (Path(tempfile.gettempdir()) / "macaw-bench-journals.json").write_text(json.dumps(result, indent=1))

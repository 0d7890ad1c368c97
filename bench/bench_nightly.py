"""How long a night with nothing new takes: what cron pays every night nothing was published.

    python bench/bench_nightly.py                     # prints the figures as JSON
    from bench.bench_nightly import bench_nightly; bench_nightly()   # what `make bench` calls

Setup (not timed): a local arXiv stand-in (tests/paperfixtures.py's replay server) answering
`queries` searches over `papers` typeset papers, and a folder of real journal entries from
../shared/journals (the first `entries`); a first night builds and publishes all of it with
the fake engines (tests/fakes.py), since what is timed never runs a model.

Timed: `macaw nightly` in a fresh process, as cron starts it (imports included), run `runs`
times; the state says nothing changed, so each run asks arXiv one page per query and reads
the entries, then stops. arXiv's 3-second spacing between requests is kept (the real gate, in a
private MACAW_CACHE), so with 2 queries at least 3 s of every run is that wait; the figures
say how much. Other engineers share this machine: treat the seconds as an upper bound.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))
SHARED_JOURNALS = ROOT.parent / "shared" / "journals"


def _setup(out: Path, server, papers: int, queries: int, entries: int) -> Path:  # type: ignore[no-untyped-def]
    from paperfixtures import atom_entry, notes_spec, pdf_reply, search_feed, typeset

    pdf = typeset(notes_spec())
    per_query: list[list[str]] = [[] for _ in range(queries)]
    for i in range(papers):
        arxiv_id = f"2611.{i + 1:05d}"
        entry = atom_entry(arxiv_id, 1, f"Fixture paper number {i + 1}", ["Ada Lovelace", "Alan Turing"])
        server.script[f"{arxiv_id}v1"] = [search_feed([entry])]
        server.script[f"/pdf/{arxiv_id}v1"] = [pdf_reply(pdf)]
        per_query[i % queries].append(entry)
    journal = out.parent / "journal"
    journal.mkdir(parents=True, exist_ok=True)
    if SHARED_JOURNALS.is_dir():
        for path in sorted(SHARED_JOURNALS.glob("*.md"))[:entries]:
            shutil.copy(path, journal / path.name)
    text = f'[arxiv]\napi_url = "{server.url}/api/query"\npdf_url = "{server.url}/pdf"\neprint_url = "{server.url}/e-print"\n'
    for q, found in enumerate(per_query):
        query = f"cat:cs.CL AND abs:bench{q}"
        server.script[f"search:{query}@0"] = [search_feed(found)]
        text += f'\n[[nightly.arxiv]]\nquery = "{query}"\nmax_per_night = {len(found)}\n'
    text += f'\n[[nightly.journal]]\npath = "{journal}"\n'
    out.mkdir(parents=True, exist_ok=True)
    (out / "macaw.toml").write_text(text)
    return journal


def bench_nightly(papers: int = 6, queries: int = 2, entries: int = 4, runs: int = 3) -> dict:
    from paperfixtures import ReplayServer

    from macaw.config import load
    from macaw.nightly.runner import run_night
    from macaw.sources import arxiv
    from tests import fakes

    work = Path(tempfile.mkdtemp(prefix="macaw-bench-nightly-"))
    out = work / "root"
    try:
        with ReplayServer() as server:
            _setup(out, server, papers, queries, entries)
            fakes.install()
            saved = arxiv.default_gate
            arxiv.default_gate = lambda policy: arxiv.Gate(work / "gate-setup", 0.0)  # the setup night need not wait
            try:
                first = run_night(load(out=out, env={}, overrides=fakes.FAKE_OVERRIDES))
            finally:
                arxiv.default_gate = saved
            if first.failed or first.problems:
                raise SystemExit(f"bench_nightly: the setup night failed: {first.failed or first.problems}")
            env = {**os.environ, "PYTHONPATH": str(ROOT), "MACAW_CACHE": str(work / "cache")}
            env.pop("MACAW_OUT", None)
            seconds, requests = [], []
            for _ in range(runs):
                before = len(server.log)
                started = time.perf_counter()
                result = subprocess.run([sys.executable, "-m", "macaw", "nightly", "--out", str(out), "-q"],
                                        capture_output=True, text=True, env=env)
                seconds.append(time.perf_counter() - started)
                if result.returncode != 0 or "published 0" not in result.stdout:
                    raise SystemExit(f"bench_nightly: the quiet night did not come out quiet: {result.returncode} {result.stdout} {result.stderr}")
                requests.append(len(server.log) - before)
                time.sleep(arxiv.DEFAULT_POLICY.interval_s)  # the next run's first request does not wait for this one's last
        ordered = sorted(seconds)
        return {
            "quiet_night_s_median": round(ordered[len(ordered) // 2], 2),
            "quiet_night_s_runs": [round(s, 2) for s in seconds],
            "requests_per_night": requests,
            "of_which_arxiv_spacing_s": round(arxiv.DEFAULT_POLICY.interval_s * max(0, queries - 1), 1),
            "published_items": len(first.published),
            "setup": {"papers": papers, "queries": queries, "journal_entries": entries, "engines": "tests/fakes.py (setup night only)"},
            "note": "fresh `macaw nightly` process each run, imports included; machine shared with other engineers",
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(bench_nightly(), indent=1))

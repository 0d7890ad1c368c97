"""Paper extraction figures: seconds per page and how well sections come back on the fixtures.

`bench_extract()` typesets the test fixtures (tests/paperfixtures.py), runs the real
sandboxed extraction on each (child process included, as a build runs it), and compares the
sections with the text the fixture was typeset from. Run it alone:
`python bench/bench_papers.py`.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


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
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(bench_extract(), indent=2))

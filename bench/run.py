"""`make bench`: the figures the issues ask for, measured on this machine, saved to bench/results.json.

    make bench                                   # everything: the sample, every corpus paper, every journal entry
    make bench ARGS="--papers 3 --journals 5"    # a quicker run (or MACAW_BENCH_PAPERS / MACAW_BENCH_JOURNALS)
    make bench ARGS="--only 1111.2011,end-of-batch"   # just these inputs (a paper's id, an entry's file stem, sample)
    make bench ARGS="--skip voice,areas"         # leave out sections: builds, raw, rebuild, voice, publish, areas
    make bench ARGS="--skip raw-models"          # of the raw engines, pypdf alone: extract's overhead, not the models'
    make bench ARGS="--areas nightly,latex"      # only these areas' own benchmarks
    make bench ARGS="--device cuda"              # every model on the GPU (auto: CUDA when present)

Per input (the sample entry, the PDFs in ../shared/corpus/papers/, the entries in
../shared/journals/): one real build in a fresh process (bench/bench_build.py), with its seconds
per stage, whole-build RTF ((model loads + build seconds) / audio seconds), first-listen and final WER, minutes
of audio and peak RSS; beside it, in the same process on the same prompts, text and audio, the
raw engines alone, so each stage's overhead is a ratio to its engine. Then: a cached rebuild
through the CLI, `macaw publish` over 1,000 manifests, bench_voice's reference takes, and each
area's own benchmark where its module is there (else "not available"). Prints a short table
with each target's pass/fail; the JSON holds everything.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]
SAMPLE = REPO / "samples" / "first-light.md"
RESULTS = REPO / "bench" / "results.json"
TARGETS = {"overhead": 1.10, "build_rtf": 0.25, "rebuild_s": 3.0, "peak_rss_mb": 2048.0, "publish_1000_s": 1.0}
# Other areas' benchmarks: (module, candidate function names). Called when present; never edited here.
AREAS = {
    "papers": ("bench.bench_papers", ("bench_corpus", "bench_papers", "bench_extract")),
    "latex": ("bench.bench_latex", ("bench_latex",)),
    "journals": ("bench.bench_journals", ("bench_journals",)),
    "nightly": ("bench.bench_nightly", ("bench_nightly",)),
    "paper_episodes": ("bench.bench_paper_episodes", ("bench_paper_episodes",)),
    "write": ("bench.bench_write", ("bench_write",)),
    "ray": ("bench.bench_ray", ("bench_ray",)),
}


def shared() -> Path:
    """../shared beside the checkout (or beside its worktree folder); $MACAW_SHARED wins."""
    if os.environ.get("MACAW_SHARED"):
        return Path(os.environ["MACAW_SHARED"])
    candidates = [REPO.parent / "shared", REPO.parent.parent / "shared"]
    return next((c for c in candidates if c.is_dir()), candidates[0])


def inputs(papers: int | None, journals: int | None, sample: bool = True, only: list[str] | None = None) -> list[tuple[str, str, str]]:
    """(name, kind, path) for every input of this run; `only`: just the inputs so named ("1111.2011", "sample")."""
    rows = [("sample", "journal", str(SAMPLE))] if sample else []
    corpus = shared() / "corpus" / "papers"
    pdfs = sorted(corpus.glob("*/paper.pdf")) if corpus.is_dir() else []
    rows += [(f"paper {p.parent.name}", "pdf", str(p)) for p in pdfs[:papers]]
    folder = shared() / "journals"
    entries = sorted(p for p in folder.glob("*") if p.suffix in (".md", ".txt") and p.name != "SOURCES.md") if folder.is_dir() else []
    rows += [(f"journal {p.stem}", "journal", str(p)) for p in entries[:journals]]
    if only:
        rows = [r for r in rows if r[0].split(" ", 1)[-1] in only]
    return rows


def child_build(kind: str, path: str, out: Path, device: str, raw: bool | str = True) -> dict[str, Any]:
    """One measured build in a fresh process; its peak RSS is the child's own. `raw` False: no raw
    engines beside it; "pdf": pypdf alone."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "bench_build.py"), kind, path, str(out), "--device", device]
                          + ([] if raw is True else ["--raw-pdf-only"] if raw == "pdf" else ["--no-raw"]),
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    line = next((l for l in proc.stdout.splitlines() if l.startswith("BENCH-ROW ")), None)
    if line is None:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"kind": kind, "input": path, "error": f"bench child failed (exit {proc.returncode}): {tail}", "wall_s": round(time.perf_counter() - started, 2)}
    row = json.loads(line[len("BENCH-ROW "):])
    row["wall_s"] = round(time.perf_counter() - started, 2)
    return row


def cli(*args: str) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "macaw", *args], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    return time.perf_counter() - started, result


def machine(device: str) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    from macaw.engines import resolve_device

    info: dict[str, Any] = {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}
    try:
        info["device"] = resolve_device(device)
    except Exception as exc:  # cuda asked for and not there
        info["device"] = f"unavailable: {exc}"
    for package in ("torch", "onnxruntime", "ctranslate2", "piper-tts", "faster-whisper"):
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            info[package] = None
    if info["device"] == "cuda":
        import torch

        info["cuda"] = torch.version.cuda
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def bench_builds(rows: list[tuple[str, str, str]], device: str, root: Path, log=print, raw: bool | str = True) -> dict[str, dict[str, Any]]:
    results = {}
    for i, (name, kind, path) in enumerate(rows, 1):
        out = root / f"build-{i:03d}"
        row = child_build(kind, path, out, device, raw)
        row["out"] = str(out)
        results[name] = row
        wer = row.get("wer") or {}
        log(f"  [{i}/{len(rows)}] {name}: {row.get('build_s', '?')} s build, {(row.get('audio_s') or 0) / 60:.1f} min audio, "
            f"RTF {row.get('build_rtf')}, WER {wer.get('first')} -> {wer.get('final')}" + (f"  ({row['error']})" if row.get("error") else ""))
    return results


def bench_rebuild(out: Path) -> dict[str, Any]:
    """A cached rebuild of the sample through the CLI, best of 3 (whole process, imports included)."""
    runs = []
    for _ in range(3):
        seconds, result = cli("build", "--journal", str(SAMPLE), "--out", str(out), "-q")
        if result.returncode != 0:
            return {"error": f"macaw build exit {result.returncode}: {result.stderr.strip()[-300:]}"}
        runs.append(round(seconds, 3))
    return {"runs_s": runs, "best_s": min(runs)}


def bench_publish_1000() -> dict[str, Any]:
    """bench_publish's in-process figures, and the `macaw publish` command itself over 1,000 manifests."""
    from bench.bench_publish import bench_publish
    from datetime import timedelta

    from episodefixtures import PINNED, make_config, write_manifest

    figures = bench_publish()
    out = Path(tempfile.mkdtemp(prefix="macaw-bench-publish-cli-"))
    config = make_config(out)
    for i in range(1000):
        write_manifest(config, f"arxiv-2401.{i:05d}", PINNED + timedelta(minutes=i))
    show = config.show
    (out / "macaw.toml").write_text(f'[show]\ntitle = "{show.title}"\nauthor = "{show.author}"\nemail = "{show.email}"\nbase_url = "{show.base_url}"\n')
    cold, first = cli("publish", "--out", str(out))
    warm, second = cli("publish", "--out", str(out))
    figures["cli_cold_s"], figures["cli_warm_s"] = round(cold, 3), round(warm, 3)
    if first.returncode or second.returncode:
        figures["cli_error"] = (first.stderr or second.stderr).strip()[-300:]
    return figures


def bench_areas(log=print, only: set[str] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for area, (module, names) in AREAS.items():
        if only and area not in only:
            found[area] = {"not_available": "not run (--areas left it out)"}
            continue
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            found[area] = {"not_available": f"{module} is not there ({exc})"}
            continue
        fn = next((getattr(mod, n) for n in names if callable(getattr(mod, n, None))), None)
        if fn is None:
            found[area] = {"not_available": f"{module} has none of {', '.join(names)}"}
            continue
        log(f"== {module}.{fn.__name__}")
        started = time.perf_counter()
        try:
            found[area] = fn()
        except (Exception, SystemExit) as exc:  # another area's benchmark failing must not lose this run's figures
            found[area] = {"error": f"{type(exc).__name__}: {exc}"}
        found[area] = found[area] if isinstance(found[area], dict) else {"value": found[area]}
        found[area]["_seconds"] = round(time.perf_counter() - started, 1)
    return found


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """The top-level keys the issue names, computed from the measured rows."""
    builds = results.get("builds", {})
    ok = {k: v for k, v in builds.items() if not v.get("error") and v.get("build_rtf")}
    results["build_rtf"] = {k: v.get("build_rtf") for k, v in builds.items()}
    results["stage_seconds"] = {k: v.get("stage_seconds") for k, v in builds.items()}
    results["wer"] = {k: v.get("wer") for k, v in builds.items()}
    results["audio_minutes"] = {k: round(v["audio_s"] / 60, 2) if v.get("audio_s") else None for k, v in builds.items()}
    overhead: dict[str, Any] = {}
    for stage in ("extract", "write", "speak", "check_first_listen", "check", "check_vs_one_pass"):
        ratios = [v["overhead"][stage] for v in builds.values() if stage in (v.get("overhead") or {})]
        if ratios:
            overhead[stage] = {"median": round(median(ratios), 3), "max": round(max(ratios), 3), "inputs": len(ratios)}
    results["overhead"] = overhead
    # Per stage, summed over the inputs: seconds inside the engines and Macaw's own.
    shares: dict[str, dict[str, float]] = {}
    for v in builds.values():
        for stage, parts in (v.get("engine_in_stage_s") or {}).items():
            into = shares.setdefault(stage, {})
            for part, seconds in parts.items():
                into[part] = round(into.get(part, 0.0) + seconds, 3)
    results["engine_in_stage_s"] = shares
    rates = [v["raw"]["llm_tokens_per_s"] for v in builds.values() if (v.get("raw") or {}).get("llm_tokens_per_s")]
    results["llm_tokens_per_s"] = round(median(rates), 2) if rates else None
    results["rebuild_s"] = results.get("rebuild", {}).get("best_s")
    peaks = [v["peak_rss_mb"] for v in builds.values() if v.get("peak_rss_mb")]
    results["peak_rss_mb"] = max(peaks) if peaks else None
    pub = results.get("publish") or {}
    results["publish_1000_s"] = pub.get("cli_warm_s")
    night = (results.get("areas") or {}).get("nightly") or {"not_available": "not measured"}
    results["nothing_new_night_s"] = next((night[k] for k in ("quiet_night_s_median", "nothing_new_s") if k in night), None)
    results["failed_builds"] = {k: v["error"] for k, v in builds.items() if v.get("error")}
    results["ok_builds"] = len(ok)
    return results


def verdict(value: Any, target: float, below: bool = True) -> str:
    if value is None:
        return "n/a"
    return "pass" if (value < target if below else value <= target) else "FAIL"


def table(results: dict[str, Any]) -> str:
    lines = ["", f"{'input':<46} {'stages s (ex/wr/sp/ch/ma/pu)':<32} {'RTF':>6} {'WER 1st':>7} {'final':>6} {'min':>5} {'MiB':>5}"]
    for name, row in results.get("builds", {}).items():
        st = row.get("stage_seconds") or {}
        stages = "/".join(f"{st[s]:.0f}" if s in st else "-" for s in ("extract", "write", "speak", "check", "master", "publish"))
        wer = row.get("wer") or {}
        rtf = row.get("build_rtf")
        mark = "" if row.get("error") is None else "  " + row["error"][:60]
        lines.append(f"{name[:46]:<46} {stages:<32} {rtf if rtf is not None else '-':>6} "
                     f"{_pct(wer.get('first')):>7} {_pct(wer.get('final')):>6} {(row.get('audio_s') or 0) / 60:5.1f} {row.get('peak_rss_mb') or '-':>5}{mark}")
    lines.append("")
    papers = {k: v for k, v in results.get("build_rtf", {}).items() if k.startswith("paper ")}
    worst = max((v for v in papers.values() if v is not None), default=None)
    missing = [k for k, v in papers.items() if v is None]
    lines.append(f"build RTF, every corpus paper <= 0.25   worst {worst}   {verdict(worst, 0.25, below=False) if not missing else 'FAIL'}"
                 + (f" ({len(missing)} of {len(papers)} papers did not build)" if missing else "") if papers else "build RTF, corpus papers: none built")
    notes = {"check_first_listen": "(its first transcribe / faster-whisper's own pass, same audio and settings)",
             "check": "(whole stage / every hearing and retake it made, replayed on faster-whisper and Piper)"}
    if results.get("build_rtf") and not results.get("overhead"):
        lines.append("overhead: not measured (the raw engines were left out: --skip raw)")
    for stage, o in results.get("overhead", {}).items():
        head = f"overhead {stage:<18} median {o['median']:.2f}x, max {o['max']:.2f}x over {o['inputs']} inputs   "
        if stage == "check_vs_one_pass":  # not like for like: the stage also hears again and retakes
            lines.append(head + "reference, no target (whole check / one raw pass over the narration)")
            continue
        lines.append(head + f"target <= 1.10x (max): {verdict(o['max'], TARGETS['overhead'], below=False)} {notes.get(stage, '')}".rstrip())
    for stage, parts in results.get("engine_in_stage_s", {}).items():
        inside = ", ".join(f"{k} {v:.1f} s" for k, v in parts.items() if k not in ("macaw_own_s", "stage_s"))
        lines.append(f"  {stage:<7} {parts.get('stage_s', 0):.1f} s in all inputs: {inside}; Macaw's own {parts.get('macaw_own_s', 0):.1f} s")
    lines.append(f"LLM tokens/s (raw, median)   {results.get('llm_tokens_per_s')}")
    lines.append(f"cached rebuild   {results.get('rebuild_s')} s   target < 3 s: {verdict(results.get('rebuild_s'), 3.0)}")
    lines.append(f"peak RSS of a build   {results.get('peak_rss_mb')} MiB   target < 2048 MiB: {verdict(results.get('peak_rss_mb'), 2048.0)}")
    pub = results.get("publish") or {}
    lines.append(f"macaw publish, 1,000 manifests   {results.get('publish_1000_s')} s (CLI, feed there; first publish {pub.get('cli_cold_s')} s, "
                 f"in-process {pub.get('warm_s')} s)   target < 1 s: {verdict(results.get('publish_1000_s'), 1.0)}")
    night = (results.get("areas") or {}).get("nightly", {})
    lines.append(f"a night with nothing new   {results.get('nothing_new_night_s') if results.get('nothing_new_night_s') is not None else 'not available: ' + str(night.get('not_available') or night.get('error') or 'no figure')}")
    lines += area_lines(results.get("areas") or {})
    for area, figures in (results.get("areas") or {}).items():
        if area != "nightly" and isinstance(figures, dict) and ("not_available" in figures or "error" in figures):
            lines.append(f"area {area}: {figures.get('not_available') or figures.get('error')}")
    m = results.get("machine", {})
    lines.append(f"machine: {m.get('cores')} cores, device {m.get('device')}, torch {m.get('torch')}, load average at start {m.get('loadavg_at_start')}")
    return "\n".join(lines)


def area_lines(areas: dict[str, Any]) -> list[str]:
    """One line per path or area that ran: extraction per path, journal and paper episodes."""
    out: list[str] = []
    pdf = (areas.get("papers") or {}).get("summary")
    if pdf:
        out.append(f"extraction, PDF path ({pdf['papers']} papers): {pdf['extracted']} extract, title {pdf['title_exact']}, authors {pdf['authors_exact']}, "
                   f"heading recall {pdf['heading_recall_mean']}, stamps {pdf['stamps']}, table rows {pdf['table_rows']}, "
                   f"fragments {_pct(pdf['fragment_share'])}, slowest {pdf['seconds_max']} s")
    latex = [r for r in (areas.get("latex") or {}).get("papers", []) if not str(r.get("paper", "")).startswith("fixture:")]
    for r in latex:
        out.append(f"extraction, LaTeX path, {r['paper']}: " + (f"FAILED {r.get('error')}" if not r.get("ok") else
                   f"headings {r['heading_recall']:.0%} (declared {r['heading_recall_declared']:.0%}), control sequences {r['control_sequences']}, "
                   f"fragments {r['fragment_ratio']:.1%}, {r['seconds']} s"))
    journals = (areas.get("journals") or {}).get("value")
    if isinstance(journals, list) and journals:
        finals = [r["wer"] for r in journals if r.get("wer") is not None]
        out.append(f"journal episodes: {sum(r['published'] for r in journals)}/{len(journals)} published at the gate, "
                   f"median final WER {_pct(median(finals)) if finals else '-'}")
    episodes = areas.get("paper_episodes") or {}
    if "published" in episodes:
        out.append(f"paper episodes: {episodes['published']}/{episodes['papers']} published at the gate")
    return out


def _pct(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, (int, float)) else "-"


def main(argv: list[str] | None = None) -> int:
    env_int = lambda name: int(os.environ[name]) if os.environ.get(name) else None  # noqa: E731
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=int, default=env_int("MACAW_BENCH_PAPERS"), help="corpus papers to build (default: all)")
    parser.add_argument("--journals", type=int, default=env_int("MACAW_BENCH_JOURNALS"), help="journal entries to build (default: all)")
    parser.add_argument("--only", default=os.environ.get("MACAW_BENCH_ONLY", ""),
                        help="comma list of inputs to build instead (a paper's id, an entry's file stem, sample); overrides --papers/--journals")
    parser.add_argument("--device", default=os.environ.get("MACAW_BENCH_DEVICE", "auto"), choices=["auto", "cpu", "cuda"])
    parser.add_argument("--skip", default=os.environ.get("MACAW_BENCH_SKIP", ""), help="comma list of: builds, raw (the raw engines beside each build: no overheads), raw-models (of them, pypdf alone: extract's overhead only), rebuild, voice, publish, areas")
    parser.add_argument("--areas", default=os.environ.get("MACAW_BENCH_AREAS", ""), help=f"comma list of areas to run (default all: {', '.join(AREAS)})")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="macaw-bench-"))
    results: dict[str, Any] = {"machine": machine(args.device), "args": vars(args) | {"results": str(args.results)}}
    only = [n.strip() for n in args.only.split(",") if n.strip()]
    rows = inputs(None if only else args.papers, None if only else args.journals, only=only or None)
    if only and len(rows) < len(set(only)):
        missing = sorted(set(only) - {r[0].split(" ", 1)[-1] for r in rows})
        parser.error(f"--only: no such input: {', '.join(missing)} (a paper's id in ../shared/corpus/papers, an entry's file stem, or sample)")

    def save() -> None:  # after every section, so a run stopped midway keeps what it measured
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(summarise(results), indent=2, default=str))

    if "builds" not in skip:
        print(f"== builds: {len(rows)} inputs, one fresh process each, outputs under {root}")
        results["builds"] = bench_builds(rows, args.device, root, raw="raw" not in skip and ("pdf" if "raw-models" in skip else True))
        save()
    if "rebuild" not in skip:
        sample_out = Path(results["builds"]["sample"]["out"]) if "sample" in results.get("builds", {}) else root / "rebuild"
        if not (sample_out / "episodes").exists():
            cli("build", "--journal", str(SAMPLE), "--out", str(sample_out), "-q")
        results["rebuild"] = bench_rebuild(sample_out)
        print(f"== cached rebuild: {results['rebuild']}")
        save()
    if "publish" not in skip:
        results["publish"] = bench_publish_1000()
        print(f"== publish over 1,000 manifests: CLI {results['publish'].get('cli_warm_s')} s")
        save()
    if "voice" not in skip:
        from bench.bench_voice import bench_voice

        print("== bench.bench_voice (raw Piper / faster-whisper on the journal entries, reference takes)")
        results["voice"] = bench_voice(log=lambda line: None)
        save()
    if "areas" not in skip:
        results["areas"] = bench_areas(only={a.strip() for a in args.areas.split(",") if a.strip()} or None)
    results["wall_s"] = round(time.perf_counter() - started, 1)
    save()
    print(table(results))
    print(f"whole bench {results['wall_s']} s; figures saved to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

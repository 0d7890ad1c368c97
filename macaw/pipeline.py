"""The build: fetch -> extract -> write -> speak -> check -> master -> publish, one episode at a time.

Each stage is one module with `run(ctx, ...)`; this file decides which stages run (the cache),
saves their artifacts, times them, and enforces the quality gate. A failure stops that
episode before publish, so the feed and the other episodes are never touched by it.
"""

from __future__ import annotations

import importlib
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from macaw import cache as stage_cache
from macaw import render as templating
from macaw.artifacts import Document, Manifest, Quality, Source
from macaw.config import Config
from macaw.config import load as load_config
from macaw.engines import create as create_engine
from macaw.errors import ConfigError, MacawError, QualityGateFailed, SourceError
from macaw.stages import STAGES
from macaw.stages.context import Stage, StageContext


class Reporter(Protocol):
    def episode(self, episode_id: str, index: int, total: int) -> None: ...
    def stage_started(self, stage: str) -> None: ...
    def stage_finished(self, stage: str, seconds: float, cached: bool) -> None: ...
    def log(self, message: str) -> None: ...


class SilentReporter:
    def episode(self, episode_id: str, index: int, total: int) -> None: ...
    def stage_started(self, stage: str) -> None: ...
    def stage_finished(self, stage: str, seconds: float, cached: bool) -> None: ...
    def log(self, message: str) -> None: ...


@dataclass
class Request:
    """One episode to build: where it comes from and how to fetch it."""

    kind: str  # journal | arxiv | pdf
    episode_id: str
    key: dict[str, Any]  # identifies the input for the fetch stage's cache key
    fetch: Callable[[Config, Path], Source]
    label: str


@dataclass
class Outcome:
    request: Request
    manifest: Manifest | None = None
    error: MacawError | None = None
    stopped_after: str = ""
    folder: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)


def resolve(config: Config, *, journal: str | None = None, paper: str | None = None, pdf: str | None = None, enrich: bool = False) -> list[Request]:
    chosen = [name for name, value in (("--journal", journal), ("--paper", paper), ("--pdf", pdf)) if value]
    if len(chosen) != 1:
        raise ConfigError("name exactly one source: --journal PATH, --paper ID or --pdf PATH", hint=f"got {', '.join(chosen) or 'none'}")
    if journal:
        from macaw.sources import journal as journal_source

        return [
            Request("journal", entry.episode_id, {"kind": "journal", "sha256": entry.digest},
                    (lambda cfg, folder, e=entry: journal_source.fetch(e, cfg, folder)), entry.origin)
            for entry in journal_source.load_entries(journal, config)
        ]
    if paper:
        from macaw.sources import arxiv

        base, version = arxiv.parse_id(paper)
        return [Request("arxiv", arxiv.identify(paper, config), {"kind": "arxiv", "id": base, "version": version or "latest"},
                        (lambda cfg, folder: arxiv.fetch(paper, cfg, folder)), paper)]
    from macaw.sources import pdf as pdf_source

    assert pdf is not None
    episode_id = pdf_source.identify(pdf, config)
    return [Request("pdf", episode_id, {"kind": "pdf", "id": episode_id, "enrich": enrich},
                    (lambda cfg, folder: pdf_source.fetch(pdf, cfg, folder, enrich=enrich)), pdf)]


def build(
    *,
    journal: str | None = None,
    paper: str | None = None,
    pdf: str | None = None,
    out: str | Path | None = None,
    config: Config | None = None,
    config_path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    until: str = "publish",
    enrich: bool = False,
    refresh: bool = False,
    reporter: Reporter | None = None,
    lock_wait: float = 0.0,
) -> list[Outcome]:
    """Build every episode the source names; return one Outcome per episode.

    A batch (a folder of entries) builds and publishes what it can and reports the rest in the
    outcomes; the CLI turns a failed outcome into its exit code. The build holds the output
    root's lock (macaw/nightly/lock.py), as `macaw nightly` does: LockHeldError after lock_wait s.
    """
    if until not in STAGES:
        raise ConfigError(f"unknown stage {until!r} for --until", hint=f"one of {', '.join(STAGES)}")
    config = config or load_config(Path(config_path) if config_path else None, out=Path(out) if out else None, overrides=overrides)
    reporter = reporter or SilentReporter()
    requests = resolve(config, journal=journal, paper=paper, pdf=pdf, enrich=enrich)
    force = {"fetch"} if refresh else set()
    outcomes = []
    # One engine per role for the whole batch (one model load), created now so that an unknown
    # engine or a missing voice file is reported before any stage runs.
    engines: dict[str, Any] = {}
    for stage in STAGES[: STAGES.index(until) + 1]:
        for role in declaration(stage).engines:
            engines.setdefault(role, create_engine(role, config.section(role)))
    from macaw.nightly.lock import hold

    with hold(config.out, "macaw build", lock_wait):
        for index, request in enumerate(requests, 1):
            reporter.episode(request.episode_id, index, len(requests))
            outcome = Outcome(request)
            try:
                build_one(config, request, until, reporter, engines, outcome, force, release=True)
            except MacawError as exc:
                outcome.error = exc
                if len(requests) == 1:
                    raise
                reporter.log(f"{request.episode_id}: {exc}")
            outcomes.append(outcome)
    return outcomes


def build_one(config: Config, request: Request, until: str, reporter: Reporter, engines: dict[str, Any], outcome: Outcome,
              force: set[str] | frozenset[str] = frozenset(), release: bool = False) -> None:
    """One episode through the stages up to `until`. With `release`, each engine lets its model go
    after the episode's last stage that uses it (`macaw build`: the LLM is gone before the voice
    and the recogniser are both loaded; the next episode of a batch loads it again)."""
    folder = config.episodes_dir / request.episode_id
    new_folder = not folder.exists()
    outcome.folder = folder
    ctx = StageContext(config=config, folder=folder, episode_id=request.episode_id, log=reporter.log, _engines=engines)
    cache = stage_cache.StageCache(folder)
    artifacts: dict[str, Any] = {}
    try:
        for stage in STAGES[: STAGES.index(until) + 1]:
            parts = stage_parts(stage, ctx, request)
            verdict = cache.verdict(stage, parts, outputs(stage, folder, config))
            if stage in force:
                verdict = stage_cache.Verdict(False, ["forced"])
            reporter.stage_started(stage)
            started = time.perf_counter()
            if verdict.fresh:
                result = declaration(stage).artifact.load(folder)
                seconds = cache.seconds(stage) or 0.0
            else:
                folder.mkdir(parents=True, exist_ok=True)
                result = run_stage(stage, ctx, request, artifacts)
                seconds = time.perf_counter() - started
                # Parts of later stages hash this stage's outputs, so record after saving.
                cache.record(stage, stage_parts(stage, ctx, request), seconds)
            artifacts[stage] = result
            ctx.timings[stage] = round(seconds, 3)
            reporter.stage_finished(stage, time.perf_counter() - started, verdict.fresh)
            if release:
                _release_unneeded(stage, until, engines)
            if stage == "check":
                gate(result, folder)
        outcome.manifest = artifacts.get("publish")
        outcome.stopped_after = until
        outcome.timings = dict(ctx.timings)
    except BaseException:
        # A first build that failed before it produced anything worth reading leaves no folder.
        if new_folder and folder.exists() and not (folder / Document.filename).exists():
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _release_unneeded(stage: str, until: str, engines: dict[str, Any]) -> None:
    later = STAGES[STAGES.index(stage) + 1 : STAGES.index(until) + 1]
    needed = {role for s in later for role in declaration(s).engines}
    for role in declaration(stage).engines:
        release = getattr(engines.get(role), "release", None)
        if role not in needed and callable(release):
            release()


def gate(quality: Quality, folder: Path) -> None:
    if not quality.passed:
        raise QualityGateFailed(
            f"round-trip WER {quality.wer:.1%} is above the {quality.threshold:.0%} threshold, so the episode was not published",
            hint=f"see {folder / 'quality.html'}",
        )


# --- what each stage reads, writes and depends on: each stage module's STAGE declaration -------


def stage_module(stage: str) -> Any:
    """macaw/stages/<stage>.py; importing one is cheap (engines load their models lazily)."""
    return importlib.import_module(f"macaw.stages.{stage}")


def declaration(stage: str) -> Stage:
    return stage_module(stage).STAGE


def outputs(stage: str, folder: Path, config: Config) -> list[str]:
    return declaration(stage).written(folder, config)


def stage_parts(stage: str, ctx: StageContext, request: Request) -> dict[str, Any]:
    """The parts of a stage's cache key, all from its declaration: the digests of the files the
    stages it reads wrote, the fetch request, its engines' fingerprints, its options, version,
    code and templates."""
    decl = declaration(stage)
    inputs = [name for read in decl.reads for name in outputs(read, ctx.folder, ctx.config)]
    parts: dict[str, Any] = {"inputs": stage_cache.file_digests(ctx.folder, inputs)}
    if stage == "fetch":
        parts["request"] = request.key
    for role in decl.engines:
        parts.setdefault("engines", {})[role] = ctx.engine(role).fingerprint()
    parts["options"] = decl.options(ctx.config)
    parts["version"] = decl.version
    parts["code"] = stage_cache.code_digest(f"macaw.stages.{stage}", *decl.code)
    if decl.templates:
        parts["templates"] = templating.digest(*decl.templates)
    return parts


def run_stage(stage: str, ctx: StageContext, request: Request, artifacts: dict[str, Any]) -> Any:
    """Run one stage on the artifacts its declaration reads, and save what it returns."""
    decl = declaration(stage)
    args = [request] if stage == "fetch" else [artifacts[read] for read in decl.reads]
    result = stage_module(stage).run(ctx, *args)
    result.save(ctx.folder)
    return result


def explain(episode: str, *, config: Config) -> list[tuple[str, bool, list[str]]]:
    """For each stage: would it rerun, and why. `episode` is an id or an episode folder."""
    folder = Path(episode)
    if not (folder / Source.filename).exists():
        folder = config.episodes_dir / episode
    if not (folder / Source.filename).exists():
        raise SourceError(f"no episode {episode!r} in {config.episodes_dir}", hint="give an episode id from episodes/ or its folder")
    source = Source.load(folder)
    cache = stage_cache.StageCache(folder)
    request = _request_for(source, cache)
    ctx = StageContext(config=config, folder=folder, episode_id=source.id)
    rows: list[tuple[str, bool, list[str]]] = []
    upstream_reruns = False
    for stage in STAGES:
        verdict = cache.verdict(stage, stage_parts(stage, ctx, request), outputs(stage, folder, config))
        reasons = list(verdict.reasons)
        if upstream_reruns and verdict.fresh:
            reasons = ["an earlier stage reruns: this one reruns if that output changes"]
        rows.append((stage, upstream_reruns or not verdict.fresh, reasons))
        upstream_reruns = upstream_reruns or not verdict.fresh
    return rows


def _request_for(source: Source, cache: stage_cache.StageCache) -> Request:
    """The request that produced `source`, to compare fetch keys: a journal file is read again;
    a paper keeps the key it was fetched with (explain never touches the network)."""
    key = dict(cache.records.get("fetch", {}).get("parts", {}).get("request", {}))
    if source.kind == "journal":
        from macaw.sources import journal as journal_source

        origin = Path(source.origin)
        try:
            key = {"kind": "journal", "sha256": journal_source.read_entry(origin).digest}
        except MacawError:
            key = {"kind": "journal", "sha256": f"{origin} is gone or unreadable"}
    return Request(source.kind, source.id, key, lambda c, f: source, source.origin)

"""One night: plan, build each item's fetch..master, publish each success, record everything.

    run_night(config, ...) -> NightReport

The shape is for executors (#18): `build_item(config, work, engines)` is one call that takes
plain data and writes only inside `episodes/<id>/`, stopping after master, so it can run in
another process or on another machine. Publishing (the feed, the pages) and every write to
the state happen here, in the one process that holds the output root's lock.

Crash safety comes from the order: the state says `building` (and counts the attempt) before
an item starts, and `published` only after its episode is in the feed. A run killed with -9
anywhere leaves the feed as the last atomic rename made it; the next night finds the item
`building`, builds it again, and the stage cache hands back every stage that had finished.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Protocol

from macaw.config import Config
from macaw.errors import EXIT_INTERNAL, MacawError, NightlyAllFailedError, NightlyError, SourceError, SourceNotFoundError
from macaw.nightly import lock as lock_mod
from macaw.nightly.discover import Work, arxiv_work, discover
from macaw.nightly.state import Item, State, now as clock_now


@dataclass
class ItemResult:
    """What came back from build_item: plain data, so it can cross a process boundary."""

    key: str
    ok: bool
    error: str = ""
    code: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class Planned:
    work: Work
    reason: str


@dataclass
class Skipped:
    key: str
    label: str
    why: str


@dataclass
class NightReport:
    planned: list[Planned] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    published: list[str] = field(default_factory=list)  # keys
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # key, label, error line
    problems: list[tuple[str, str]] = field(default_factory=list)  # a source that could not be read
    seconds: float = 0.0
    dry_run: bool = False

    def error(self) -> MacawError | None:
        """None when all done or nothing new; else the error whose exit code says how bad."""
        failures = len(self.failed) + len(self.problems)
        if not failures:
            return None
        tried = len(self.planned) + len(self.problems)
        if not self.published and failures >= tried:
            return NightlyAllFailedError(f"every item of the night failed ({failures})", hint="see `macaw status` for the errors")
        return NightlyError(f"{failures} of {tried} item(s) failed; {len(self.published)} published",
                            hint="failures are retried on later nights; see `macaw status`")


class Executor(Protocol):
    """Runs build_item for each Work, anywhere; calls started(work) as each one begins (the driver
    records the attempt), and yields (work, result) as each one ends, in any order."""

    def run(self, config: Config, works: list[Work], started: Callable[[Work], None]) -> Iterator[tuple[Work, ItemResult]]: ...


# ---------------------------------------------------------------- one item, anywhere


def request_for(work: Work) -> Any:
    """The pipeline Request for a Work item (made where the item is built: it holds lambdas)."""
    from macaw.pipeline import Request

    if work.kind == "arxiv":
        from macaw.sources import arxiv

        base, version = arxiv.parse_id(work.value)
        return Request("arxiv", work.episode_id, {"kind": "arxiv", "id": base, "version": version or "latest"},
                       (lambda cfg, folder, v=work.value: arxiv.fetch(v, cfg, folder)), work.label)
    if work.kind == "journal":
        from macaw.sources import journal

        entry = work.entry
        return Request("journal", entry.episode_id, {"kind": "journal", "sha256": entry.digest},
                       (lambda cfg, folder, e=entry: journal.fetch(e, cfg, folder)), entry.origin)
    raise ValueError(f"unknown work kind {work.kind!r}")


def build_item(config: Config, work: Work, engines: dict[str, Any] | None = None, reporter: Any = None,
               until: str = "master") -> ItemResult:
    """Fetch..master for one item, in this process; never raises a MacawError, never touches the feed."""
    from macaw.pipeline import Outcome, SilentReporter, build_one

    started = time.perf_counter()
    request = request_for(work)
    outcome = Outcome(request)
    try:
        build_one(config, request, until, reporter or SilentReporter(), engines if engines is not None else {}, outcome)
    except MacawError as exc:
        return ItemResult(work.key, False, str(exc), exc.exit_code, time.perf_counter() - started)
    except Exception as exc:  # a bug, in one item: the night goes on, the item is retried and reported
        return ItemResult(work.key, False, _internal(exc), EXIT_INTERNAL, time.perf_counter() - started)
    return ItemResult(work.key, True, "", 0, time.perf_counter() - started, dict(outcome.timings))


def _internal(exc: BaseException) -> str:
    return f"internal error {type(exc).__name__}: {exc} (a bug in Macaw; `macaw build` on this item with MACAW_DEBUG=1 shows the traceback)"


class LocalExecutor:
    """Items one after another in this process, sharing one engine per role (one model load a night)."""

    def __init__(self, reporter: Any = None):
        self.reporter = reporter
        self.engines: dict[str, Any] = {}

    def run(self, config: Config, works: list[Work], started: Callable[[Work], None]) -> Iterator[tuple[Work, ItemResult]]:
        if works:
            # Engines first, for every item: an unknown engine or a missing voice is the config's
            # fault, reported once (exit 3/4), not an attempt counted against each item.
            from macaw.engines import create
            from macaw.pipeline import declaration
            from macaw.stages import STAGES

            for stage in STAGES[: STAGES.index("master") + 1]:
                for role in declaration(stage).engines:
                    if role not in self.engines:
                        self.engines[role] = create(role, config.section(role))
        for index, work in enumerate(works, 1):
            if self.reporter is not None:
                self.reporter.episode(work.episode_id, index, len(works))
            started(work)
            yield work, build_item(config, work, self.engines, self.reporter)


# ---------------------------------------------------------------- the plan


def decide(item: Item | None, work: Work, when: float, max_attempts: int) -> tuple[str, str]:
    """('build', reason) or ('skip', why) for a discovered item given what the state knows."""
    if item is None or item.status == "new":
        return "build", "new"
    if item.status == "set-aside":
        return "skip", f"set aside after {item.attempts} attempt(s): {item.last_error} (macaw nightly --retry {work.key})"
    if item.status == "published":
        if item.published_fingerprint == work.fingerprint:
            return "skip", "published, unchanged"
        if work.kind == "arxiv":
            return "build", f"new version {work.fingerprint} (published {item.published_fingerprint})"
        return "build", "entry text changed since it was published"
    if item.status == "building":
        if item.attempts >= max_attempts:
            return "skip", f"set aside: {item.attempts} attempt(s) ended without a result (the process died?)"
        return "build", "an earlier run stopped while building it"
    if item.status == "failed":
        if item.next_try > when:
            return "skip", f"failed ({item.attempts}/{max_attempts}), next try after {time.strftime('%Y-%m-%d %H:%M', time.localtime(item.next_try))}: {item.last_error}"
        return "build", f"retry {item.attempts + 1}/{max_attempts} after: {item.last_error}"
    return "build", item.status


def plan(config: Config, state: State, when: float, *, remember: bool, log: Callable[[str], None] = lambda m: None
         ) -> tuple[list[Planned], list[Skipped], list[tuple[str, MacawError]]]:
    nightly = config.nightly

    def wanted(base: str, version: str) -> bool:
        item = state.get(f"arxiv:{base}")
        return decide(item, Work(f"arxiv:{base}", "arxiv", "", "", "", version), when, nightly.max_attempts)[0] == "build"

    works, problems = discover(config, state, wanted, remember=remember, log=log)
    found = {w.key for w in works}
    # A paper that failed and has since dropped out of its search window is still retried.
    for item in state.items("failed") + state.items("building"):
        if item.kind == "arxiv" and item.key not in found:
            base = item.key.split(":", 1)[1]
            works.append(arxiv_work(base, item.fingerprint, item.label, item.origins[0] if item.origins else "state"))
    planned: list[Planned] = []
    skipped: list[Skipped] = []
    owners: dict[str, str] = {}
    for work in list(works):
        # Two items of one night that would share an episode folder (same title and date): the
        # second would overwrite the first's episode, so it waits, and says why.
        owner = owners.setdefault(work.episode_id, work.key)
        if owner != work.key:
            works.remove(work)
            problems.append((work.label, SourceError(f"{work.label} would overwrite episode {work.episode_id} of {owner}",
                                                     hint="give one of the entries another title or date")))
    for work in works:
        item = state.get(work.key)
        verdict, reason = decide(item, work, when, nightly.max_attempts)
        if verdict == "build":
            planned.append(Planned(work, reason))
        elif "published, unchanged" not in reason:
            skipped.append(Skipped(work.key, work.label, reason))
        if remember:
            for origin in [work.origin, *work.extra.get("also_found_by", [])]:
                state.see(work.key, work.kind, work.episode_id, work.label, origin, work.fingerprint, when)
            if verdict == "skip" and reason.startswith("set aside:") and item and item.status == "building":
                state.set_aside(work.key, reason)
    return planned, skipped, problems


# ---------------------------------------------------------------- the night


def run_night(config: Config, *, dry_run: bool = False, wait_s: float = 0.0, retry: Iterable[str] = (),
              executor: Executor | None = None, reporter: Any = None, log: Callable[[str], None] = lambda m: None,
              clock: Callable[[], float] = clock_now) -> NightReport:
    started = time.perf_counter()
    report = NightReport(dry_run=dry_run)
    held = None if dry_run else lock_mod.hold(config.out, "macaw nightly", wait_s)
    try:
        if dry_run:
            state = State.open_if_exists(config.out) or _EmptyState()
        else:
            state = State(config.out)
        try:
            when = clock()
            for ident in retry:
                item = state.find(ident)
                if item is None:
                    raise SourceNotFoundError(f"no item {ident!r} in the nightly state", hint="see `macaw status` for item ids")
                if not dry_run:
                    state.retry(item.key)
            night = 0 if dry_run else state.night_started(when)
            planned, report.skipped, problems = plan(config, state, when, remember=not dry_run, log=log)
            report.planned = planned
            report.problems = [(where, str(exc)) for where, exc in problems]
            if not dry_run:
                chosen = executor or LocalExecutor(reporter)
                _build_and_publish(config, state, planned, report, chosen, log, clock)
                if config.nightly.digest and any(k.startswith("arxiv:") for k in report.published):
                    _digest(config, state, report, getattr(chosen, "engines", None) or {}, log, clock)
                status = "ok" if report.error() is None else type(report.error()).__name__
                state.night_finished(night, clock(), status, len(planned), len(report.published), len(report.failed),
                                     "; ".join(f"{w}: {e}" for w, e in report.problems))
        finally:
            state.close()
    finally:
        if held is not None:
            held.release()
    report.seconds = time.perf_counter() - started
    return report


def _build_and_publish(config: Config, state: State, planned: list[Planned], report: NightReport, executor: Executor,
                       log: Callable[[str], None], clock: Callable[[], float]) -> None:
    from macaw.pipeline import Outcome, SilentReporter, build_one

    works = [p.work for p in planned]
    engines = getattr(executor, "engines", None)
    publish_engines: dict[str, Any] = engines if engines is not None else {}
    # The attempt is recorded as each item starts, not for the whole night at once: a run killed in
    # one item must not count against the items it never reached.
    for work, result in executor.run(config, works, lambda w: state.start(w.key)):
        if result.ok:
            try:
                # Every stage up to master is cached now: this runs publish alone, here, under the lock.
                request = request_for(work)
                build_one(config, request, "publish", SilentReporter(), publish_engines, Outcome(request))
            except MacawError as exc:
                result = ItemResult(work.key, False, str(exc), exc.exit_code, result.seconds)
            except Exception as exc:  # a bug in publishing one item: the feed is only ever replaced whole
                result = ItemResult(work.key, False, _internal(exc), EXIT_INTERNAL, result.seconds)
        if result.ok:
            state.published(work.key, work.fingerprint, clock())
            report.published.append(work.key)
            log(f"published {work.episode_id} ({result.seconds:.1f} s)")
        else:
            item = state.failed(work.key, result.error, result.code, clock(), max_attempts=config.nightly.max_attempts,
                                backoff_hours=config.nightly.backoff_hours)
            report.failed.append((work.key, work.label, result.error))
            log(f"failed {work.label}: {result.error}" + (" (set aside)" if item.status == "set-aside" else ""))


def _digest(config: Config, state: State, report: NightReport, engines: dict[str, Any], log: Callable[[str], None],
            clock: Callable[[], float]) -> None:
    """The day's digest, after the papers: built and published here, under the lock."""
    from macaw.nightly import digest

    when = clock()
    day, folders = digest.papers_of_the_day(state, config, when)
    key = f"digest:{day}"
    fingerprint = ",".join(f.name for f in folders)
    state.see(key, "digest", digest.digest_id(day), f"digest {day}", "nightly.digest", fingerprint, when)
    state.start(key)
    try:
        digest.build_digest(config, day, folders, engines)
    except MacawError as exc:
        state.failed(key, str(exc), exc.exit_code, clock(), max_attempts=1, backoff_hours=0)
        report.failed.append((key, f"digest {day}", str(exc)))
        log(f"failed digest {day}: {exc}")
        return
    state.published(key, fingerprint, clock())
    report.published.append(key)
    log(f"published {digest.digest_id(day)} ({len(folders)} paper(s))")


class _EmptyState:
    """A dry run on an output root that has no state yet: everything is new, nothing is written."""

    def get(self, key: str) -> None:
        return None

    def find(self, ident: str) -> None:
        return None

    def items(self, status: str | None = None) -> list[Item]:
        return []

    def http_validators(self, url: str) -> tuple[str, str, None]:
        return "", "", None

    def close(self) -> None:
        pass

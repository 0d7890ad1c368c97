"""The Ray executor (#18) on a local Ray head with two worker processes (marked slow: each test
starts worker processes; the identical-results test runs the real models).

Items here are journal entries built by `build` below, which does what the nightly runner's
build_item does (fetch..master with the worker's engines); the driver publishes, as the runner
does. Orchestration tests use the scripted engines of tests/fakes.py; the identical-results
test builds two real entries from ../shared/journals with the default engines both ways.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray", reason="the ray extra is not installed (make install installs it: pip install -e '.[test,ray]')")

from macaw.config import Config, load  # noqa: E402
from macaw.executors import fresh_start  # noqa: E402
from macaw.executors.ray import RayExecutor  # noqa: E402
from macaw.sources import journal  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "journals"
pytestmark = pytest.mark.slow


@dataclass
class Item:
    key: str
    episode_id: str
    entry: Any
    die: str = ""  # "always": the worker kills itself mid-item; a path: only the first time (the file records it)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    key: str
    ok: bool
    error: str = ""
    code: int = 0
    pid: int = 0


def _request(entry: Any) -> Any:
    from macaw.pipeline import Request

    return Request("journal", entry.episode_id, {"kind": "journal", "sha256": entry.digest},
                   (lambda cfg, folder, e=entry: journal.fetch(e, cfg, folder)), entry.origin)


def build(config: Config, item: Item, engines: dict[str, Any]) -> Result:
    """What runner.build_item does, plus a way to die mid-item (after write, before speak)."""
    from macaw.errors import MacawError
    from macaw.pipeline import Outcome, SilentReporter, build_one

    request = _request(item.entry)
    try:
        build_one(config, request, "write", SilentReporter(), engines, Outcome(request))
        if item.die == "always" or (item.die and not Path(item.die).exists()):
            if item.die != "always":
                Path(item.die).write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        build_one(config, request, "master", SilentReporter(), engines, Outcome(request))
    except MacawError as exc:
        return Result(item.key, False, str(exc), exc.exit_code, os.getpid())
    return Result(item.key, True, pid=os.getpid())


def failed(item: Item, message: str, code: int) -> Result:
    return Result(item.key, False, message, code)


def publish(config: Config, item: Item, engines: dict[str, Any]) -> None:
    """The driver's part: every stage up to master is cached, so this runs publish alone."""
    from macaw.pipeline import Outcome, SilentReporter, build_one

    request = _request(item.entry)
    build_one(config, request, "publish", SilentReporter(), engines, Outcome(request))


def _fakes() -> None:
    sys.path[:0] = [str(REPO), str(REPO / "tests")]
    from tests import fakes

    fakes.install()


@pytest.fixture(scope="module")
def cluster():
    """A local Ray head with two CPUs: two worker processes (engine holders) at a time."""
    paths = os.pathsep.join([str(REPO), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": paths}})
    yield
    ray.shutdown()


def _entries(folder: Path, *texts: tuple[str, str]) -> list[Any]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts:
        (folder / name).write_text(text)
    return journal.load_entries(str(folder), load(env={}))


def _fake_config(out: Path, **ray_settings: Any) -> Config:
    from tests import fakes

    fakes.install()
    overrides = {**fakes.FAKE_OVERRIDES, **{f"ray.{k}": v for k, v in ray_settings.items()}}
    return load(out=out, env={}, overrides=overrides)


def _night(config: Config, items: list[Item], executor: RayExecutor) -> dict[str, Result]:
    results: dict[str, Result] = {}
    started: list[str] = []
    for item, result in executor.run(config, items, lambda w: started.append(w.key)):
        if result.ok:
            publish(config, item, executor.engines)
        results[item.key] = result
    assert sorted(started) == sorted(i.key for i in items), "started() once per item, retries not counted again"
    return results


TWO = (("2026-11-29-bread.md", "# Bread\n\nI baked bread for the first time. It came out flat, but it tasted good.\n"),
       ("2026-11-30-rivers.md", "# Rivers\n\nThe river was high after the rain. We walked along it until dark.\n"))


@pytest.mark.parametrize("shared", [False, True])
def test_items_build_on_two_workers_and_the_driver_publishes(cluster, tmp_path: Path, shared: bool) -> None:
    import feedparser

    entries = _entries(tmp_path / "journal", *TWO)
    out = tmp_path / "root"
    config = _fake_config(out, shared_output=shared)
    items = [Item(f"journal:{e.origin}", e.episode_id, e) for e in entries]
    executor = RayExecutor(build, failed, setup=_fakes)
    results = _night(config, items, executor)
    assert all(r.ok for r in results.values()), results
    assert len({executor.where[i.key]["pid"] for i in items} | {os.getpid()}) == 3, "two worker processes, neither the driver"
    feed = feedparser.parse((out / "feeds" / "macaw.xml").read_bytes())
    assert sorted(e.title for e in feed.entries) == ["Bread", "Rivers"]
    for item in items:
        assert (out / "episodes" / item.episode_id / "episode.json").is_file()
    assert not any((out / ".macaw-staging").glob("*")), "nothing left half-way in staging"

    # A second night: the folders travel back to the workers with their cache, nothing is rebuilt.
    def records() -> dict[str, Any]:
        import json

        # publish runs again in the driver every night (the feed is its input); fetch..master must not.
        return {i.key: {stage: record for stage, record in json.loads((out / "episodes" / i.episode_id / ".macaw-cache.json").read_text()).items()
                        if stage != "publish"} for i in items}

    before = records()
    assert all(len(r) == 6 for r in before.values())
    results = _night(config, items, RayExecutor(build, failed, setup=_fakes))
    assert all(r.ok for r in results.values())
    assert records() == before


def test_a_worker_killed_mid_item_is_retried_once_then_failed_and_the_other_item_publishes(cluster, tmp_path: Path) -> None:
    import feedparser

    bread, rivers = _entries(tmp_path / "journal", *TWO)
    out = tmp_path / "root"
    config = _fake_config(out)
    doomed = Item(f"journal:{bread.origin}", bread.episode_id, bread, die="always")
    fine = Item(f"journal:{rivers.origin}", rivers.episode_id, rivers)
    logged: list[str] = []
    executor = RayExecutor(build, failed, setup=_fakes, log=logged.append)
    results = _night(config, [doomed, fine], executor)
    assert results[fine.key].ok
    assert not results[doomed.key].ok
    assert "Ray worker died 2 times" in results[doomed.key].error
    assert executor.attempts[doomed.key] == 2
    assert any("trying once more elsewhere" in line for line in logged)
    feed = feedparser.parse((out / "feeds" / "macaw.xml").read_bytes())
    assert [e.title for e in feed.entries] == ["Rivers"]
    # Not shared: a dead worker's scratch never reaches the output root (no half episode folder).
    assert not (out / "episodes" / doomed.episode_id).exists()


def test_a_worker_killed_once_is_retried_in_another_process_and_publishes(cluster, tmp_path: Path) -> None:
    bread, rivers = _entries(tmp_path / "journal", *TWO)
    out = tmp_path / "root"
    config = _fake_config(out)
    marker = tmp_path / "died-once"
    once = Item(f"journal:{bread.origin}", bread.episode_id, bread, die=str(marker))
    fine = Item(f"journal:{rivers.origin}", rivers.episode_id, rivers)
    executor = RayExecutor(build, failed, setup=_fakes)
    results = _night(config, [once, fine], executor)
    assert results[once.key].ok and results[fine.key].ok
    assert executor.attempts[once.key] == 2
    assert int(marker.read_text()) != results[once.key].pid, "the retry ran in another worker process"
    assert (out / "episodes" / once.episode_id / "episode.json").is_file()


# ---------------------------------------------------------------- through the nightly runner and the CLI


def _night_root(tmp_path: Path, *entries: Path | tuple[str, str]) -> Path:
    folder = tmp_path / "journal"
    folder.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        if isinstance(entry, Path):
            (folder / entry.name).write_bytes(entry.read_bytes())
        else:
            (folder / entry[0]).write_text(entry[1])
    out = tmp_path / "root"
    out.mkdir(exist_ok=True)
    (out / "macaw.toml").write_text(f'[[nightly.journal]]\npath = "{folder}"\n')
    return out


def test_macaw_nightly_executor_ray_on_the_command_line(cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import feedparser
    from click.testing import CliRunner

    from macaw.cli import main
    from macaw.executors import ray as ray_executor
    from tests import fakes

    class WithFakes(RayExecutor):  # the workers register the scripted engines before making theirs
        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, setup=_fakes, **kwargs)

    monkeypatch.setattr(ray_executor, "RayExecutor", WithFakes)
    for key, value in fakes.FAKE_OVERRIDES.items():
        monkeypatch.setenv("MACAW_" + key.replace(".", "_").upper(), value)
    fakes.install()
    out = _night_root(tmp_path, *TWO)
    result = CliRunner().invoke(main, ["nightly", "--executor", "ray", "--out", str(out), "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "night: published 2, failed 0" in result.stdout
    assert sorted(e.title for e in feedparser.parse((out / "feeds" / "macaw.xml").read_bytes()).entries) == ["Bread", "Rivers"]
    result = CliRunner().invoke(main, ["nightly", "--executor", "ray", "--out", str(out), "-q"], catch_exceptions=False)
    assert result.exit_code == 0 and "night: published 0" in result.stdout  # a second night builds nothing
    result = CliRunner().invoke(main, ["nightly", "--ray-address", "auto", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 3 and "--ray-address is for --executor ray" in result.stderr


# ---------------------------------------------------------------- identical to local, real engines

# The repository's sample (passes the gate) and the shortest real entry (which, with the seeded
# voice, fails it at 6.1%): identical both ways means published identically and failed identically.
PAIR = (REPO / "samples" / "first-light.md", SHARED / "2018-01-20-medium.md")


@pytest.mark.skipif(not all(p.is_file() for p in PAIR), reason="../shared/journals is not beside the checkout")
def test_ray_builds_the_same_episodes_as_local_with_the_real_engines(cluster, tmp_path: Path) -> None:
    """One night each way through the nightly runner: script.json, narration.wav and quality.json
    byte for byte, the same items published and failed, and the feed item field for field."""
    import feedparser

    from macaw.nightly.runner import LocalExecutor, build_item, failed_result, run_night

    from macaw.publish.cover import draw_cover

    # One journal folder for both (the MP3's tags name the entry's path), and a cover already
    # drawn in both roots (master tags the MP3 with it; a first night draws it after its first item).
    local_out = _night_root(tmp_path, *PAIR)
    ray_out = tmp_path / "ray-root"
    ray_out.mkdir()
    (ray_out / "macaw.toml").write_bytes((local_out / "macaw.toml").read_bytes())
    for root in (local_out, ray_out):
        (root / "feeds").mkdir()
        (root / "feeds" / "cover.png").write_bytes(draw_cover("Macaw"))
    local = run_night(load(out=local_out, env={}), executor=LocalExecutor())
    executor = RayExecutor(build_item, failed_result)
    remote = run_night(load(out=ray_out, env={}), executor=executor)
    assert len({where["pid"] for where in executor.where.values()} | {os.getpid()}) == 3, "two worker processes, not the driver"

    def names(keys: list[str]) -> list[str]:
        return sorted(Path(k).name for k in keys)

    assert names(remote.published) == names(local.published) and len(local.published) >= 1
    assert names([k for k, _, _ in remote.failed]) == names([k for k, _, _ in local.failed])
    episodes = sorted(p.name for p in (local_out / "episodes").iterdir())
    assert episodes == sorted(p.name for p in (ray_out / "episodes").iterdir()) and len(episodes) == 2
    for episode in episodes:
        a, b = local_out / "episodes" / episode, ray_out / "episodes" / episode
        for name in ("script.json", "narration.wav", "narration.json", "quality.json"):
            assert (a / name).read_bytes() == (b / name).read_bytes(), f"{episode}/{name} differs"
        assert sorted(p.name for p in a.glob("episode-*.mp3")) == sorted(p.name for p in b.glob("episode-*.mp3"))
    local_feed = feedparser.parse((local_out / "feeds" / "macaw.xml").read_bytes())
    ray_feed = feedparser.parse((ray_out / "feeds" / "macaw.xml").read_bytes())
    # Every field of the item but its publication time (when each night ran) and what feedparser
    # derives from that time.
    derived = {"published", "published_parsed", "updated", "updated_parsed"}
    assert len(ray_feed.entries) == len(local_feed.entries) == len(remote.published)
    for x, y in zip(local_feed.entries, ray_feed.entries):
        assert x.get("published") and y.get("published")
        differing = {k: (x.get(k), y.get(k)) for k in set(x) | set(y) if k not in derived and x.get(k) != y.get(k)}
        assert not differing, differing

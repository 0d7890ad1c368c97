"""Two builds of the same episode at once, and a build beside a nightly run.

Both through the real CLI, started together, with a fake voice slowed so that their stages
overlap. Pass: each exits 0 or exits with one clear line (it waited, or refused because the
other holds the episode); afterwards the episode is whole: the feed parses with it once, its
manifest names an audio file that exists and is the one master.json names, no temp file is
left, and a third build finds every stage cached.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from bench.drills.common import Drill, Result, Run, episode_ids, feed_problems, not_available, problems_result, run_cli, write_entry
from bench.drills.crash import _cached


def _whole(out: Path, episode_id: str) -> list[str]:
    problems = feed_problems(out, [episode_id])
    folder = out / "episodes" / episode_id
    try:
        manifest = json.loads((folder / "episode.json").read_text())
        master = json.loads((folder / "master.json").read_text())
    except (OSError, ValueError) as exc:
        return problems + [f"episode not whole: {exc}"]
    audio = master.get("audio", "")
    if not (folder / audio).is_file():
        problems.append(f"master.json names {audio}, which is not there")
    if audio and audio not in json.dumps(manifest):
        problems.append("the manifest and master.json name different audio")
    problems += [f"temp file left: {p.name}" for p in out.rglob(".*.tmp")]
    return problems


def _together(*commands: tuple[list[str], dict[str, str]]) -> list[Run]:
    runs: list[Run | None] = [None] * len(commands)

    def go(i: int) -> None:
        runs[i] = run_cli(commands[i][0], env=commands[i][1], timeout=120)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(commands))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [r for r in runs if r is not None]


def same_episode(tmp: Path) -> Result:
    entry = write_entry(tmp / "entries", "2026-11-02-twice.md", "Built twice", " ".join(
        f"Sentence number {i} of the entry that two builds race for." for i in range(12)))
    out = tmp / "out"
    slow = {"MACAW_DRILL_TTS_DELAY": "0.1"}
    runs = _together((["build", "--journal", str(entry), "--out", str(out)], slow), (["build", "--journal", str(entry), "--out", str(out)], slow))
    problems = [f"build {i + 1}: exit {r.code}: {r.error_line[:120]}" for i, r in enumerate(runs) if r.code != 0 and not r.one_clear_line()]
    ids = episode_ids(out)
    if len(ids) != 1:
        return Result(False, f"{len(ids)} episodes after two builds of one entry; " + "; ".join(problems), max(r.peak_mb for r in runs))
    problems += _whole(out, ids[0])
    third = run_cli(["build", "--journal", str(entry), "--out", str(out)])
    recomputed = {"fetch", "extract", "write", "speak", "check", "master", "publish"} - _cached(third.stderr)
    if third.code != 0 or recomputed:
        problems.append(f"a third build: exit {third.code}, recomputed {sorted(recomputed)}")
    codes = ", ".join(str(r.code) for r in runs)
    return problems_result(problems, f"exits {codes}; episode whole, once in the feed; a third build all cached", max(r.peak_mb for r in runs))


def beside_nightly(tmp: Path) -> Result:
    from macaw import cli

    if "nightly" not in getattr(cli.main, "commands", {}):
        return not_available("no `macaw nightly` command in this tree yet (branch nightly)")
    entries = tmp / "entries"
    entry = write_entry(entries, "2026-11-02-night.md", "Night entry", " ".join(f"Line {i} of the night entry." for i in range(12)))
    out = tmp / "out"
    out.mkdir(parents=True)
    (out / "macaw.toml").write_text(f'[[nightly.journal]]\npath = "{entries}"\n')
    slow = {"MACAW_DRILL_TTS_DELAY": "0.1"}
    runs = _together((["nightly", "--out", str(out)], slow), (["build", "--journal", str(entry), "--out", str(out)], slow))
    problems = [f"{name}: exit {r.code}: {r.error_line[:120]}" for name, r in zip(("nightly", "build"), runs) if r.code != 0 and not r.one_clear_line()]
    if runs[0].code not in (0,) and "nightly" in runs[0].error_line and "setting" in runs[0].error_line:
        return not_available(f"`macaw nightly` did not take the drill's settings: {runs[0].error_line[:160]}")
    ids = episode_ids(out)
    if len(ids) != 1:
        problems.append(f"{len(ids)} episodes, wanted 1")
    else:
        problems += _whole(out, ids[0])
    return problems_result(problems, f"nightly exit {runs[0].code}, build exit {runs[1].code}; episode whole, once in the feed",
                           max(r.peak_mb for r in runs))


DRILLS = [
    Drill("concurrency", "same-episode-twice", same_episode),
    Drill("concurrency", "build-beside-nightly", beside_nightly, slow=True),
]

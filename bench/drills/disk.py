"""A full disk during publish: the old feed stays byte-identical, and one clear line says what happened.

The output root is a small tmpfs (mounted in a private mount namespace: `unshare -m`, so
nothing outside this drill sees it). One episode is published; a second is built up to master;
then the disk is filled to the last byte and the second build is run again, so that only its
publish stage has work to do. Pass: it exits with one clear line (no traceback), the feed is
byte-identical, the first episode untouched, and once space is freed the same build publishes
both. Where no tmpfs can be mounted, ENOSPC is injected into the feed write instead (in the
child, bench/drills/fakecli.py) and the detail says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.drills.common import REPO, Drill, Result, episode_ids, feed_problems, run_cli, write_entry


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _fill(folder: Path) -> Path:
    """Write zeros until the file system has not one byte left."""
    filler = folder / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 16, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler


def scenario(tmp: Path, out: Path, inject: bool) -> dict:
    """The steps; `out` is the (small) output root. Returns what happened, as JSON-able facts."""
    entries = tmp / "entries"
    first = write_entry(entries, "2026-11-01-first.md", "First entry", "The first entry is about a long walk by the river.")
    second = write_entry(entries, "2026-11-02-second.md", "Second entry", "The second entry is about rain on the roof and a warm kitchen.")
    facts: dict = {"mode": "injected ENOSPC" if inject else "tmpfs filled"}
    run = run_cli(["build", "--journal", str(first), "--out", str(out)])
    if run.code != 0:
        return {**facts, "setup": f"first build failed: {run.error_line}"}
    run = run_cli(["build", "--journal", str(second), "--out", str(out), "--until", "master"])
    if run.code != 0:
        return {**facts, "setup": f"second build to master failed: {run.error_line}"}
    feed = out / "feeds" / "macaw.xml"
    [first_id] = episode_ids(out)
    before, first_files = feed.read_bytes(), _digests(out / "episodes" / first_id)
    filler = None if inject else _fill(out)
    full = run_cli(["build", "--journal", str(second), "--out", str(out)], env={"MACAW_DRILL_ENOSPC": "feed"} if inject else None)
    facts.update(code=full.code, line=full.error_line, lines=len(full.lines), traceback="Traceback" in full.stderr,
                 seconds=round(full.seconds, 2), peak_mb=full.peak_mb,
                 feed_same=feed.read_bytes() == before, first_same=_digests(out / "episodes" / first_id) == first_files,
                 temp_left=[p.name for p in out.rglob(".*.tmp")])
    if filler:
        filler.unlink()
    again = run_cli(["build", "--journal", str(second), "--out", str(out)])
    facts.update(again_code=again.code, again_line=again.error_line, after=feed_problems(out, sorted({first_id, *episode_ids(out)})))
    return facts


def full_disk(tmp: Path) -> Result:
    facts_path = tmp / "facts.json"
    inner = [sys.executable, "-m", "bench.drills.disk", str(tmp), str(facts_path)]
    proc = subprocess.run(["unshare", "-m", "--propagation", "private", *inner], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=180)
    if not facts_path.exists():
        facts = scenario(tmp, tmp / "out-inject", inject=True)
        facts["why_injected"] = (proc.stderr.strip().splitlines() or ["unshare failed"])[-1][:120]
    else:
        facts = json.loads(facts_path.read_text())
    if "setup" in facts:
        return Result(False, f"{facts['mode']}: {facts['setup']}")
    problems = []
    if facts["code"] in (0, -9) or facts["traceback"] or facts["line"].startswith("internal error"):
        problems.append(f"exit {facts['code']}: {facts['line'][:120] or 'no message'}")
    if not facts["feed_same"]:
        problems.append("the old feed changed")
    if not facts["first_same"]:
        problems.append("the first episode's files changed")
    if facts["temp_left"]:
        problems.append(f"temp files left: {facts['temp_left'][:3]}")
    if facts["again_code"] != 0 or facts["after"]:
        problems.append(f"after freeing space: exit {facts['again_code']} {facts['again_line'][:80]} {facts['after']}")
    detail = f"{facts['mode']}: " + ("; ".join(problems) if problems else f"exit {facts['code']}: {facts['line'][:150]}; feed byte-identical; publishes once space is back")
    return Result(not problems, detail, facts.get("peak_mb", 0.0))


DRILLS = [Drill("disk", "full-during-publish", full_disk)]


if __name__ == "__main__":  # inside the private mount namespace: mount the small tmpfs, run the steps
    tmp, facts_path = Path(sys.argv[1]), Path(sys.argv[2])
    out = tmp / "out"
    out.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(out)], capture_output=True, text=True)
    if mounted.returncode != 0:
        sys.exit(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        facts_path.write_text(json.dumps(scenario(tmp, out, inject=False), default=str))
    finally:
        subprocess.run(["umount", "-l", str(out)], capture_output=True)

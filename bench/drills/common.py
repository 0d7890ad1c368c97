"""What every drill shares: the real `macaw` CLI in a watched child, feed checks, a local HTTP server.

A drill is a function `fn(tmp: Path) -> Result`. It runs the real CLI (bench/drills/fakecli.py:
macaw.cli.main with the scripted engines of tests/fakes.py registered, and the drill's faults
injected from the environment), watches the child's time and memory (the whole process tree,
polled, and the kernel's peak from wait4), and judges the outcome. `passed=None` means the
drill cannot run here yet (a capability not in this tree): reported as "not available", never
as a pass.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[2]
for extra in (REPO, REPO / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

FAKECLI = Path(__file__).resolve().parent / "fakecli.py"
FAKE_ENV = {"MACAW_LLM_ENGINE": "fake", "MACAW_TTS_ENGINE": "fake", "MACAW_ASR_ENGINE": "echo"}
GIB = 1024**3


@dataclass
class Result:
    passed: bool | None  # None: not available here
    detail: str = ""
    peak_mb: float = 0.0


@dataclass
class Drill:
    family: str
    name: str
    fn: Callable[[Path], Result]
    slow: bool = False


@dataclass
class Run:
    """What one CLI child did."""

    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float
    killed: str = ""  # why the watcher killed it, if it did

    @property
    def lines(self) -> list[str]:
        return [l for l in self.stderr.splitlines() if l.strip()]

    @property
    def error_line(self) -> str:
        found = [l for l in self.lines if l.startswith(("error:", "failed:", "internal error:"))]
        return found[-1] if found else (self.lines[-1] if self.lines else "")

    def one_clear_line(self) -> bool:
        """The failure was said in one line, not a traceback, and not as an internal error."""
        return bool(self.error_line) and "Traceback" not in self.stderr and not self.error_line.startswith("internal error")


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of pid and all its descendants, in KiB (from /proc)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def run_cli(args: list[str], *, env: dict[str, str] | None = None, timeout: float = 30.0, mem_limit: int = GIB,
            cwd: Path | None = None, fake: bool = True, prefix: list[str] | None = None) -> Run:
    """`macaw ARGS` in a child (fake engines unless fake=False), killed past `timeout` s or `mem_limit` bytes."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(FAKE_ENV if fake else {}), **(env or {})}
    full_env.pop("MACAW_DEBUG", None)
    cmd = [*(prefix or []), sys.executable, str(FAKECLI), *args]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, cwd=cwd, start_new_session=True)
    out: dict[str, bytes] = {}
    readers = [threading.Thread(target=lambda k=k, s=s: out.__setitem__(k, s.read()), daemon=True)
               for k, s in (("stdout", proc.stdout), ("stderr", proc.stderr))]
    for r in readers:
        r.start()
    peak_kb, killed = 0, ""
    while True:
        try:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status, usage = proc.pid, 0, None
        if pid:
            break
        peak_kb = max(peak_kb, _tree_rss_kb(proc.pid))
        elapsed = time.perf_counter() - started
        if not killed and (elapsed > timeout or peak_kb * 1024 > mem_limit):
            killed = f"over {timeout:g} s" if elapsed > timeout else f"over {mem_limit / GIB:g} GiB"
            os.killpg(proc.pid, signal.SIGKILL)
        time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(status) if usage is not None else -1
    for r in readers:
        r.join(5)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # grandchildren a killed child left behind
    except ProcessLookupError:
        pass
    if usage is not None:
        peak_kb = max(peak_kb, usage.ru_maxrss)
    return Run(proc.returncode, out.get("stdout", b"").decode(errors="replace"), out.get("stderr", b"").decode(errors="replace"),
               time.perf_counter() - started, peak_kb / 1024, killed)


def expect_error(run: Run, code: int | tuple[int, ...], *, within_s: float = 30.0, mem: int = GIB) -> Result:
    """Pass when the run exited with `code` in time and memory, saying why in one clear line."""
    codes = (code,) if isinstance(code, int) else code
    problems = []
    if run.killed:
        problems.append(f"killed: {run.killed}")
    if run.code not in codes:
        problems.append(f"exit {run.code}, wanted {'/'.join(map(str, codes))}")
    if run.seconds > within_s:
        problems.append(f"{run.seconds:.1f} s > {within_s:g} s")
    if run.peak_mb * 1024 * 1024 > mem:
        problems.append(f"{run.peak_mb:.0f} MiB > {mem / GIB:g} GiB")
    if not run.one_clear_line():
        problems.append("no clear one-line error" + (" (traceback)" if "Traceback" in run.stderr else ""))
    line = run.error_line[:140]
    return Result(not problems, ("; ".join(problems) + " | " if problems else "") + f"exit {run.code}: {line}", run.peak_mb)


# ---------------------------------------------------------------- the feed after a run


def feed_path(out: Path, slug: str = "macaw") -> Path:
    return out / "feeds" / f"{slug}.xml"


def feed_problems(out: Path, expect_ids: list[str] | None = None, slug: str = "macaw") -> list[str]:
    """Parse the feed with lxml and podcastparser; every expected episode once, no guid twice."""
    path = feed_path(out, slug)
    if not path.exists():
        return [f"no feed at {path}"]
    problems = []
    data = path.read_bytes()
    from lxml import etree

    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return [f"feed is not XML: {exc}"]
    guids = [g.text for g in root.iter("guid")]
    if len(guids) != len(set(guids)):
        problems.append(f"duplicate guids: {len(guids)} items, {len(set(guids))} distinct")
    try:
        import io

        import podcastparser

        parsed = podcastparser.parse(str(path), io.BytesIO(data))
        if len(parsed.get("episodes", [])) != len(guids):
            problems.append(f"podcastparser saw {len(parsed.get('episodes', []))} episodes, lxml {len(guids)} items")
    except ImportError:
        problems.append("podcastparser is not installed (make drills installs it)")
    except Exception as exc:
        problems.append(f"podcastparser failed: {type(exc).__name__}: {exc}")
    for episode_id in expect_ids or []:
        manifest = out / "episodes" / episode_id / "episode.json"
        if not manifest.exists():
            problems.append(f"{episode_id}: no episode.json")
            continue
        guid = json.loads(manifest.read_text()).get("guid")
        if guids.count(guid) != 1:
            problems.append(f"{episode_id}: its guid is in the feed {guids.count(guid)} times")
    return problems


def write_entry(folder: Path, name: str, title: str, body: str, date: str = "2026-11-02", author: str = "Ada") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"---\ntitle: {json.dumps(title)}\ndate: {date}\nauthor: {json.dumps(author)}\n---\n\n{body}\n", encoding="utf-8")
    return path


def episode_ids(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "episodes").glob("*") if (p / "episode.json").exists()) if (out / "episodes").exists() else []


# ---------------------------------------------------------------- a local HTTP server, 127.0.0.1 only


class Server:
    """Serves `routes[path] -> handler(request_handler)` on 127.0.0.1; logs every request with its time."""

    def __init__(self, routes: dict[str, Callable[[Any], None]], host: str = "127.0.0.1"):
        assert host.startswith("127."), "drill servers listen on loopback only"
        self.routes = routes
        self.log: list[tuple[float, str]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                server.log.append((time.time(), self.path))
                path = self.path.split("?")[0]
                handler = server.routes.get(path) or next((h for k, h in server.routes.items() if k.endswith("*") and path.startswith(k[:-1])), None)
                try:
                    if handler is None:
                        self.send_response(404)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    else:
                        handler(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class Quiet(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass

        self.httpd = Quiet((host, 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "Server":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def hits(self, path: str) -> int:
        return sum(1 for _, p in self.log if p.split("?")[0] == path)


def reply(body: bytes, content_type: str = "application/rss+xml", status: int = 200, headers: dict[str, str] | None = None) -> Callable[[Any], None]:
    def handler(h: Any) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    return handler


def not_available(why: str) -> Result:
    return Result(None, why)


def problems_result(problems: list[str], ok: str, peak_mb: float = 0.0) -> Result:
    return Result(not problems, "; ".join(problems)[:300] if problems else ok, peak_mb)

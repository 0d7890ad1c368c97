"""Run a parser on hostile input in a child process that can be killed and cannot grow.

PDFs (`macaw.documents.pdfchild`) and arXiv LaTeX e-prints (`macaw.documents.latexchild`)
are read in `python -m <module>` under an address-space limit, a CPU limit, a cap on the
size of any file it writes (none at all unless the caller allows it) and a wall-clock
timeout that kills its whole process group. The child reads one JSON request on stdin and
writes one JSON answer on stdout; a child that runs out of time or memory, crashes or answers
nonsense ends as one `ExtractError` (or `ResourceLimitError`) naming the file.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from macaw.errors import ExtractError, ResourceLimitError


def _limits(memory_mb: int, cpu_s: int, fsize_bytes: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_bytes, fsize_bytes))  # 0: the child writes no files
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


_SPARES: dict[tuple[Any, ...], subprocess.Popen[bytes]] = {}  # started children waiting for a request, by module and limits
_SPARES_LOCK = threading.Lock()


def _start(module: str, memory_mb: int, timeout_s: float, fsize_bytes: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # the folder macaw/ is in: this package, installed or not
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.Popen(
        [sys.executable, "-m", module],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=_limits(memory_mb, int(timeout_s) + 1, fsize_bytes),
        start_new_session=True,  # its own process group, so a kill takes everything it started
    )


def _take_spare(key: tuple[Any, ...]) -> subprocess.Popen[bytes] | None:
    with _SPARES_LOCK:
        proc = _SPARES.pop(key, None)
    if proc is not None and proc.poll() is not None:  # it died waiting: start afresh
        proc.communicate()
        return None
    return proc


def _drop_spares() -> None:
    with _SPARES_LOCK:
        spares = list(_SPARES.values())
        _SPARES.clear()
    for proc in spares:
        kill(proc)


atexit.register(_drop_spares)


def run_child(
    module: str,
    request: dict[str, Any],
    *,
    name: str,
    what: str = "the file",
    timeout_s: float = 30,
    memory_mb: int = 1024,
    fsize_bytes: int = 0,
    spare: bool = False,
) -> dict[str, Any]:
    """The child's JSON answer to `request`; `name` and `what` word the errors ("x.pdf", "the PDF").

    `spare`: the caller will soon ask the same module again (the fetch of a local PDF reads its
    front pages; extract then reads it whole), so a second child, with the same limits, starts now
    beside this one and waits for that request: its start (0.1 s, most of it importing pypdf)
    happens while this one works. One spare per module and limits; an unused one is killed at exit.
    The time limit counts from the request, not from the start."""
    key = (module, memory_mb, timeout_s, fsize_bytes, os.environ.get("PYTHONPATH", ""))
    proc = _take_spare(key) or _start(module, memory_mb, timeout_s, fsize_bytes)
    if spare:
        with _SPARES_LOCK:
            if key not in _SPARES:
                _SPARES[key] = _start(module, memory_mb, timeout_s, fsize_bytes)
    slow = ResourceLimitError(f"{name}: parsing took longer than {timeout_s:g} s", hint=f"{what} is too large or malformed")
    try:
        out, err = proc.communicate(json.dumps(request).encode(), timeout=timeout_s)
    except subprocess.TimeoutExpired:
        kill(proc)
        raise slow from None
    if proc.returncode != 0:
        if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            raise slow
        if proc.returncode == -signal.SIGXFSZ or b"File too large" in err:
            raise ResourceLimitError(f"{name}: unpacking wrote more than {fsize_bytes} bytes to one file", hint=f"{what} is too large")
        if b"MemoryError" in err or proc.returncode in (-signal.SIGSEGV, -signal.SIGABRT):
            raise ResourceLimitError(f"{name}: parsing needed more than {memory_mb} MB", hint=f"{what} is too large or malformed")
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise ExtractError(f"{name}: the reader of {what} failed ({last[0][:160]})")
    try:
        answer = json.loads(out.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ExtractError(f"{name}: the reader of {what} gave no answer") from None
    if not isinstance(answer, dict):
        raise ExtractError(f"{name}: the reader of {what} gave no answer")
    return answer


def kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.communicate()

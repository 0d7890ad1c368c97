"""The arXiv server misbehaving: 429, 503, a slow answer, a truncated body, and down for good.

A local replay of the arXiv API and PDF server on 127.0.0.1 (tests/paperfixtures.ReplayServer,
which logs each request's time); `macaw build --paper 1706.03762 --until fetch` through the real
CLI, with Macaw's own polite client and its real spacing (3 s between requests, across
processes). Pass: it retries and succeeds (or, when the server stays down, ends with one clear
line, exit 14, soon after the deadline), and no two requests were ever closer than 3 s.

Only the slow answer and the deadline use a shorter policy, set in the child (read timeout 2 s,
deadline 20 s instead of 60 s and 300 s), so the drill takes seconds rather than minutes; the
retry and spacing code is the real one.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.drills.common import Drill, Result, expect_error, run_cli

SPACING_S = 3.0


def _scenario(api: list, pdf: list | None = None, *, policy: dict | None = None, expect_code: int = 0, within_s: float = 60.0):  # type: ignore[no-untyped-def]
    def fn(tmp: Path) -> Result:
        from paperfixtures import ReplayServer, atom, attention_spec, pdf_reply, typeset

        ok_pdf = pdf_reply(typeset(attention_spec()))
        with ReplayServer() as server:
            server.script["1706.03762"] = [r if not isinstance(r, str) else atom(r) for r in api]
            server.script["/pdf/1706.03762v7"] = pdf or [ok_pdf]
            turns_log = tmp / "gate-turns.txt"
            env = {"MACAW_ARXIV_API_URL": server.url + "/api/query", "MACAW_ARXIV_PDF_URL": server.url + "/pdf",
                   "MACAW_CACHE": str(tmp / "cache"), "MACAW_DRILL_GATE_LOG": str(turns_log)}
            if policy:
                env["MACAW_DRILL_ARXIV_POLICY"] = json.dumps(policy)
            run = run_cli(["build", "--paper", "1706.03762", "--until", "fetch", "--out", str(tmp / "out")], env=env, timeout=within_s + 15)
            times = [t for t, _ in server.log]
            order = [k.rsplit("/", 1)[-1] for _, k in server.log]
            tries = server.hits("1706.03762")
        turns = [float(t) for t in turns_log.read_text().split()] if turns_log.exists() else []
        turn_gaps = [b - a for a, b in zip(turns, turns[1:])]
        gaps = [b - a for a, b in zip(times, times[1:])]
        closest = min(gaps) if gaps else None
        spacing = f"{len(times)} requests, closest {closest:.2f} s apart" if closest is not None else f"{len(times)} request"
        if turn_gaps:
            spacing += f"; the client's turns closest {min(turn_gaps):.2f} s apart"
        if expect_code == 0:
            problems = [] if run.code == 0 else [f"exit {run.code}: {run.error_line[:160]}"]
            if tries < 2:
                problems.append(f"the API was asked {tries} time(s): no retry happened")
            if run.seconds > within_s:
                problems.append(f"{run.seconds:.1f} s > {within_s:g} s")
            result = Result(not problems, "; ".join(problems) or f"retried and fetched in {run.seconds:.1f} s", run.peak_mb)
        else:
            result = expect_error(run, expect_code, within_s=within_s)
        if closest is not None and closest < SPACING_S - 0.05:
            at = gaps.index(closest)
            result.passed = False
            result.detail = (f"two requests {closest:.2f} s apart (< {SPACING_S:g} s: {order[at]} then {order[at + 1]}, "
                             f"requests {at + 1} and {at + 2} of {' '.join(order)}; the client's turns were "
                             f"{', '.join(f'{g:.2f}' for g in turn_gaps)} s apart) | " + result.detail)
        result.detail += f" ({spacing})"
        return result

    return fn


def _r(status: int, body: bytes = b"busy", **kw):  # type: ignore[no-untyped-def]
    from paperfixtures import Reply

    return Reply(status, body, "text/plain", **kw)


def _slow():  # type: ignore[no-untyped-def]
    from paperfixtures import atom

    reply = atom("1706.03762-current.xml")
    reply.delay = 5.0
    return reply


def _cut():  # type: ignore[no-untyped-def]
    from paperfixtures import atom

    reply = atom("1706.03762-current.xml")
    reply.truncate = 600
    return reply


OK = "1706.03762-current.xml"


def too_many_requests(tmp: Path) -> Result:
    return _scenario([_r(429, b"slow down", headers={"Retry-After": "1"}), OK])(tmp)


def unavailable(tmp: Path) -> Result:
    return _scenario([_r(503), _r(503), OK])(tmp)


def slow(tmp: Path) -> Result:
    return _scenario([_slow(), OK], policy={"read_timeout_s": 2.0, "deadline_s": 20.0})(tmp)


def truncated(tmp: Path) -> Result:
    from paperfixtures import attention_spec, pdf_reply, typeset

    data = typeset(attention_spec())
    return _scenario([_cut(), OK], [pdf_reply(data, truncate=len(data) // 2), pdf_reply(data)])(tmp)


def down_past_deadline(tmp: Path) -> Result:
    return _scenario([_r(503)], policy={"deadline_s": 20.0}, expect_code=14, within_s=30.0)(tmp)


DRILLS = [
    Drill("arxiv", "429-then-ok", too_many_requests, slow=True),
    Drill("arxiv", "503-twice-then-ok", unavailable, slow=True),
    Drill("arxiv", "slow-answer", slow, slow=True),
    Drill("arxiv", "truncated-body", truncated, slow=True),
    Drill("arxiv", "down-past-deadline", down_past_deadline, slow=True),
]

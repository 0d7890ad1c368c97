"""`macaw status`: the last nights, what the next night will try, and the failures, as plain lines."""

from __future__ import annotations

import time

from macaw.config import Config
from macaw.nightly.state import State


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if stamp else "-"


def render_status(config: Config) -> str:
    state = State.open_if_exists(config.out)
    if state is None:
        return f"no nightly state in {config.out} yet (run `macaw nightly`)"
    lines: list[str] = []
    with state:
        nights = state.nights(5)
        if nights:
            last = nights[0]
            took = f"{last.finished - last.started:.0f} s" if last.finished else "did not finish (killed or still running)"
            lines.append(f"last night: {_when(last.started)}, {last.status}, planned {last.planned}, published {last.published}, "
                         f"failed {last.failed}, {took}")
            if last.note:
                lines.append(f"  sources that failed: {last.note}")
            for n in nights[1:]:
                lines.append(f"  earlier: {_when(n.started)} {n.status}: published {n.published}, failed {n.failed}")
        else:
            lines.append("no night has run yet")
        items = state.items()
        counts: dict[str, int] = {}
        for item in items:
            counts[item.status] = counts.get(item.status, 0) + 1
        lines.append("items: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"))
        now = time.time()
        due = [i for i in items if i.status in ("failed", "building", "new") and i.next_try <= now]
        later = [i for i in items if i.status == "failed" and i.next_try > now]
        if due or later:
            lines.append("next night:")
            for i in due:
                lines.append(f"  {i.key} ({i.episode_id}): {i.status}, attempt {i.attempts + 1}/{config.nightly.max_attempts}")
            for i in later:
                lines.append(f"  {i.key} ({i.episode_id}): failed {i.attempts}/{config.nightly.max_attempts}, next try after {_when(i.next_try)}")
        failures = [i for i in items if i.status in ("failed", "set-aside")]
        if failures:
            lines.append("failures:")
            for i in failures:
                tail = f"  (macaw nightly --retry {i.key})" if i.status == "set-aside" else ""
                lines.append(f"  {i.key} [{i.status}, {i.attempts} attempt(s), exit {i.last_code}]: {i.last_error}{tail}")
    return "\n".join(lines)

"""The real `macaw` CLI with the scripted engines of tests/fakes.py registered, and a drill's fault injected.

    python bench/drills/fakecli.py build --journal entry.md --out OUT     # as `macaw build ...`

Faults, from the environment (each off unless set):
    MACAW_DRILL_KILL_AFTER=STAGE     SIGKILL this process right after STAGE finished (artifact saved, cache recorded)
    MACAW_DRILL_KILL_SAVED=STAGE     SIGKILL right after STAGE's artifact is saved, before the cache records it
    MACAW_DRILL_KILL_FEED=before|renaming   SIGKILL inside publish: before the feed's temp file is written,
                                     or with the temp file written and fsynced, before its rename
    MACAW_DRILL_LLM_REPLY=TEXT       the model's reply to every prompt (llm engine "hostile")
    MACAW_DRILL_TTS_DELAY=SECONDS    the fake voice sleeps this long per call (widens a race)
    MACAW_DRILL_ARXIV_POLICY=JSON    fields of macaw.sources.arxiv.Policy to change (a shorter deadline)
    MACAW_DRILL_ENOSPC=feed          writing the feed fails with ENOSPC (when no small tmpfs can be mounted)
    MACAW_DRILL_GATE_LOG=PATH        append the time of each turn the arXiv client's gate gives to PATH
    MACAW_DRILL_PUBLIC=URL-PREFIX    URLs under this prefix pass the private-address check, as a public
                                     server would (the drill's server must be on 127.0.0.1); every other
                                     URL, redirects included, is checked as usual
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# This folder's modules (arxiv.py, feeds.py...) must not shadow the libraries of the same name.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path[:0] = [str(REPO), str(REPO / "tests")]


def _die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def install_faults() -> None:
    import fakes

    from macaw import engines

    fakes.install()
    env = os.environ
    if env.get("MACAW_DRILL_LLM_REPLY") is not None:
        reply = env["MACAW_DRILL_LLM_REPLY"]

        class HostileLLM(fakes.FakeLLM):
            def generate(self, messages, *, max_tokens, seed, **kwargs):  # type: ignore[no-untyped-def, override]
                return reply

            def fingerprint(self):  # type: ignore[no-untyped-def, override]
                return {"engine": "hostile-llm", "reply": reply}

        engines.register("llm.hostile", HostileLLM)
    if env.get("MACAW_DRILL_TTS_DELAY"):
        delay = float(env["MACAW_DRILL_TTS_DELAY"])

        class SlowTTS(fakes.FakeTTS):
            def synthesize(self, text):  # type: ignore[no-untyped-def, override]
                time.sleep(delay)
                yield from super().synthesize(text)

        engines.register("tts.fake", SlowTTS)
    if env.get("MACAW_DRILL_KILL_AFTER"):
        from macaw import cli

        target, original = env["MACAW_DRILL_KILL_AFTER"], cli.RichReporter.stage_finished

        def finished(self, stage, seconds, cached):  # type: ignore[no-untyped-def]
            original(self, stage, seconds, cached)
            if stage == target and not cached:
                _die()

        cli.RichReporter.stage_finished = finished  # type: ignore[method-assign]
    if env.get("MACAW_DRILL_KILL_SAVED"):
        from macaw import pipeline

        target, run_stage = env["MACAW_DRILL_KILL_SAVED"], pipeline.run_stage

        def saved(stage, *args, **kwargs):  # type: ignore[no-untyped-def]
            result = run_stage(stage, *args, **kwargs)  # runs the stage and saves its artifact
            if stage == target:
                _die()  # before build_one records it in the cache
            return result

        pipeline.run_stage = saved  # type: ignore[assignment]
    if env.get("MACAW_DRILL_KILL_FEED") or env.get("MACAW_DRILL_ENOSPC"):
        from macaw.publish import files

        where, write = env.get("MACAW_DRILL_KILL_FEED", ""), files.write

        def feed_write(path, data, **kwargs):  # type: ignore[no-untyped-def]
            if Path(path).suffix == ".xml" and Path(path).parent.name == "feeds":
                if env.get("MACAW_DRILL_ENOSPC"):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
                if where == "before":
                    _die()
                if where == "renaming":
                    real_replace = os.replace

                    def replace(src, dst, *a, **k):  # type: ignore[no-untyped-def]
                        if Path(dst) == Path(path):
                            _die()
                        return real_replace(src, dst, *a, **k)

                    os.replace = replace  # type: ignore[assignment]
            return write(path, data, **kwargs)

        files.write = feed_write  # type: ignore[assignment]
    if env.get("MACAW_DRILL_PUBLIC"):
        from macaw.sources import http

        prefix, check_url = env["MACAW_DRILL_PUBLIC"], http.check_url

        def checked(url, *args, **kwargs):  # type: ignore[no-untyped-def]
            if not str(url).startswith(prefix):
                check_url(url, *args, **kwargs)

        http.check_url = checked  # type: ignore[assignment]
    if env.get("MACAW_DRILL_GATE_LOG"):
        from macaw.sources import arxiv as arxiv_client

        log_path, gate_wait = Path(env["MACAW_DRILL_GATE_LOG"]), arxiv_client.Gate.wait

        def logged(self):  # type: ignore[no-untyped-def]
            turn = gate_wait(self)
            with open(log_path, "a") as fh:
                fh.write(f"{turn!r}\n")
            return turn

        arxiv_client.Gate.wait = logged  # type: ignore[method-assign]
    if env.get("MACAW_DRILL_ARXIV_POLICY"):
        import dataclasses

        from macaw.sources import arxiv

        policy = dataclasses.replace(arxiv.DEFAULT_POLICY, **json.loads(env["MACAW_DRILL_ARXIV_POLICY"]))
        arxiv.DEFAULT_POLICY = policy
        for fn in (arxiv.fetch, arxiv.fetch_metadata, arxiv.download_pdf):
            if fn.__kwdefaults__ and "policy" in fn.__kwdefaults__:
                fn.__kwdefaults__["policy"] = policy


if __name__ == "__main__":
    install_faults()
    from macaw.cli import main

    sys.argv[0] = "macaw"
    main()

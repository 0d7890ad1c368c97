"""Hostile journal feeds, served from 127.0.0.1, through the real `macaw build --journal URL`.

The drill's server is on 127.0.0.1, which Macaw refuses by default (a private address); the
child lets that one server's URLs through as a public server's would be (MACAW_DRILL_PUBLIC in
bench/drills/fakecli.py), and checks everything else, redirects included, as usual.

Each must end in 30 s and 1 GiB, with no traceback; what else counts as a pass:
- billion laughs: the entities are not expanded into the episode (or the feed is refused in one line);
- external entity: neither the local file nor the URL it names is read;
- oversized body: refused in one line (a limit), not read into memory;
- redirect to loopback: the redirect is not followed to the private address (that server sees no request).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.drills.common import GIB, Drill, Result, Server, episode_ids, expect_error, reply, run_cli

ITEM = ("<item><title>A fine evening</title><link>http://127.0.0.1/fine</link><guid>fine-1</guid>"
        "<pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate><description>The evening was fine and the walk was long.</description></item>")


def rss(items: str, doctype: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n{doctype}<rss version="2.0"><channel><title>Drill blog</title>'
            f"<link>http://127.0.0.1/</link><description>drills</description>{items}</channel></rss>").encode()


def _outputs_text(out: Path) -> str:
    texts = []
    for p in (out / "episodes").rglob("*") if (out / "episodes").exists() else []:
        if p.is_file() and p.suffix in (".json", ".md", ".txt", ".html", ".vtt"):
            texts.append(p.read_text(errors="replace"))
    return "\n".join(texts)


def billion_laughs(tmp: Path) -> Result:
    doctype = '<!DOCTYPE rss [<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)) + "]>\n"
    body = rss(ITEM.replace("The evening was fine", "&lol9; The evening was fine"), doctype)
    out = tmp / "out"
    with Server({"/feed.xml": reply(body)}) as server:
        run = run_cli(["build", "--journal", server.url + "/feed.xml", "--out", str(out)], env={"MACAW_DRILL_PUBLIC": server.url + "/"})
    return _judged(run, out, lambda text: "lollollollol" not in text, "entities were expanded into the episode")


def external_entity(tmp: Path) -> Result:
    secret = tmp / "secret.txt"
    secret.write_text("DRILL-SECRET-7f3a")
    with Server({}) as private:
        doctype = (f'<!DOCTYPE rss [<!ENTITY file SYSTEM "file://{secret}"><!ENTITY net SYSTEM "{private.url}/xxe">]>\n')
        body = rss(ITEM.replace("The evening was fine", "&file; &net; The evening was fine"), doctype)
        out = tmp / "out"
        with Server({"/feed.xml": reply(body)}) as server:
            run = run_cli(["build", "--journal", server.url + "/feed.xml", "--out", str(out)], env={"MACAW_DRILL_PUBLIC": server.url + "/"})
        hits = len(private.log)
    result = _judged(run, out, lambda text: "DRILL-SECRET" not in text, "the local file's contents reached the episode")
    if hits:
        result.passed, result.detail = False, f"the external entity's URL was fetched ({hits} requests) | {result.detail}"
    return result


def oversized_body(tmp: Path, declared: bool = True) -> Result:
    chunk = b"<!-- " + b"x" * (1 << 20) + b" -->"

    def endless(h: Any) -> None:  # 8 GiB announced (or no length at all), streamed as fast as the client reads
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        if declared:
            h.send_header("Content-Length", str(8 * GIB))
        else:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        h.wfile.write(rss("")[:-len(b"</channel></rss>")])
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            h.wfile.write(chunk)

    out = tmp / "out"
    with Server({"/feed.xml": endless}) as server:
        run = run_cli(["build", "--journal", server.url + "/feed.xml", "--out", str(out)], env={"MACAW_DRILL_PUBLIC": server.url + "/"})
    result = expect_error(run, (10, 14, 15, 24))
    if episode_ids(out):
        result.passed, result.detail = False, "an episode was built from it | " + result.detail
    return result


def redirect_to_loopback(tmp: Path) -> Result:
    """The feed answers 302 to a private loopback address (127.0.0.2, standing in for an internal service)."""
    with Server({"/admin": reply(rss(ITEM))}, host="127.0.0.2") as private:
        target = private.url + "/admin"
        out = tmp / "out"
        with Server({"/feed.xml": reply(b"", status=302, headers={"Location": target})}) as server:
            run = run_cli(["build", "--journal", server.url + "/feed.xml", "--out", str(out)], env={"MACAW_DRILL_PUBLIC": server.url + "/"})
        hits = private.hits("/admin")
    result = expect_error(run, (10, 14, 15))
    if hits:
        result.passed, result.detail = False, f"the redirect to {target} was followed | {result.detail}"
    return result


def _judged(run, out: Path, clean, what: str) -> Result:  # type: ignore[no-untyped-def]
    """Either refused in one clear line, or built with nothing of the attack in the episode."""
    if run.code == 0 and not run.killed and run.seconds <= 30 and run.peak_mb <= 1024:
        ok = clean(_outputs_text(out))
        return Result(ok, ("built, nothing of it in the episode" if ok else what) + f" | exit 0 in {run.seconds:.1f} s", run.peak_mb)
    return expect_error(run, (10, 12, 14, 15))


DRILLS = [
    Drill("feed", "billion-laughs", billion_laughs, slow=True),
    Drill("feed", "external-entity", external_entity),
    Drill("feed", "oversized-body", oversized_body, slow=True),
    Drill("feed", "oversized-body-no-length", lambda tmp: oversized_body(tmp, declared=False), slow=True),
    Drill("feed", "redirect-to-loopback", redirect_to_loopback),
]

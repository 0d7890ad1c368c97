"""Injection: a title, an author, an abstract and a model reply carrying markup, `]]>`, `&`,
control characters and right-to-left marks. The feed must stay valid XML (lxml and
podcastparser both parse it, every episode there) and no page may carry the markup live.

Through the real CLI: a journal entry (front matter title and author, a hostile body, the model
replying with the payload), and an arXiv paper whose metadata (title, author, abstract) is the
payload, served by a local replay of the arXiv API on 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.drills.common import Drill, Result, episode_ids, feed_problems, problems_result, run_cli, write_entry

MARK = "ZQXJ"  # a word no text has, so each carrier can be found in the output
PAYLOAD = f'{MARK}<script>alert("x")</script> ]]> Tom & Jerry \x01\x08\x1b\u200f\u202eevil\u202c <img src=x onerror=alert(1)>'
XML_SAFE = PAYLOAD.replace("\x01", "").replace("\x08", "").replace("\x1b", "")  # what an XML source can carry at all


def page_problems(out: Path) -> list[str]:
    """Every HTML page parses, and none has a live <script> or onerror from the payload."""
    from lxml import html

    problems, pages = [], [p for p in out.rglob("*.html")]
    if not pages:
        return ["no pages were written"]
    for page in pages:
        text = page.read_text(errors="replace")
        if '<script>alert("x")' in text or "onerror=alert" in text and "<img src=x onerror" in text:
            problems.append(f"{page.relative_to(out)} carries the raw markup")
        tree = html.fromstring(text)
        for script in tree.iter("script"):
            if "alert" in (script.text or ""):
                problems.append(f"{page.relative_to(out)}: a live <script> from the payload")
        if any(el.get("onerror") for el in tree.iter() if isinstance(el.tag, str)):
            problems.append(f"{page.relative_to(out)}: a live onerror attribute")
    return problems


def carried(out: Path, what: str, where: list[str]) -> list[str]:
    """Not vacuous: the payload's mark reached the feed and the pages (escaped), else say so."""
    problems = []
    feed = (out / "feeds" / "macaw.xml")
    if feed.exists() and MARK not in feed.read_text(errors="replace"):
        problems.append(f"the {what} never reached the feed (nothing was tested)")
    if not any(MARK in p.read_text(errors="replace") for p in out.rglob("*.html")):
        problems.append(f"the {what} never reached a page (nothing was tested)")
    return problems


def journal(tmp: Path) -> Result:
    entry = write_entry(tmp / "entries", "2026-11-02-hostile.md", title=PAYLOAD, author=PAYLOAD,
                        body=f"# {PAYLOAD}\n\nA quiet paragraph about the garden. {PAYLOAD}\n\nThe roses came back after the rain.")
    out = tmp / "out"
    run = run_cli(["build", "--journal", str(entry), "--out", str(out), "--mode", "summary"],
                  env={"MACAW_LLM_ENGINE": "hostile", "MACAW_DRILL_LLM_REPLY": f"The entry says {PAYLOAD}. It is about a garden."})
    if run.code != 0:
        return Result(False, f"build failed: exit {run.code}: {run.error_line[:200]}", run.peak_mb)
    ids = episode_ids(out)
    problems = feed_problems(out, ids) + page_problems(out) + carried(out, "title", ["feed", "pages"])
    script = next(iter((out / "episodes").glob("*/script.json")), None)
    reply_used = script is not None and MARK in script.read_text()
    return problems_result(problems, f"feed parses (lxml, podcastparser), pages escape it; model reply {'in' if reply_used else 'not in'} the script", run.peak_mb)


def paper(tmp: Path) -> Result:
    from paperfixtures import ATOM_DIR, ReplayServer, Reply, attention_spec, pdf_reply, typeset
    from xml.sax.saxutils import escape

    atom = (ATOM_DIR / "1706.03762-current.xml").read_text()
    atom = atom.replace("<title>Attention Is All You Need</title>", f"<title>{escape(XML_SAFE)}</title>")
    atom = atom.replace("<name>Ashish Vaswani</name>", f"<name>{escape(XML_SAFE)}</name>")
    start, end = atom.index("<summary>") + len("<summary>"), atom.index("</summary>")
    atom = atom[:start] + escape(XML_SAFE) + " " + atom[start:end] + atom[end:]
    out = tmp / "out"
    with ReplayServer() as server:
        server.script["1706.03762"] = [Reply(body=atom.encode())]
        server.script["/pdf/1706.03762v7"] = [pdf_reply(typeset(attention_spec()))]
        run = run_cli(["build", "--paper", "1706.03762", "--out", str(out)], timeout=90,
                      env={"MACAW_ARXIV_API_URL": server.url + "/api/query", "MACAW_ARXIV_PDF_URL": server.url + "/pdf",
                           "MACAW_CACHE": str(tmp / "cache"),
                               "MACAW_DRILL_ARXIV_POLICY": '{"interval_s": 0}', "MACAW_LLM_ENGINE": "hostile",
                           "MACAW_DRILL_LLM_REPLY": f"The paper says {PAYLOAD}."})
    if run.code != 0:
        return Result(False, f"build failed: exit {run.code}: {run.error_line[:200]}", run.peak_mb)
    problems = feed_problems(out, episode_ids(out)) + page_problems(out) + carried(out, "paper title", ["feed", "pages"])
    manifest = json.loads(next((out / "episodes").glob("*/episode.json")).read_text())
    if MARK not in json.dumps(manifest):
        problems.append("the hostile metadata is not in the manifest (nothing was tested)")
    return problems_result(problems, "feed parses (lxml, podcastparser), pages escape title, author and abstract", run.peak_mb)


DRILLS = [
    Drill("injection", "journal", journal),
    Drill("injection", "paper", paper, slow=True),
]

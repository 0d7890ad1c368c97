"""What check reports: each sentence's place in the audio, and quality.html, a page a person
reads to see what the recogniser heard."""

from __future__ import annotations

import html

from macaw.artifacts import Quality, Script, SpokenSentence
from macaw.quality.retake import TIMING_SLACK
from macaw.quality.score import Scored


def timings(scored: Scored, sentence_spans: list[SpokenSentence]) -> list[tuple[float, float]]:
    """Each sentence's start and end from its recognised words, within reason; else where the
    audio put it."""
    spans = {s.index: s for s in sentence_spans}
    out: list[tuple[float, float]] = []
    previous_end = 0.0
    for i, s in enumerate(scored.sentences):
        span = spans.get(i)
        fallback = (span.start, span.end) if span else (previous_end, previous_end)
        heard = [scored.words[scored.heard[op.hyp].owner] for op in s.ops if op.hyp is not None and op.kind in ("ok", "sub", "name", "sound", "typo")]
        start, end = fallback
        if heard:
            h_start, h_end = heard[0].start, heard[-1].end
            if abs(h_start - fallback[0]) <= TIMING_SLACK:
                start = h_start
            if abs(h_end - fallback[1]) <= TIMING_SLACK:
                end = h_end
        start = max(start, previous_end)
        end = max(end, start)
        out.append((round(start, 3), round(end, 3)))
        previous_end = end
    return out


def fmt_time(seconds: float) -> str:
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def diff_html(diff: list[list[str]]) -> str:
    parts = []
    for kind, ref, heard in diff:
        if kind == "ok":
            parts.append(html.escape(ref))
        elif kind == "sub":
            parts.append(f'<del title="not heard">{html.escape(ref)}</del><ins title="heard instead">{html.escape(heard)}</ins>')
        elif kind == "del":
            parts.append(f'<del title="not heard">{html.escape(ref)}</del>')
        elif kind == "name":  # a proper name heard with the recogniser's own spelling: not an error
            shown = html.escape(ref) + (f" <small>({html.escape(heard)})</small>" if heard else "") if ref else f"<small>({html.escape(heard)})</small>"
            parts.append(f'<span class="name" title="a name, heard with another spelling">{shown}</span>')
        elif kind == "sound":  # another spelling of the same sounds ("peak" heard as "peek"): not an error
            parts.append(f'<span class="name" title="heard as {html.escape(heard)}, which sounds the same">{html.escape(ref)} <small>({html.escape(heard)})</small></span>')
        elif kind == "typo":  # the author's misspelling heard as the word it misspells: not an error
            parts.append(f'<span class="name" title="the entry\'s spelling, heard as {html.escape(heard)}">{html.escape(ref)} <small>({html.escape(heard)})</small></span>')
        else:
            parts.append(f'<ins title="heard, not in the script">{html.escape(heard)}</ins>')
    return " ".join(parts)


def render_page(script: Script, quality: Quality, sentence_threshold: float | None = None) -> str:
    """A self-contained page: every sentence with its WER, differences marked, worst first in a list."""
    verdict = "passed" if quality.passed else "FAILED"
    rows = []
    for q in quality.sentences:
        text = script.sentences[q.index].text if q.index < len(script.sentences) else q.reference
        cls = "bad" if q.errors and (sentence_threshold is None or q.wer > sentence_threshold) else ("ok" if not q.errors else "meh")
        retry = f"<br><small>retried {q.retries}&times;{'; now says: ' + html.escape(q.spoken) if q.spoken else ''}</small>" if q.retries else ""
        if q.relistened:
            retry += "<br><small>as heard the second, careful time</small>"
        rows.append(
            f'<tr id="s{q.index}" class="{cls}"><td>{q.index + 1}</td><td>{fmt_time(q.start)}</td>'
            f"<td>{q.wer:.0%}</td><td>{html.escape(text)}<div class=diff>{diff_html(q.diff)}</div>{retry}</td></tr>"
        )
    worst = ", ".join(f'<a href="#s{i}">{i + 1}</a>' for i in quality.worst) or "none"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Quality: {html.escape(script.title)}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}
table{{border-collapse:collapse;width:100%}} td{{border-top:1px solid #ddd;padding:.4rem;vertical-align:top}}
td:nth-child(-n+3){{white-space:nowrap;color:#555}} .diff{{font-family:ui-monospace,monospace;font-size:.85em;color:#555;margin-top:.2rem}} .name{{color:#06c}}
del{{background:#fdd;color:#900}} ins{{background:#dfd;color:#060;text-decoration:none}}
tr.bad{{background:#fff4f4}} tr.meh{{background:#fffbea}} .FAILED{{color:#b00}} .passed{{color:#070}}
</style></head><body>
<h1>{html.escape(script.title)}</h1>
<p>Round-trip word error rate <b class="{verdict}">{quality.wer:.1%}</b> over {quality.words} words
(gate: {quality.threshold:.0%}, <span class="{verdict}">{verdict}</span>); recogniser {html.escape(quality.asr_model)};
{quality.relistened} sentence(s) heard a second time; {quality.retries} retries. Worst sentences: {worst}.</p>
<p><del>struck red</del>: in the script, not heard. <ins>green</ins>: heard, not in the script.
<span class="name">blue</span>: a name, a word heard with another spelling of the same sounds, or the text's own misspelling heard as the word it misspells; not counted.</p>
<table><thead><tr><th>#</th><th>at</th><th>WER</th><th>sentence</th></tr></thead><tbody>
{chr(10).join(rows)}
</tbody></table></body></html>
"""

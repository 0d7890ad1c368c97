"""The writer every script is built with: templates, sentences, the LLM and the faithfulness gate.

Every sentence the LLM writes passes the gate (macaw/script/grounding.py); one that fails is
regenerated once with a stricter prompt, then replaced by the source sentence that best matches
it. Repeated sentences are dropped. The journal and paper scripts (macaw/script/journal.py,
macaw/script/paper.py) drive a Writer; macaw/stages/write.py picks which.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import date as Date
from functools import lru_cache
from pathlib import Path
from typing import Any

from macaw import render as templating
from macaw.artifacts import Document, Script, Sentence, Source
from macaw.errors import ConfigError, EmptyOutputError, EmptySourceError
from macaw.script.grounding import SourceIndex, claim, judge, similar
from macaw.script.spoken import Lexicon, load_lexicon, split_sentences, to_spoken
from macaw.script.written import ordinal
from macaw.stages.context import StageContext

INTRO, CLOSING = "Introduction", "Closing"
MAX_AUTHORS_NAMED = 6


@lru_cache(maxsize=1)
def _jinja() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=templating.loader(),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render(name: str, **values: Any) -> str:
    return _jinja().get_template(name).render(**values).strip()


def template_lines(name: str, **values: Any) -> list[str]:
    """A script template renders one sentence a line."""
    return [line.strip() for line in render(name, **values).splitlines() if line.strip()]


# -- names, dates --------------------------------------------------------------------------


def name_list(names: list[str], limit: int = MAX_AUTHORS_NAMED) -> str:
    """'A', 'A and B', 'A, B, and C'; past `limit` names: 'A, B, ..., F, and 3 colleagues'."""
    names = [n.strip() for n in names if n.strip()]
    if not names:
        return ""
    shown, rest = names[:limit], len(names) - limit
    if rest > 0:
        return ", ".join(shown) + f", and {rest} colleague{'s' if rest > 1 else ''}"
    if len(shown) == 1:
        return shown[0]
    if len(shown) == 2:
        return f"{shown[0]} and {shown[1]}"
    return ", ".join(shown[:-1]) + f", and {shown[-1]}"


def spoken_date(iso: str) -> str:
    """'2024-10-14' -> 'October 14th, 2024' (which the normaliser says as an ordinal)."""
    try:
        d = Date.fromisoformat(iso[:10])
    except (TypeError, ValueError):
        return ""
    return f"{d.strftime('%B')} {ordinal(d.day)}, {d.year}"


# -- cleaning text the author wrote ----------------------------------------------------------

_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(?<![\w*])(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_BULLET = re.compile(r"^\s*(?:[-*•+]|\d+[.)])\s+")
HEADING = re.compile(r"^\s*#{1,6}\s*")


def clean_paragraph(paragraph: str) -> list[str]:
    """Markdown and list markup out; one entry per list item or prose block."""
    text = _IMAGE.sub("", paragraph)
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\2", text).replace("`", "")
    blocks: list[str] = []
    for line in text.splitlines():
        if not line.strip() or line.strip().startswith("```"):
            continue
        if _BULLET.match(line) or HEADING.match(line) or not blocks:
            blocks.append(HEADING.sub("", _BULLET.sub("", line)).strip())
        else:
            blocks[-1] += " " + line.strip()
    return [b for b in blocks if re.search(r"[A-Za-z0-9]", b)]


def finish(sentence: str) -> str:
    """A sentence a voice can end: closing punctuation added when the author left none."""
    sentence = sentence.strip()
    if sentence and sentence[-1].isalnum() or sentence.endswith((")", '"', "”", "'")):
        return sentence + "."
    return sentence


def paragraphs(text: str) -> list[list[str]]:
    """A section's text -> paragraphs -> sentences."""
    out = []
    for block in re.split(r"\n\s*\n", text):
        sentences = [finish(s) for part in clean_paragraph(block) for s in split_sentences(part)]
        sentences = [s for s in sentences if re.search(r"[A-Za-z]", s)]
        if sentences:
            out.append(sentences)
    return out


# -- the stage ---------------------------------------------------------------------------------


class Writer:
    """What every kind of episode shares: the LLM, the source index, the gate, the output list."""

    def __init__(self, ctx: StageContext, document: Document, source: Source):
        self.ctx = ctx
        self.document = document
        self.source = source
        self.llm = ctx.llm()
        self.lexicon = _lexicon(ctx)
        self.authors = list(dict.fromkeys([a.name for a in document.authors if a.name.strip()]
                                          or [a.name for a in source.authors if a.name.strip()]))
        metadata = "\n".join([document.title, source.title, *self.authors, *(a.affiliation for a in document.authors),
                              document.date or source.date, spoken_date(document.date or source.date),
                              source.id, str(source.metadata.get("arxiv_id", ""))])
        self.index = SourceIndex(document.full_text(), extra=metadata)
        self.sentences: list[Sentence] = []
        self.llm_calls = 0
        self.regenerated = 0
        self.fallbacks = 0
        self.llm_seconds = 0.0
        self.offered = 0  # sentences the model wrote and the gate judged
        self.refusals: list[dict[str, str]] = []  # what the gate refused: text, claimed source, why
        self.equations: list[str] = []  # display equations: in the show notes, never read
        self.style = ""

    # output

    def repeats(self, text: str, origin: str = "source", others: list[str] | None = None) -> bool:
        """Is `text` (nearly) a sentence the script already has?"""
        for earlier in self.sentences:
            if earlier.text == text or (origin != "template" and earlier.origin != "template" and similar(earlier.text, text, 0.9)):
                return True
        return any(o == text or similar(o, text, 0.9) for o in others or ())

    def add(self, text: str, segment: str, paragraph: int, *, origin: str, grounded: bool | None = None,
            support: str = "") -> bool:
        """Add a sentence; its `grounded` is the gate's verdict on it against `support`, computed here.

        A template line is the episode's own words (title, authors, signposts): grounded in the
        metadata by construction. The `grounded` argument is ignored (kept so callers still run).
        """
        text = text.strip()
        if not text or self.repeats(text, origin):
            return False  # a repeated sentence is dropped
        if origin == "template":
            verdict_ok = True
        else:
            verdict = judge(text, [support]) if support else claim(self.index, text)
            if not verdict.grounded and support:
                again = claim(self.index, text)
                verdict = again if again.grounded else verdict
            verdict_ok = verdict.grounded
            support = support or verdict.support
        self.sentences.append(Sentence(text=text, spoken=to_spoken(text, self.lexicon), segment=segment,
                                       paragraph=paragraph, grounded=verdict_ok, support=support, origin=origin))
        return True

    def add_source(self, text: str, segment: str, paragraph: int, source: str) -> bool:
        """A source sentence, read as the paper has it (made fit to be heard)."""
        return self.add(text, segment, paragraph, origin="source", support=source)

    def add_model(self, text: str, segment: str, paragraph: int, support: str) -> bool:
        """A sentence the model wrote that the gate accepted against `support`."""
        return self.add(text, segment, paragraph, origin="llm", support=support)

    def refuse(self, text: str, claimed: list[str], segment: str, why: str) -> None:
        self.refusals.append({"text": text, "claimed": " ".join(claimed), "segment": segment, "why": why})

    def add_template(self, name: str, segment: str, paragraph: int = 0, **values: Any) -> None:
        for line in template_lines(name, **values):
            self.add(line, segment, paragraph, origin="template", grounded=True, support="(episode metadata)")

    # the LLM, behind the gate

    def ask(self, prompt: str, max_tokens: int, *, one_sentence: bool = False) -> str:
        messages = [{"role": "system", "content": render("prompt_system.j2")}, {"role": "user", "content": prompt}]
        seed = int(self.ctx.config.llm.seed)
        # Asked for one sentence, stop at its end: a small CPU model spends most time on tokens.
        extra = {"stop": [". ", "! ", "? ", ".\n", "\n\n"]} if one_sentence and _takes_stop(self.llm) else {}
        for attempt in range(2):
            self.llm_calls += 1
            started = time.perf_counter()
            reply = self.llm.generate(messages, max_tokens=max_tokens, seed=seed + attempt, **extra)
            self.llm_seconds += time.perf_counter() - started
            if reply and reply.strip():
                return reply
        raise EmptyOutputError(
            f"the LLM ({self.model_name}) returned nothing for {self.source.id}",
            hint="check the model in [llm] of macaw.toml, or try another model",
        )

    @property
    def model_name(self) -> str:
        return str(getattr(self.llm, "model_name", "") or self.ctx.config.llm.engine)

    def grounded_sentences(self, prompt: str, strict_prompt: str, *, want: int, max_tokens: int,
                           exclude: set[str] | None = None, anchor: str = "",
                           host_voice: bool = False) -> list[tuple[str, bool, str, str]]:
        """Up to `want` sentences from the LLM, each (text, grounded, support, origin).

        A sentence that fails the gate is regenerated once (with the strict prompt); if that
        fails too it is replaced by the best-matching source sentence not already used. When
        the draft shares too little with any source sentence for "best matching" to mean
        anything (an invented story), the sentence best matching `anchor` (what the prompt
        was about) stands in. `host_voice`: the host says it, so the author's "I" and "my"
        would put the author's words in the host's mouth; such a sentence fails too.
        """

        def passes(text: str) -> Any:
            # The same gate as a paper's: against the one or two source sentences it claims.
            verdict = claim(self.index, text) if text else None
            if verdict and host_voice and _FIRST_PERSON.search(text):
                verdict.grounded = False
                verdict.problems.append("first person in the host's voice")
            if verdict:
                self.offered += 1
                if not verdict.grounded:
                    self.refuse(text, [verdict.support], "", "; ".join(verdict.problems))
            return verdict

        exclude = set(exclude or ())
        drafts = llm_sentences(self.ask(prompt, max_tokens, one_sentence=want == 1))[:want]
        retry: list[str] | None = None
        out: list[tuple[str, bool, str, str]] = []
        for i, draft in enumerate(drafts or [""]):
            verdict = passes(draft)
            if verdict and verdict.grounded:
                out.append((draft, True, verdict.support, "llm"))
                continue
            if retry is None:
                self.regenerated += 1
                retry = llm_sentences(self.ask(strict_prompt, max_tokens, one_sentence=want == 1))
            second = retry[i] if i < len(retry) else ""
            verdict2 = passes(second)
            if verdict2 and verdict2.grounded and all(second != o[0] for o in out):
                out.append((second, True, verdict2.support, "llm"))
                continue
            self.fallbacks += 1
            used = exclude | {o[0] for o in out}
            draft_text = draft or second
            best = self.index.best_sentence(draft_text, exclude=used) if draft_text else ""
            if anchor and (not best or self.index.check(draft_text).score < 0.3):
                best = self.index.best_sentence(anchor, exclude=used) or best
            if not best:
                best = self.index.best_sentence(prompt, exclude=used)
            if best:
                spoken_form = " ".join(clean_paragraph(best)) or best
                out.append((finish(spoken_form), True, best, "source"))
        return out[:want] if drafts else out[:1]

    def script(self) -> Script:
        if not self.sentences:
            raise EmptySourceError(f"nothing to say about {self.source.id}: the document has no sentences",
                                   hint="check document.json")
        self.ctx.log(f"script: {len(self.sentences)} sentences, {self.llm_calls} LLM calls ({self.llm_seconds:.1f} s), "
                     f"{self.regenerated} regenerated, {self.fallbacks} replaced by source sentences")
        accepted = sum(s.origin == "llm" and s.grounded for s in self.sentences)
        return Script(title=self.document.title or self.source.title, sentences=self.sentences,
                      models={"llm": self.model_name}, offered=self.offered or accepted + len(self.refusals),
                      accepted=accepted, refused=len(self.refusals), refusals=self.refusals,
                      equations=self.equations, style=self.style)


def _takes_stop(llm: Any) -> bool:
    from macaw.engines import supports

    return supports(llm, "stop")


_FIRST_PERSON = re.compile(r"\b(I|I'm|I've|I'd|I'll|me|my|mine|myself|we|our|us)\b", re.I)
_PREAMBLE = re.compile(r"^(?:sure|certainly|okay|ok|here(?: is|'s)[^:]*?|(?:shorter |shortened |new )?sentence)[,!.:]\s*", re.I)


def llm_sentences(reply: str) -> list[str]:
    """The usable sentences of an LLM reply: no preamble, no markup, no half sentence at the end."""
    text = reply.strip().strip('"“”').strip()
    text = _PREAMBLE.sub("", text)
    lines = []
    for line in text.splitlines():
        line = HEADING.sub("", _BULLET.sub("", line)).strip().strip('"“”')
        if line and not line.endswith(":"):
            lines.append(line)
    out = []
    for s in split_sentences(" ".join(lines)):
        s = _EMPHASIS.sub(r"\2", s).strip()
        if len(s.split()) >= 4 and s[-1] in ".!?":
            out.append(s)
    return out


def _lexicon(ctx: StageContext) -> Lexicon | None:
    path = getattr(ctx.config, "script", None) and ctx.config.script.lexicon
    if not path:
        return None
    file = Path(path).expanduser()
    if not file.is_absolute():
        file = ctx.config.out / file
    if not file.is_file():
        raise ConfigError(f"pronunciation lexicon not found: {file}", hint="fix [script] lexicon in macaw.toml")
    return load_lexicon(file)



def has_words(document: Document) -> bool:
    return any(re.search(r"[A-Za-z]{2,}", s.text) for s in document.sections) or bool(re.search(r"[A-Za-z]{2,}", document.abstract))



# -- helpers the journal and paper scripts share ----------------------------------------


def key_terms(text: str, headings: list[str], limit: int = 4) -> list[str]:
    """The names an entry keeps coming back to (ARENA, ResNet34), most frequent first."""
    from collections import Counter

    from macaw.script.grounding import _is_entity, tokens

    counts: Counter[str] = Counter()
    for sentence in split_sentences(text):
        for position, tok in enumerate(tokens(sentence)):
            if _is_entity(tok, position) and len(tok) > 2:
                counts[tok] += 1
    terms = [t for t, c in counts.most_common() if c >= 2][:limit] or [t for t, _ in counts.most_common(limit)]
    if not terms:
        terms = [h for h in headings if h and not re.fullmatch(r"Part \d+", h)][:limit]
    return terms


def centrality(sentences: list[str]) -> dict[str, float]:
    """How much each sentence shares with the others: a fair measure of a one-line gist."""
    from macaw.script.grounding import content_words, stem

    stems = {s: {stem(t) for t in content_words(s)} for s in sentences}
    counts = Counter(x for group in stems.values() for x in group)
    return {s: (sum(counts[x] - 1 for x in group) / len(group) ** 0.5 if group and 6 <= len(s.split()) <= 40 else -1.0)
            for s, group in stems.items()}


def central(w: Writer, sentences: list[str]) -> str:
    scores = centrality(sentences)
    return max(sentences, key=lambda s: scores[s]) if sentences else ""


def budget_chars(w: Writer, reserve_tokens: int = 400) -> int:
    context = int(w.ctx.config.llm.context_tokens or getattr(w.llm, "context_tokens", 2048))
    # ~4 characters a token for English; prompts stay short so a 135M model keeps to the point.
    return max(600, min(4 * (context - reserve_tokens), 6000))


def excerpt(w: Writer, sentences: list[str], limit: int | None = None) -> str:
    limit = limit or min(budget_chars(w), 1600)
    out, size = [], 0
    for s in sentences:
        if size + len(s) > limit and out:
            break
        out.append(s)
        size += len(s) + 1
    return " ".join(out)


def chunks(w: Writer, text: str, limit: int | None = None) -> list[str]:
    """Paragraph-aligned pieces of `text` that fit the model's context with room for the prompt."""
    limit = min(limit or budget_chars(w), budget_chars(w))
    out: list[str] = []
    for para in text.split("\n\n"):
        pieces = [para] if len(para) <= limit else [" ".join(split_sentences(para)[i:i + 8]) for i in range(0, len(split_sentences(para)), 8)]
        for piece in pieces:
            if out and len(out[-1]) + len(piece) + 2 <= limit:
                out[-1] += "\n\n" + piece
            else:
                out.append(piece[:limit])
    return [c for c in out if c.strip()]

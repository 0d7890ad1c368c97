"""The script of a journal entry (`[journal] mode`).

  read     the entry as its author wrote it, after spoken-form cleanup, between a short intro
           (a template line plus a sentence the LLM writes about the entry) and an outro.
  summary  a grounded summary, section by section.
"""

from __future__ import annotations

import re

from macaw.artifacts import Document
from macaw.documents.markdown import ANNOUNCEMENT
from macaw.script.writer import (
    CLOSING,
    has_words,
    INTRO,
    Writer,
    HEADING,
    central,
    clean_paragraph,
    centrality,
    chunks,
    excerpt,
    finish,
    name_list,
    render,
    spoken_date,
)
from macaw.script.spoken import split_sentences, to_spoken


def paragraphs(text: str) -> list[list[str]]:
    """A section's text -> paragraphs -> sentences, list items each their own.

    The shared cleanup (writer.clean_paragraph) drops backticks; here inline code keeps them, so
    that the spoken-form normaliser can say it as code rather than read its characters.
    """
    out = []
    for block in re.split(r"\n\s*\n", text):
        parts = [p.replace("\x01", "`") for p in clean_paragraph(block.replace("`", "\x01"))]
        sentences = [finish(s) for part in parts for s in split_sentences(part)]
        sentences = [s for s in sentences if re.search(r"[A-Za-z]", s)]
        if sentences:
            out.append(sentences)
    return out


def _previews(sentence: str) -> bool:
    """A preview is a sentence of the host's: whole, not a heading or a code fragment."""
    return 6 <= len(sentence.split()) <= 40 and "`" not in sentence and not sentence.rstrip().endswith(":")


def section_name(heading: str, index: int, count: int) -> str:
    heading = HEADING.sub("", heading).strip().rstrip(":")
    if heading:
        return heading
    return "The entry" if count == 1 else f"Part {index + 1}"


def write(w: Writer, mode: str) -> None:
    doc, cfg = w.document, w.ctx.config
    author = name_list(w.authors) or cfg.journal.author or cfg.show.author
    # "Week[3] @ The Recurse Center": a number in brackets after a word is part of the title,
    # not a citation for the normaliser to drop.
    title = re.sub(r"(?<=\w)\[(\d+)\]", r" \1", doc.title or w.source.title)
    values = dict(show=cfg.show.title, title=title, authors=author,
                  date=spoken_date(doc.date or w.source.date))
    w.add_template("script_journal_intro.j2", INTRO, 0, **values)

    sections = [s for s in doc.sections if has_words(Document(title="", sections=[s]))]
    body = [(section_name(s.heading, i, len(sections)), paragraphs(s.text)) for i, s in enumerate(sections)]
    body_sentences = {s for _, paras in body for para in paras for s in para}

    # One sentence about the entry, from the LLM: first its most central sentence said in fewer
    # words, then (if that fails the gate) an open prompt over the opening of the entry. The
    # bundled model's answers to the open prompt never passed the gate on the sample and the three
    # real journal entries (it copies the author's first-person opening), the short one passed on
    # two of four; asking it first saves a wasted call (~2 s) and changes none of those scripts.
    body_sentences_in_order = [s for _, paras in body for para in paras for s in para]
    preview = excerpt(w, body_sentences_in_order)
    intro = w.grounded_sentences(
        render("prompt_journal_intro.j2", first=central(w, body_sentences_in_order), strict=True),
        render("prompt_journal_intro.j2", excerpt=preview, strict=False),
        want=1, max_tokens=60, anchor=central(w, body_sentences_in_order), host_voice=True,
    )
    if mode == "read":
        # A faithful one-line preview or none: a source-sentence fallback would repeat a sentence
        # the entry reads out anyway, and a list of its frequent words ("It touches on ReLU.")
        # previews nothing.
        intro = [line for line in intro if line[3] != "source" and _previews(line[0])]
    for text, grounded, support, origin in intro:
        w.add(text, INTRO, 1, origin=origin, grounded=grounded, support=support)

    if mode == "read":
        for name, paras in body:
            for p, para in enumerate(paras):
                for sentence in para:
                    if ANNOUNCEMENT.match(sentence):  # "The entry shows code here": the host's words
                        w.add(sentence, name, p, origin="template", grounded=True, support="(a code block of the entry)")
                    elif re.search(r"[A-Za-z0-9]", to_spoken(sentence, w.lexicon)):  # not only a URL or emoji
                        w.add(sentence, name, p, origin="source", grounded=True, support=sentence)
    else:
        # A grounded summary: per section, one sentence by the LLM (through the gate) and the
        # section's most central sentences, in the entry's order.
        for name, paras in body:
            sentences = [s for para in paras for s in para]
            # Short prompts: a small model loses the thread (and time) on long ones.
            for chunk in chunks(w, "\n\n".join(" ".join(para) for para in paras), 1600):
                in_chunk = [s for s in sentences if s in chunk]
                for line, grounded, support, origin in w.grounded_sentences(
                    render("prompt_summary.j2", text=chunk, strict=False),
                    render("prompt_summary.j2", first=central(w, in_chunk), strict=True),
                    want=1, max_tokens=60, anchor=central(w, in_chunk),
                ):
                    w.add(line, name, 0, origin=origin, grounded=grounded, support=support)
                keep = max(1, len(in_chunk) // 6)
                scores = centrality(in_chunk)
                ranked = sorted(in_chunk, key=lambda s: -scores[s])[:keep]
                for sentence in [s for s in in_chunk if s in ranked]:
                    w.add(sentence, name, 1, origin="source", grounded=True, support=sentence)
    w.add_template("script_journal_outro.j2", CLOSING, 0, **values)

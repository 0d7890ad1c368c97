"""A paper episode: intro, the problem, what the authors did, results, limitations, closing.

Map, then reduce, so a long paper works on a small model:
  map     each section, in chunks that fit the model's context, is scored sentence by sentence
          (how central it is to the title and abstract, numbers for results, hedges for
          limitations) and sorted into the episode's parts by its heading and position;
  reduce  for each part, the best sentences become the notes the LLM writes a lead-in from
          (one short sentence, through the faithfulness gate), followed by the best source
          sentences themselves, in the paper's order, up to the part's share of the target
          length (`[script] minutes`, about 150 spoken words a minute).
The intro and closing come from templates: show, title, authors (six by name, then "and N
colleagues"), affiliations, and the arXiv id.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from macaw.script.grounding import content_words, numbers_in, stem
from macaw.script.spoken import split_sentences
from macaw.script.writer import CLOSING, chunks, INTRO, Writer, finish, name_list, paragraphs, render

WORDS_PER_MINUTE = 150


@dataclass(frozen=True)
class Part:
    name: str  # the chapter title
    starter: str  # the sentence the LLM is asked to finish
    share: float  # of the episode's words
    headings: tuple[str, ...]  # heading words that put a section in this part


PROBLEM = Part("The problem", "The problem is that", 0.22,
               ("introduction", "background", "motivation", "overview", "problem", "preliminar"))
METHOD = Part("What the authors did", "The authors propose", 0.30,
              ("method", "approach", "model", "architecture", "design", "algorithm", "framework", "system",
               "training", "implementation", "setup", "data", "proposed", "formulation", "technique"))
RESULTS = Part("Key results", "The main result is that", 0.30,
               ("result", "experiment", "evaluation", "analysis", "benchmark", "ablation", "performance",
                "comparison", "study", "finding"))
LIMITS = Part("Limitations and open questions", "One limitation is that", 0.18,
              ("limitation", "discussion", "conclusion", "future", "impact", "open", "threat", "caveat"))
PARTS = (PROBLEM, METHOD, RESULTS, LIMITS)

SKIP_HEADINGS = ("reference", "bibliograph", "acknowledg", "appendix", "contribution", "checklist", "supplementa")
_HEDGES = re.compile(r"\b(limit\w*|future|however|remain\w*|open|cannot|unclear|only|fail\w*|challeng\w*|not yet|leave)\b", re.I)
_OUR = re.compile(r"\b(we|our|this paper|this work)\b", re.I)


@dataclass
class Candidate:
    text: str
    part: Part
    order: int  # position in the document
    score: float


def part_for(heading: str, position: float) -> Part | None:
    """The part a section belongs to, from its heading, else from where it sits in the paper."""
    h = heading.lower()
    if any(word in h for word in SKIP_HEADINGS):
        return None
    if "related" in h or "prior work" in h:
        return PROBLEM
    for part in (LIMITS, RESULTS, PROBLEM, METHOD):
        if any(word in h for word in part.headings):
            return part
    if position < 0.2:
        return PROBLEM
    return METHOD if position < 0.6 else RESULTS


def _usable(sentence: str) -> bool:
    words = sentence.split()
    if not 6 <= len(words) <= 45:
        return False
    letters = sum(c.isalpha() for c in sentence)
    if letters < 0.65 * len(sentence.replace(" ", "")):
        return False  # mostly math, table cells or symbols
    return not re.match(r"^(Figure|Fig\.|Table|Algorithm|Equation|Eq\.)\s*\d", sentence)


def candidates(w: Writer) -> list[Candidate]:
    """The map: every usable sentence, scored and sorted into a part."""
    doc = w.document
    key = Counter(stem(t) for t in content_words(doc.title + " " + doc.abstract))
    order = 0
    out: list[Candidate] = []
    total = max(1, len(doc.sections))

    def add(sentence: str, part: Part, in_section: int) -> None:
        nonlocal order
        order += 1
        if not _usable(sentence):
            return
        stems = {stem(t) for t in content_words(sentence)}
        if not stems:
            return
        central = sum(min(key[s], 3) * w.index._idf.get(s, 1.0) for s in stems) / math.sqrt(len(stems))
        score = central
        if part is RESULTS and numbers_in(sentence):
            score *= 1.6
        if part is LIMITS and _HEDGES.search(sentence):
            score *= 1.8
        if part is METHOD and _OUR.search(sentence):
            score *= 1.3
        score *= 1.0 / (1.0 + 0.05 * in_section)  # the opening of a section says what it is about
        out.append(Candidate(finish(sentence), part, order, score))

    abstract = split_sentences(doc.abstract)
    for i, sentence in enumerate(abstract):
        third = i * 3 // max(1, len(abstract))
        add(sentence, RESULTS if numbers_in(sentence) and third > 0 else (PROBLEM, METHOD, RESULTS)[min(third, 2)], i)
    for i, section in enumerate(doc.sections):
        part = part_for(section.heading, i / total)
        if part is None:
            continue
        n = 0
        for chunk in _section_chunks(w, section.text):
            for para in paragraphs(chunk):
                for sentence in para:
                    add(sentence, part, n)
                    n += 1
    return out


def _section_chunks(w: Writer, text: str) -> list[str]:
    return chunks(w, text)


def write(w: Writer, minutes: float) -> None:
    cfg, doc, source = w.ctx.config, w.document, w.source
    authors = name_list(w.authors)
    affiliations = list(dict.fromkeys(a.affiliation.strip() for a in doc.authors if a.affiliation.strip()))
    arxiv_id = str(source.metadata.get("arxiv_id") or (source.id.removeprefix("arxiv-") if source.kind == "arxiv" else ""))
    values = dict(show=cfg.show.title, title=doc.title or source.title, authors=authors,
                  affiliations=name_list(affiliations, 3), arxiv_id=arxiv_id)
    w.add_template("script_paper_intro.j2", INTRO, 0, **values)

    pool = candidates(w)
    budget = max(60, minutes * WORDS_PER_MINUTE - 70)  # the intro and closing take about 70 words
    used: set[str] = set()
    for part in PARTS:
        mine = sorted((c for c in pool if c.part is part), key=lambda c: -c.score)
        if not mine:
            continue
        words = budget * part.share
        notes = _notes(w, mine)
        lead = w.grounded_sentences(
            render("prompt_paper_part.j2", notes=notes, starter=part.starter, strict=False),
            render("prompt_paper_part.j2", first=mine[0].text, strict=True),
            want=1, max_tokens=48, exclude=used, anchor=mine[0].text,
        )
        spent = 0.0
        for text, grounded, support, origin in lead:
            text = third_person(text) if len(w.authors) != 1 else text
            if w.add(text, part.name, 0, origin=origin, grounded=grounded, support=support):
                used.add(support if origin == "source" else text)
                spent += len(text.split())
        chosen: list[Candidate] = []
        for c in mine:
            if spent >= words:
                break
            if c.text in used or w.repeats(c.text, others=[o.text for o in chosen]):
                continue
            chosen.append(c)
            used.add(c.text)
            spent += len(c.text.split())
        for c in sorted(chosen, key=lambda c: c.order):
            text = third_person(c.text) if len(w.authors) != 1 else c.text
            w.add(text, part.name, 1, origin="source", grounded=True, support=c.text)
    w.add_template("script_paper_outro.j2", CLOSING, 0, **values)


_WE = {"we": "the authors", "our": "their", "ours": "theirs", "us": "them", "ourselves": "themselves"}
_WE_PATTERN = re.compile(r"\b(we|our|ours|us|ourselves)\b", re.I)


def third_person(sentence: str) -> str:
    """'We propose X' -> 'The authors propose X': the host reports, the authors' "we" is theirs.

    "we" and "the authors" are both plural, so the verbs stay right.
    """
    def swap(m: re.Match[str]) -> str:
        word = m.group(1)
        if word == "US":  # the country, not the pronoun
            return word
        said = _WE[word.lower()]
        return said[0].upper() + said[1:] if word[0].isupper() else said

    return _WE_PATTERN.sub(swap, sentence)


def _notes(w: Writer, ranked: list[Candidate], limit_chars: int = 900) -> str:
    """The part's best sentences, as many as fit a short prompt, in the paper's order."""
    picked, size = [], 0
    for c in ranked:
        if size + len(c.text) > limit_chars and picked:
            break
        picked.append(c)
        size += len(c.text) + 1
    return "\n".join(c.text for c in sorted(picked, key=lambda c: c.order))

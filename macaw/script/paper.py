"""A paper episode as a guided tour: opening, what it is about, the problem, what the authors
did, the results, limitations, closing; each chapter opened by a short spoken signpost.

Map, then reduce, so a long paper works on a small model:
  map     every sentence of the abstract and of the body (appendices left out) is made fit to
          be heard (macaw/script/listening.py: citations, figure and table references, URLs and
          section numbers dropped or said as a person would, math in words by
          macaw/script/math.py) or dropped whole: a fragment, debris, math that cannot be said;
          each kept sentence is scored (how central it is to the title and abstract, numbers
          for results, hedges for limitations) and sorted into a chapter by its section's
          heading and position;
  reduce  each chapter takes its best sentences, read in the paper's order, up to its share of
          the target length (`[script] minutes`, about 150 spoken words a minute). A chapter
          never opens with a sentence that leans on one not read ("This", "It", "Table 2").
The model's job scales with the model (`[script] style`): the bundled 135M model only shortens
one long source sentence at a time ("shorten"); a capable one writes each chapter in its own
words from the chapter's notes ("explain"). Either way every sentence it writes goes through
the gate (macaw/script/grounding.py: judge/claim) against the source sentences it claims, and
the script counts what the model offered, what was accepted and what was refused.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from macaw.script.grounding import (NEAR_COPY, claim, content_words, copy_problems, judge, longest_copied_run, numbers_in,
                                    stem)
from macaw.script.listening import (LEANING, defined_acronyms, expand_acronyms, leans, listenable, rejoin_hyphens,
                                    said_names, spaced_compounds, spoken_acronyms, strip_references, unshouted, vocabulary)
from macaw.script.math import SPOKEN_TERMS, is_display, spans
from macaw.script.spoken import split_sentences, to_spoken
from macaw.script.writer import CLOSING, INTRO, Writer, llm_sentences, name_list, render

WORDS_PER_MINUTE = 150
ABOUT = "What it is about"


@dataclass(frozen=True)
class Part:
    name: str  # the chapter title
    signpost: str  # the spoken line that opens the chapter
    share: float  # of the episode's words
    headings: tuple[str, ...]  # heading words that put a section in this part


PROBLEM = Part("The problem", "First, the problem the paper takes on.", 0.22,
               ("introduction", "background", "motivation", "overview", "problem", "preliminar"))
METHOD = Part("What the authors did", "Next, what the authors did.", 0.30,
              ("method", "approach", "model", "architecture", "design", "algorithm", "framework", "system",
               "training", "implementation", "setup", "data", "proposed", "formulation", "technique"))
RESULTS = Part("Key results", "Now to the results.", 0.30,
               ("result", "experiment", "evaluation", "analysis", "benchmark", "ablation", "performance",
                "comparison", "study", "finding"))
LIMITS = Part("Limitations and open questions", "Finally, the limits of the work, and what stays open.", 0.18,
              ("limitation", "discussion", "conclusion", "future", "impact", "open", "threat", "caveat"))
PARTS = (PROBLEM, METHOD, RESULTS, LIMITS)

SKIP_HEADINGS = ("reference", "bibliograph", "acknowledg", "appendix", "contribution", "checklist", "supplementa",
                 "author", "funding", "declaration", "conflict", "data availability", "code availability")
_HEDGES = re.compile(r"\b(limit\w*|future|however|remain\w*|open|cannot|unclear|only|fail\w*|challeng\w*|not yet|leave)\b", re.I)
_OUR = re.compile(r"\b(we|our|this paper|this work)\b", re.I)
SHORTEN_OVER = 28  # words: a source sentence longer than this is offered to a small model to shorten
SHORTEN_PER_CHAPTER = 2  # offers a chapter: each is a model call (about 1-2 s on a laptop CPU)


@dataclass
class Candidate:
    text: str  # fit to be heard (math in words, references dropped)
    source: str  # as the paper has it
    part: Part
    order: int  # position in the document
    score: float
    after: int = -1  # the order of the sentence before it in the same paragraph (-1: it opens one)
    written: str = ""  # the source with its line-break hyphens rejoined and its defined acronyms in words


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


def candidates(w: Writer) -> tuple[list[Candidate], list[str]]:
    """The map: every sentence fit to be heard, scored and sorted into a part; and the display equations."""
    doc = w.document
    key = Counter(stem(t) for t in content_words(doc.title + " " + doc.abstract))
    out: list[Candidate] = []
    equations: list[str] = []
    order = 0
    latex = doc.origin_format == "latex"
    words = vocabulary(doc.full_text())
    acronyms = defined_acronyms(doc.full_text())
    body = [s for s in doc.sections if not s.appendix]
    if not body and doc.sections:  # every section marked appendix: a marking mistake, not a paper of appendices
        body = [s for s in doc.sections if "appendix" not in s.heading.lower()]
    total = max(1, len(body))

    def add(sentence: str, part: Part, in_section: int, previous: int) -> int:
        nonlocal order
        order += 1
        written = said_names(expand_acronyms(rejoin_hyphens(sentence, words), acronyms))
        text = listenable(written, latex=latex)
        if text is None:
            return -1
        stems = {stem(t) for t in content_words(text)}
        if not stems:
            return -1
        central = sum(min(key[s], 3) * w.index._idf.get(s, 1.0) for s in stems) / math.sqrt(len(stems))
        score = central
        if part is RESULTS and numbers_in(text):
            score *= 1.6
        if part is LIMITS and _HEDGES.search(text):
            score *= 1.8
        if part is METHOD and _OUR.search(text):
            score *= 1.3
        score *= 1.0 / (1.0 + 0.05 * in_section)  # the opening of a section says what it is about
        # What the sentence is judged against: the paper's words as the listener hears them named ("Finn and colleagues").
        out.append(Candidate(text, sentence, part, order, score, previous, said_names(strip_references(written))))
        return order

    def paragraph(sentences: list[str], part_of: Any, start: int) -> int:
        previous, n = -1, start
        for i, sentence in enumerate(sentences):
            mine = add(sentence, part_of(i), n, previous)
            previous = mine  # a dropped sentence breaks the chain: what follows may lean on it
            n += 1
        return n

    abstract = split_sentences(doc.abstract)

    def abstract_part(i: int) -> Part:
        third = i * 3 // max(1, len(abstract))
        return RESULTS if numbers_in(abstract[i]) and third > 0 else (PROBLEM, METHOD, RESULTS)[min(third, 2)]

    paragraph(abstract, abstract_part, 0)
    for i, section in enumerate(body):
        part = part_for(section.heading, i / total)
        if part is None:
            continue
        n = 0
        for block in re.split(r"\n\s*\n", section.text):
            if is_display(block):
                equations.extend(spans(block))
                continue
            n = paragraph(split_sentences(block), lambda _i, p=part: p, n)
    return out, equations


def about(w: Writer, pool: list[Candidate]) -> list[Candidate]:
    """One or two plain sentences from the abstract that say what the paper is about."""
    abstract = [c for c in pool if c.source in set(split_sentences(w.document.abstract))]
    picked: list[Candidate] = []
    for c in abstract:
        if len(c.text.split()) > 40 or (not picked and leans(c.text)):
            continue
        if picked and c.after != picked[-1].order:
            break
        picked.append(c)
        if len(picked) == 2:
            break
    return picked


def choose(mine: list[Candidate], words: float, used: set[str], w: Writer) -> list[Candidate]:
    """A chapter's sentences: the best first, up to `words`, in the paper's order, none leaning on one not read."""
    chosen: list[Candidate] = []
    spent = 0.0
    by_order = {c.order: c for c in mine}
    for c in sorted(mine, key=lambda c: -c.score):
        if spent >= words:
            break
        if c.text in used or w.repeats(c.text, others=[o.text for o in chosen]):
            continue
        group = [c]
        if leans(c.text):  # read it only with the sentence it leans on, just before it
            before = by_order.get(c.after)
            if before is None or (before not in chosen and (leans(before.text) or before.text in used)):
                continue
            group = [c] if before in chosen else [before, c]
        for g in group:
            chosen.append(g)
            used.add(g.text)
            spent += said_words(w, g.text)
    return _in_order(chosen)


def said_words(w: Writer, text: str) -> int:
    """How many words the voice says for a sentence: the length is spoken words, and a paper's
    "OPT-175B on 992 80GB A100 GPUs" is 6 words written, 19 said (2205.01068 ran 10.5 minutes
    for a budget counted in written words)."""
    return len(to_spoken(text, w.lexicon).split())


def _in_order(chosen: list[Candidate]) -> list[Candidate]:
    """A chapter's sentences in the paper's order. None opens leaning on a sentence not read; a
    leaning one further on keeps its antecedent right before it, or goes."""
    kept: list[Candidate] = []
    for c in sorted(chosen, key=lambda c: c.order):
        if leans(c.text) and (not kept or kept[-1].order != c.after):
            continue
        kept.append(c)
    return kept


def style_of(w: Writer) -> str:
    """'explain' for a capable model, 'shorten' for the bundled 135M one (`[script] style`, default auto)."""
    style = str(getattr(w.ctx.config.script, "style", "") or "auto")
    if style != "auto":
        return style
    cfg = w.ctx.config.llm
    if cfg.engine == "openai":
        return "explain"
    params = getattr(w.llm, "parameters", None)
    if isinstance(params, (int, float)) and params > 1e9:
        return "explain"
    m = re.search(r"(\d+(?:\.\d+)?)\s*[bB](?![a-zA-Z])", str(cfg.model or ""))
    return "explain" if m and float(m.group(1)) > 1 else "shorten"


def _unlabelled(draft: str) -> str:
    """A reply's "Sentence:" label off (llm_sentences does it for a whole reply; a labelled set holds drafts)."""
    return re.sub(r"^(?:shorter |shortened |new )?sentence:\s*", "", draft.strip(), flags=re.I)


def gate_shortened(draft: str, source: str) -> tuple[str, str]:
    """The gate on a shortened sentence: (the sentence as heard, "") when accepted, else ("", why)."""
    said = listenable(_unlabelled(draft))
    heard = listenable(source) or source
    if said is None:
        return "", "not a whole sentence a listener can follow"
    if len(said.split()) >= len(heard.split()):
        return "", "not shorter than its source sentence"
    verdict = judge(said, [source], ordered=True)
    return (said, "") if verdict.grounded else ("", "; ".join(verdict.problems))


def gate_explained(draft: str, notes: list[str], index: Any, first: bool = False) -> tuple[str, str, str]:
    """The gate on a sentence written from notes: (heard, support, "") when accepted, else ("", support, why)."""
    said = listenable(_unlabelled(draft))
    if said is None:
        return "", "", "not a whole sentence a listener can follow"
    verdict = claim(index, said, notes)
    if not verdict.grounded:
        return "", verdict.support, "; ".join(verdict.problems)
    if longest_copied_run(said, verdict.support) >= NEAR_COPY:  # mostly a copy: judged as one
        problems = copy_problems(said, verdict.support)
        if problems:
            return "", verdict.support, "; ".join(problems)
    if first and leans(said):
        return "", verdict.support, "opens a chapter leaning on a sentence not read"
    return said, verdict.support, ""


def shorten(w: Writer, c: Candidate, part: Part) -> str:
    """A small model's one job: the sentence in fewer words, every content word from it, in its order."""
    reply = w.ask(render("prompt_paper_shorten.j2", sentence=c.text), max_tokens=56, one_sentence=True)
    drafts = llm_sentences(reply)[:1]
    w.offered += len(drafts)
    for draft in drafts:
        said, why = gate_shortened(draft, c.written or c.source)
        if said:
            return said
        w.refuse(draft, [c.written or c.source], part.name, why)
    return ""


def explain(w: Writer, notes: list[Candidate], part: Part) -> list[tuple[str, str]]:
    """A capable model's job: the chapter in its own words, 3 to 8 sentences, each through the gate."""
    reply = w.ask(render("prompt_paper_explain.j2", notes="\n".join(c.text for c in notes), chapter=part.name),
                  max_tokens=400)
    pool = [c.text for c in notes]
    out: list[tuple[str, str]] = []
    drafts = llm_sentences(reply)[:8]
    w.offered += len(drafts)
    for draft in drafts:
        said, support, why = gate_explained(draft, pool, w.index, first=not out)
        if said:
            out.append((said, support))
        else:
            w.refuse(draft, [support] if support else [], part.name, why)
    return out


def write(w: Writer, minutes: float) -> None:
    cfg, doc, source = w.ctx.config, w.document, w.source
    w.lexicon = _with_terms(w.lexicon, spoken_acronyms(doc.full_text()))
    authors = name_list(w.authors, 8 if len(w.authors) <= 8 else 6)
    arxiv_id = str(source.metadata.get("arxiv_id") or (source.id.removeprefix("arxiv-") if source.kind == "arxiv" else ""))
    values = dict(show=cfg.show.title, title=unshouted(doc.title or source.title), authors=authors, arxiv_id=arxiv_id)
    w.add_template("script_paper_intro.j2", INTRO, 0, **values)

    pool, equations = candidates(w)
    w.equations = equations
    budget = max(60, minutes * WORDS_PER_MINUTE - 110)  # opening, signposts and closing take about 110 words
    used: set[str] = set()
    opening = about(w, pool)
    if opening:
        w.add_template("script_paper_about.j2", ABOUT, 0)
        for c in opening:
            w.add_source(third_person(c.text, w), ABOUT, 1, c.written or c.source)
            used.add(c.text)
        budget -= sum(said_words(w, c.text) for c in opening)
    style = w.style = style_of(w)
    plan: dict[str, list[Candidate]] = {}
    for part in PARTS:
        plan[part.name] = choose([c for c in pool if c.part is part and c.text not in used], budget * part.share, used, w)
    # A part short of sentences leaves its words to the others, the method and results first.
    for part in (METHOD, RESULTS, PROBLEM, LIMITS):
        deficit = budget - sum(said_words(w, c.text) for chosen in plan.values() for c in chosen)
        if deficit < 20:
            break
        extra = choose([c for c in pool if c.part is part and c.text not in used], deficit, used, w)
        plan[part.name] = _in_order(plan[part.name] + extra)
    for part in PARTS:
        chosen = plan[part.name]
        if not chosen:
            continue
        w.add(part.signpost, part.name, 0, origin="template", support="(episode structure)")
        if style == "explain":
            written = explain(w, chosen, part)
            if len(written) >= 3:
                for text, support in written:
                    w.add_model(third_person(text, w), part.name, 1, support)
                continue
        offers = 0
        for c in chosen:
            text = c.text
            if style == "shorten" and offers < SHORTEN_PER_CHAPTER and len(text.split()) > SHORTEN_OVER and not leans(text):
                offers += 1
                short = shorten(w, c, part)
                if short:
                    w.add_model(third_person(short, w), part.name, 1, c.written or c.source)
                    continue
            w.add_source(third_person(text, w), part.name, 1, c.written or c.source)
    w.add_template("script_paper_outro.j2", CLOSING, 0, **values)
    for sentence in w.sentences:
        sentence.spoken = spaced_compounds(sentence.spoken)


def _with_terms(lexicon: object, acronyms: dict[str, str]) -> dict[str, str]:
    """The voice's lexicon for a paper: its pronounceable acronyms as words, the metric and model
    names (SPOKEN_TERMS), then the user's own lexicon over both."""
    table = {**acronyms, **SPOKEN_TERMS}
    if isinstance(lexicon, dict):
        table.update(lexicon)
    elif lexicon:
        table.update({term: term.capitalize() for term in lexicon})  # type: ignore[union-attr]
    return table


_WE = {"we": "the authors", "our": "their", "ours": "theirs", "us": "them", "ourselves": "themselves"}
_LET_US = re.compile(r"\b([Ll])et(?:\s+us\s+|'s\s+)(?=[a-z])")
_WE_PATTERN = re.compile(r"\b(we|our|ours|us|ourselves)\b", re.I)


def third_person(sentence: str, w: Writer | None = None) -> str:
    """'We propose X' -> 'The authors propose X': the host reports, the authors' "we" is theirs.

    "we" and "the authors" are both plural, so the verbs stay right. A paper by one author
    keeps its "we" (the author's own plural of modesty).
    """
    if w is not None and len(w.authors) == 1:
        return sentence

    def swap(m: re.Match[str]) -> str:
        word = m.group(1)
        if word == "US":  # the country, not the pronoun
            return word
        said = _WE[word.lower()]
        return said[0].upper() + said[1:] if word[0].isupper() else said

    # "Let us recall the definition" is the authors at work: "The authors recall the definition"
    # ("Let them recall" is a command to someone else).
    sentence = _LET_US.sub(lambda m: "The authors " if m.group(1) == "L" else "the authors ", sentence)
    return _WE_PATTERN.sub(swap, sentence)


__all__ = ["LEANING", "candidates", "part_for", "third_person", "write"]

"""The artifacts stages pass along, one dataclass each, saved as JSON in the episode folder.

Each has `to_dict`/`from_dict`; `from_dict` ignores keys it does not know, so an episode
folder written by a newer Macaw still loads.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from macaw.fsutil import atomic_write_text

T = TypeVar("T", bound="Artifact")


class Artifact:
    filename: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        kwargs = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name not in data:
                continue
            value = data[f.name]
            nested = _NESTED.get((cls.__name__, f.name))
            if nested is not None and value is not None:
                value = [nested.from_dict(v) for v in value]
            kwargs[f.name] = value
        return cls(**kwargs)

    def save(self, folder: Path) -> Path:
        path = folder / self.filename
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return path

    @classmethod
    def load(cls: type[T], folder: Path) -> T:
        return cls.from_dict(json.loads((folder / cls.filename).read_text(encoding="utf-8")))


@dataclass
class Author(Artifact):
    name: str
    affiliation: str = ""


@dataclass
class Source(Artifact):
    """What fetch found: who wrote it, where it came from, and the raw text or file."""

    filename = "source.json"
    kind: str  # journal | arxiv | pdf
    id: str  # the episode id, derived from the source, e.g. journal-2024-10-14-normalization
    title: str
    authors: list[Author] = field(default_factory=list)
    date: str = ""  # ISO date
    origin: str = ""  # path or URL it came from
    raw_file: str = ""  # the copy inside the episode folder (source.md, source.pdf)
    extra_files: list[str] = field(default_factory=list)  # other fetched files in the folder (a LaTeX e-print)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Section(Artifact):
    heading: str
    text: str  # paragraphs separated by blank lines; math inside MATH_OPEN ... MATH_CLOSE
    level: int = 1  # 1 section, 2 subsection, ...
    appendix: bool = False  # kept in the document, left out of the default episode


# Math is kept as written (LaTeX from a source, the text layer's glyphs from a PDF) between these
# marks, inline or as a paragraph of its own (a display equation), so that the script stage can
# say it in words or leave it out; nothing downstream may read it raw.
MATH_OPEN, MATH_CLOSE = "\u27e6", "\u27e7"  # ⟦ ⟧


@dataclass
class Document(Artifact):
    filename = "document.json"
    title: str
    authors: list[Author] = field(default_factory=list)
    abstract: str = ""
    date: str = ""
    sections: list[Section] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)  # figure and table captions: show notes, never read
    code: list[str] = field(default_factory=list)  # code blocks of a journal entry: show notes, never read
    origin_format: str = ""  # latex | pdf | markdown | html: what the text was extracted from
    fallback: str = ""  # why the preferred source (an arXiv paper's LaTeX) was not used, if it was not

    def full_text(self) -> str:
        return "\n\n".join(p for p in [self.title, self.abstract, *(s.text for s in self.sections)] if p)


@dataclass
class Sentence(Artifact):
    text: str  # as the listener reads it in the transcript
    spoken: str  # what the voice says (spoken-form)
    segment: str  # the part it belongs to: intro, a section heading, outro
    paragraph: int = 0  # index within the segment; a change means a longer pause
    grounded: bool = True
    support: str = ""  # the source passage that supports it
    origin: str = "source"  # source (read verbatim) | llm | template


@dataclass
class Script(Artifact):
    filename = "script.json"
    title: str
    sentences: list[Sentence] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)
    # The gate's counts, computed by the writer: sentences the model offered, accepted, refused.
    offered: int = 0
    accepted: int = 0
    refused: int = 0
    refusals: list[dict[str, str]] = field(default_factory=list)  # text, claimed, segment, why
    equations: list[str] = field(default_factory=list)  # display equations (LaTeX): show notes only
    style: str = ""  # shorten | explain: what the model was asked to do

    def acceptance_rate(self) -> float | None:
        return self.accepted / self.offered if self.offered else None

    def notes(self) -> dict[str, Any]:
        """What the show notes say about the script: the model's sentences and the gate's counts."""
        return {"model_sentences": [s.text for s in self.sentences if s.origin == "llm"],
                "offered": self.offered, "accepted": self.accepted, "refused": self.refused,
                "equations": list(self.equations), "style": self.style}

    def segments(self) -> list[str]:
        seen: list[str] = []
        for s in self.sentences:
            if not seen or seen[-1] != s.segment:
                seen.append(s.segment)
        return seen

    def grounded_ratio(self) -> float:
        return sum(s.grounded for s in self.sentences) / len(self.sentences) if self.sentences else 0.0

    def to_markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        current = None
        paragraph = None
        for s in self.sentences:
            if s.segment != current:
                lines += ["", f"## {s.segment}", ""]
                current, paragraph = s.segment, s.paragraph
            elif s.paragraph != paragraph:
                lines += [""]
                paragraph = s.paragraph
            mark = "" if s.grounded else " [ungrounded]"
            lines.append(s.text + mark)
        return "\n".join(lines).strip() + "\n"


@dataclass
class SpokenSentence(Artifact):
    index: int
    start: float
    end: float


@dataclass
class Narration(Artifact):
    """Speak's output: narration.wav plus where each sentence lies in it."""

    filename = "narration.json"
    audio: str
    sample_rate: int
    duration_s: float
    sentences: list[SpokenSentence] = field(default_factory=list)
    voice: str = ""


@dataclass
class SentenceQuality(Artifact):
    index: int
    wer: float
    reference: str
    heard: str
    start: float = 0.0
    end: float = 0.0
    words: int = 0  # script words, after the spoken-form normaliser
    errors: int = 0  # substitutions + deletions + insertions
    retries: int = 0  # alternative spoken forms tried for this sentence
    spoken: str = ""  # the alternative spoken form now in the audio, when a retry was kept
    relistened: bool = False  # what was heard in it comes from check's careful second listen
    diff: list[list[str]] = field(default_factory=list)  # [kind, script word, heard word] per aligned word


@dataclass
class Quality(Artifact):
    filename = "quality.json"
    wer: float
    threshold: float
    passed: bool
    words: int
    sentences: list[SentenceQuality] = field(default_factory=list)
    worst: list[int] = field(default_factory=list)
    retries: int = 0
    asr_model: str = ""
    wer_first_pass: float = 0.0  # the greedy first listen, before any second listen or retake
    relistened: int = 0  # sentences whose doubted stretches were heard a second time (beam search)
    audio: str = ""  # the audio master reads: speak's narration, or check's checked.wav with retakes
    duration_s: float = 0.0  # of that audio
    spans: list[SpokenSentence] = field(default_factory=list)  # each sentence's place in that audio


@dataclass
class Chapter(Artifact):
    title: str
    start: float
    end: float = 0.0


@dataclass
class Master(Artifact):
    filename = "master.json"
    audio: str
    duration_s: float
    size_bytes: int
    lufs: float
    true_peak_db: float
    chapters: list[Chapter] = field(default_factory=list)


@dataclass
class Manifest(Artifact):
    """episode.json: everything the feed and pages need about one published episode."""

    filename = "episode.json"
    id: str
    guid: str
    title: str
    kind: str
    authors: list[Author] = field(default_factory=list)
    date: str = ""
    published: str = ""  # RFC 3339, when this episode first entered the feed
    summary: str = ""
    duration_s: float = 0.0
    audio: str = "episode.mp3"
    size_bytes: int = 0
    chapters: list[Chapter] = field(default_factory=list)
    quality: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


_NESTED: dict[tuple[str, str], type[Artifact]] = {
    ("Source", "authors"): Author,
    ("Document", "authors"): Author,
    ("Document", "sections"): Section,
    ("Quality", "spans"): SpokenSentence,
    ("Script", "sentences"): Sentence,
    ("Narration", "sentences"): SpokenSentence,
    ("Quality", "sentences"): SentenceQuality,
    ("Master", "chapters"): Chapter,
    ("Manifest", "authors"): Author,
    ("Manifest", "chapters"): Chapter,
}

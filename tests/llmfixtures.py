"""Test helpers for the write stage: a scripted fake LLM and real journal entries as Documents.

The fake registers as `llm.fake` through macaw.engines.register, exactly as a plugin would.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import pytest

from macaw import engines
from macaw.artifacts import Author, Document, Section, Source
from macaw.config import Config
from macaw.stage import StageContext

def _journals() -> Path:
    # shared/ sits beside the checkout (…/shared next to …/macaw), or higher up for a worktree.
    here = Path(__file__).resolve()
    for parent in here.parents[1:]:
        if (parent / "shared" / "journals").is_dir():
            return parent / "shared" / "journals"
    return here.parents[2] / "shared" / "journals"


JOURNALS = _journals()


class FakeLLM:
    """Answers from a script: a list of replies (used in turn) or a function of the prompt."""

    model_name = "fake-llm"
    context_tokens = 2048

    def __init__(self, replies: list[str] | Callable[[str], str]):
        self.replies = replies
        self.prompts: list[str] = []

    def generate(self, messages: list[dict[str, str]], *, max_tokens: int, seed: int) -> str:
        prompt = messages[-1]["content"]
        self.prompts.append(prompt)
        if callable(self.replies):
            return self.replies(prompt)
        return self.replies[min(len(self.prompts) - 1, len(self.replies) - 1)] if self.replies else ""

    def fingerprint(self) -> dict[str, Any]:
        return {"engine": "fake"}


def use_fake(replies: list[str] | Callable[[str], str]) -> FakeLLM:
    fake = FakeLLM(replies)
    engines.register("llm.fake", lambda settings: fake)
    return fake


def context(tmp_path: Path, **settings: Any) -> StageContext:
    config = Config(out=tmp_path)
    config.llm.engine = "fake"
    for dotted, value in settings.items():
        section, _, key = dotted.partition("__")
        setattr(getattr(config, section), key, value)
    return StageContext(config=config, folder=tmp_path / "episodes" / "test", episode_id="test")


def journal_path(name: str) -> Path:
    path = JOURNALS / name
    if not path.is_file():
        pytest.skip(f"journal fixture {path} is not there (tests expect a checkout beside shared/)")
    return path


def journal_document(path: Path, author: str = "Ada Writer") -> tuple[Document, Source]:
    """A plain-text journal entry as a Document: first line the title, short lines headings."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")) if b.strip()]
    first, _, rest = blocks.pop(0).partition("\n")
    title = first.strip()
    if rest.strip():
        blocks.insert(0, rest.strip())
    sections: list[Section] = []
    for block in blocks:
        is_heading = "\n" not in block and len(block) < 60 and block[-1] not in ".!?:"
        if is_heading:
            sections.append(Section(heading=block, text=""))
        else:
            if not sections:
                sections.append(Section(heading="", text=""))
            sections[-1].text = (sections[-1].text + "\n\n" + block).strip()
    sections = [s for s in sections if s.text]
    m = re.match(r"(\d{4}-\d{2}-\d{2})", path.name)
    date = m.group(1) if m else ""
    authors = [Author(author)] if author else []
    doc = Document(title=title, authors=authors, date=date, sections=sections)
    source = Source(kind="journal", id=f"journal-{path.stem}", title=title, authors=authors, date=date, origin=str(path))
    return doc, source

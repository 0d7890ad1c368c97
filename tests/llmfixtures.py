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
from macaw.stages.context import StageContext

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


# -- a paper-like document ---------------------------------------------------------------------

_POOLS = {
    "problem": [
        "Speech recognition for low-resource languages remains difficult because labelled audio is scarce and expensive to collect.",
        "Most of the world's {n} languages have fewer than {m} hours of transcribed speech available for training.",
        "Large multilingual models such as Whisper transfer poorly to languages that were rare in their pre-training data.",
        "Fine-tuning every parameter of a large model for each new language is costly and often overfits small datasets.",
        "Adapters reduce this cost by training a few small modules while the backbone stays frozen.",
        "However, a single adapter shared across all layers cannot capture how acoustic and linguistic features change with depth.",
        "We ask whether a sparse mixture of adapters can match full fine-tuning with a fraction of the trainable parameters.",
        "Prior work on parameter-efficient transfer focused on text tasks, where inputs are short and tokens are discrete.",
    ],
    "method": [
        "We propose Sparse Mixture Adapters, which insert {k} small adapters after every feed-forward block of the encoder.",
        "A learned router selects the top {j} adapters for each audio frame, so most adapters stay idle for any given input.",
        "Each adapter is a two-layer bottleneck network with a hidden size of {h} and a residual connection.",
        "The router is trained with a load-balancing loss that keeps every adapter in use during training.",
        "We keep the pre-trained encoder and decoder frozen and train only the adapters, the router and the output layer.",
        "Training uses AdamW with a learning rate of {lr} and a batch of {b} utterances for {s} steps.",
        "Our implementation adds {p} million trainable parameters, which is {q}% of the full model.",
        "We initialise the adapters near the identity function so the frozen model's behaviour is preserved at the start of training.",
        "The data comes from the Common Voice and FLEURS corpora, covering {L} languages with {m} hours of speech each on average.",
    ],
    "results": [
        "Sparse Mixture Adapters reach a word error rate of {w1}% on FLEURS, compared with {w2}% for full fine-tuning.",
        "On the {L} lowest-resource languages the mixture improves the word error rate by {d} points over a single adapter.",
        "Training is {x} times faster than full fine-tuning and uses {g} GB less memory per device.",
        "With only {m} hours of speech, the mixture still beats the frozen baseline by {d} points.",
        "Removing the load-balancing loss raises the word error rate by {d} points because a few adapters take all the traffic.",
        "Using {j} active adapters per frame gives the best trade-off between accuracy and compute.",
        "The gains are largest for tonal languages, where the word error rate drops by {d2} points.",
        "Table {t} shows that the router learns to send silence and speech frames to different adapters.",
    ],
    "limits": [
        "Our study is limited to {L} languages, and all of them have at least {m} hours of transcribed speech.",
        "The router adds a small latency of {ms} milliseconds per second of audio, which matters for streaming use.",
        "We have not yet tested the method on conversational speech, where background noise is common.",
        "It remains unclear whether the adapters learned for one language can be reused for a related language.",
        "Future work should study how the number of adapters should grow with the number of languages.",
        "Finally, our results rely on a single backbone model, and other backbones may behave differently.",
    ],
}
_SECTIONS = [
    ("1 Introduction", "problem", 900), ("2 Related Work", "problem", 700), ("3 Method", "method", 1300),
    ("3.1 Routing", "method", 700), ("4 Experimental Setup", "method", 800), ("5 Results", "results", 1300),
    ("6 Ablations", "results", 700), ("7 Discussion and Limitations", "limits", 700), ("8 Conclusion", "limits", 300),
    ("References", "problem", 300),
]


def paper_document(pages: int = 15, seed: int = 0) -> tuple[Document, Source]:
    """A synthetic paper of about 500 words a page: real-looking prose with numbers in it."""
    import random

    rng = random.Random(seed)
    scale = pages * 500 / sum(size for _, _, size in _SECTIONS)

    def fill(template: str) -> str:
        return template.format(
            n=rng.choice([7000, 6500, 7100]), m=rng.choice([10, 20, 50, 100]), k=rng.choice([4, 8, 16]),
            j=rng.choice([1, 2]), h=rng.choice([64, 128, 256]), lr=rng.choice(["1e-4", "3e-4"]),
            b=rng.choice([16, 32, 64]), s=rng.choice([20000, 50000]), p=rng.choice([3.1, 6.2, 12.4]),
            q=rng.choice([0.4, 0.8, 1.6]), L=rng.choice([12, 24, 36]), w1=rng.choice([18.2, 21.5, 24.9]),
            w2=rng.choice([17.9, 21.1, 24.3]), d=rng.choice([1.2, 2.4, 3.1, 4.7]), d2=rng.choice([5.3, 6.8]),
            x=rng.choice([2.5, 3, 4]), g=rng.choice([9, 14, 22]), t=rng.choice([2, 3, 4]), ms=rng.choice([4, 7, 11]),
        )

    sections = []
    for heading, pool, size in _SECTIONS:
        words, paras = 0, []
        if heading == "References":
            refs = [f"[{i}] A. Author and B. Writer. A study of speech number {i}. In Proc. Interspeech, 20{10 + i % 14}." for i in range(1, 25)]
            sections.append(Section(heading=heading, text="\n".join(refs)))
            continue
        while words < size * scale:
            sentences = [fill(rng.choice(_POOLS[pool])) for _ in range(rng.randint(3, 6))]
            paras.append(" ".join(dict.fromkeys(sentences)))
            words += len(paras[-1].split())
        sections.append(Section(heading=heading, text="\n\n".join(paras)))
    abstract = " ".join(fill(_POOLS[p][i]) for p, i in (("problem", 0), ("problem", 6), ("method", 0), ("results", 0), ("results", 2)))
    authors = [Author("Maya Okafor", "University of Lagos"), Author("Jonas Lindqvist", "KTH Royal Institute of Technology"),
               Author("Priya Raman", "University of Lagos"), Author("Wei Chen"), Author("Sofia Alvarez"),
               Author("Tom Becker"), Author("Hana Sato"), Author("Leo Martin")]
    title = "Sparse Mixture Adapters for Low-Resource Speech Recognition"
    doc = Document(title=title, authors=authors, abstract=abstract, date="2024-05-02", sections=sections)
    source = Source(kind="arxiv", id="arxiv-2405.01234", title=title, authors=authors, date="2024-05-02",
                    origin="https://arxiv.org/abs/2405.01234", metadata={"arxiv_id": "2405.01234"})
    return doc, source

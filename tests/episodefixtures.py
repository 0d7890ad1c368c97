"""Fixture episodes for the publish tests: real artifacts and a tiny real MP3, dates pinned."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from macaw.artifacts import (
    Author,
    Chapter,
    Document,
    Manifest,
    Narration,
    Master,
    Quality,
    Script,
    Sentence,
    SentenceQuality,
    Source,
)
from macaw.config import Config, ShowConfig
from macaw.stages.context import StageContext

BASE_URL = "https://pod.example.org/macaw"
PINNED = datetime(2024, 10, 14, 6, 30, tzinfo=timezone.utc)
SAMPLE_RATE = 22050


def make_config(out: Path, **show: object) -> Config:
    settings = {"base_url": BASE_URL, "title": "Macaw Test Show", "author": "Macaw Host",
                "email": "host@example.org", **show}
    return Config(show=ShowConfig(**settings), out=out)  # type: ignore[arg-type]


def make_mp3(path: Path, seconds: float = 3.0, freq: float = 440.0) -> bytes:
    """A real MP3 (libsndfile's encoder) with a tone, so browsers can decode and seek it."""
    import soundfile as sf

    t = np.arange(int(seconds * SAMPLE_RATE), dtype=np.float32) / SAMPLE_RATE
    audio = (0.2 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, SAMPLE_RATE, format="MP3")
    return path.read_bytes()


SENTENCES = [
    ("intro", "Welcome to the show."),
    ("intro", "Today we read a paper about attention."),
    ("Method", "The model uses only attention, no recurrence."),
    ("Method", "It trains faster on eight GPUs."),
    ("outro", "Thanks for listening."),
]


def make_episode(
    config: Config,
    episode_id: str = "arxiv-1706.03762",
    *,
    kind: str = "arxiv",
    title: str = "Attention Is All You Need",
    authors: list[tuple[str, str]] | None = None,
    abstract: str = "The dominant sequence transduction models are based on recurrent networks.\n\nWe propose the Transformer.",
    metadata: dict | None = None,
    seconds: float = 3.0,
    freq: float = 440.0,
    published: datetime = PINNED,
    sentences: list[tuple[str, str]] | None = None,
    run_stage: bool = True,
    audio_bytes: bytes | None = None,
) -> Manifest:
    """Write every artifact the publish stage reads, plus the MP3, then run the stage.

    `audio_bytes` replaces the real MP3 where exact output matters more than playable audio.
    """
    # Not `from macaw import publish`: macaw/__init__.py defines a function by that name.
    from macaw.stages.publish import run

    folder = config.episodes_dir / episode_id
    folder.mkdir(parents=True, exist_ok=True)
    authors = authors if authors is not None else [("Ashish Vaswani", "Google Brain"), ("Noam Shazeer", "")]
    sentences = sentences or SENTENCES
    metadata = metadata if metadata is not None else {
        "arxiv_id": episode_id.removeprefix("arxiv-"), "version": "v7", "doi": "10.48550/arXiv.1706.03762",
        "journal_ref": "NeurIPS 2017", "categories": ["cs.CL", "cs.LG"],
    }

    # A temp name first: the real one holds the content hash, as the master stage names it.
    tmp = folder / "tmp-audio.mp3"
    if audio_bytes is None:
        data = make_mp3(tmp, seconds, freq)
    else:  # golden files: bytes that no encoder version can change
        tmp.write_bytes(audio_bytes)
        data = audio_bytes
    audio = f"episode-{hashlib.sha256(data).hexdigest()[:12]}.mp3"
    tmp.rename(folder / audio)

    source = Source(kind=kind, id=episode_id, title=title, authors=[Author(n, a) for n, a in authors],
                    date="2017-06-12", origin=f"https://arxiv.org/abs/{episode_id}", metadata=metadata)
    document = Document(title=title, authors=[Author(n, a) for n, a in authors], abstract=abstract, date="2017-06-12")
    script = Script(title=title, sentences=[Sentence(text=t, spoken=t, segment=seg, grounded=(i != 1))
                                            for i, (seg, t) in enumerate(sentences)],
                    models={"llm": "SmolLM2-135M-Instruct"})
    step = seconds / len(sentences)
    quality = Quality(wer=0.042, wer_first_pass=0.061, threshold=0.1, passed=True, words=30,
                      sentences=[SentenceQuality(index=i, wer=0.0, reference=t, heard=t,
                                                 start=round(i * step, 3), end=round((i + 1) * step - 0.05, 3))
                                 for i, (_, t) in enumerate(sentences)],
                      asr_model="tiny.en")
    segs: list[Chapter] = []
    for i, (seg, _) in enumerate(sentences):
        if not segs or segs[-1].title != seg:
            segs.append(Chapter(title=seg, start=round(i * step, 3)))
    for a, b in zip(segs, segs[1:]):
        a.end = b.start
    segs[-1].end = seconds
    master = Master(audio=audio, duration_s=seconds, size_bytes=len(data), lufs=-16.0, true_peak_db=-1.0, chapters=segs)
    for artifact in (source, document, script, quality, master):
        artifact.save(folder)
    if not run_stage:
        return None  # type: ignore[return-value]
    ctx = StageContext(config=config, folder=folder, episode_id=episode_id,
                       timings={"fetch": 0.1, "extract": 0.2})
    narration = Narration(audio="narration.wav", sample_rate=22050, duration_s=seconds)
    return run(ctx, source, document, script, narration, quality, master, now=published)


def write_manifest(config: Config, episode_id: str, published: datetime, audio_bytes: bytes = b"ID3fake") -> Manifest:
    """A published episode as publish_all sees it, without the stage (for the 1,000-episode run)."""
    from macaw.stages.publish import episode_guid

    folder = config.episodes_dir / episode_id
    folder.mkdir(parents=True, exist_ok=True)
    audio = f"episode-{hashlib.sha256(episode_id.encode()).hexdigest()[:12]}.mp3"
    (folder / audio).write_bytes(audio_bytes)
    manifest = Manifest(
        id=episode_id, guid=episode_guid(episode_id), title=f"Paper {episode_id}", kind="arxiv",
        authors=[Author("Ada Lovelace", "Analytical Engines"), Author("Alan Turing")],
        date="2024-01-01", published=published.isoformat().replace("+00:00", "Z"),
        summary="An abstract of some length. " * 20, duration_s=600.0, audio=audio, size_bytes=len(audio_bytes),
        chapters=[Chapter("Intro", 0.0, 60.0), Chapter("Method", 60.0, 400.0), Chapter("Outro", 400.0, 600.0)],
        quality={"wer": 0.05, "grounded_ratio": 0.9}, models={"llm": "SmolLM2", "tts": "piper", "asr": "tiny.en"},
        links={"abs": f"https://arxiv.org/abs/{episode_id}", "pdf": f"https://arxiv.org/pdf/{episode_id}"},
        metadata={"arxiv_id": episode_id, "version": "v1", "categories": ["cs.LG"]},
    )
    manifest.save(folder)
    return manifest

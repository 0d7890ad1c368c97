"""Master: narration.wav -> episode-<hash>.mp3 at -16 LUFS, true peak <= -1 dBTP, tagged, with chapters.

All in-process, at the voice's own rate until the encode: libebur128 measures loudness, a
look-ahead limiter holds the true peak (4x oversampled), libsoxr resamples to the feed's rate,
LAME encodes (lameenc), mutagen writes ID3 (with CHAP/CTOC chapter frames). Nothing shifts time, so the sentence times from check stay valid.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from macaw.artifacts import Chapter, Master, Narration, Quality, Script, Source
from macaw.audio import limit, loudness_lufs, peak_envelope, read_audio, resample, true_peak_db
from macaw.errors import EmptyOutputError
from macaw.fsutil import atomic_replace, temp_path_for
from macaw.stages.context import Stage, StageContext


def _files(folder: Path, config) -> list[str]:
    try:
        return [Master.load(folder).audio]
    except (OSError, ValueError, KeyError, TypeError):
        return []


STAGE = Stage(
    reads=("write", "speak", "check", "fetch"),
    artifact=Master,
    files=_files,
    options=lambda config: {**config.section("master"), "show": config.show.title, "image": config.show.image},
    code=("macaw.audio",),
)

CEILING_MARGIN_DB = 0.5  # MP3 encoding overshoots peaks a little; limit below the target first
MAX_PASSES = 4
MP3_LOUDNESS_LOSS = 0.4  # LU
LAME_QUALITY = 7  # 0 best and slowest .. 9; see _encode
LOUDNESS_TOLERANCE = 0.7  # LU from the target that an encoded pass may land at


def chapters(script: Script, quality: Quality, narration: Narration, duration: float) -> list[Chapter]:
    """One chapter per part of the script, starting where its first sentence starts."""
    starts: dict[int, float] = {q.index: q.start for q in quality.sentences}
    starts_fallback = {s.index: s.start for s in (quality.spans or narration.sentences)}
    out: list[Chapter] = []
    for i, sentence in enumerate(script.sentences):
        if out and out[-1].title == sentence.segment:
            continue
        start = 0.0 if not out else starts.get(i, starts_fallback.get(i, 0.0))
        out.append(Chapter(title=sentence.segment, start=round(start, 3)))
    for a, b in zip(out, out[1:]):
        a.end = b.start
    if out:
        out[-1].end = round(duration, 3)
    return out


def _level(audio: np.ndarray, sr: int, gain_db: float, target: float, ceiling_db: float, envelope: np.ndarray) -> np.ndarray:
    """Gain to the target loudness, limited to the ceiling. Piper peak-normalises each sentence,
    so speech at -16 LUFS peaks several dB over full scale; the limiter takes loudness with it,
    so the gain is raised by what was lost until the two agree. Loudness grows smoothly with the
    gain, so after the first correction a secant step lands within 0.1 LU in two or three
    passes. The envelope of the gained signal is the gained envelope: one oversampling."""
    tried: list[tuple[float, float]] = []  # (gain, loudness reached)
    for _ in range(6):
        gain = 10 ** (gain_db / 20)
        limited = limit((audio * gain).astype(np.float32), sr, ceiling_db, envelope=envelope * gain)
        reached = loudness_lufs(limited, sr)
        if abs(target - reached) < 0.1:
            break
        tried.append((gain_db, reached))
        if len(tried) >= 2 and tried[-1][1] != tried[-2][1]:
            (g0, l0), (g1, l1) = tried[-2], tried[-1]
            slope = max(0.05, (l1 - l0) / (g1 - g0))  # LU per dB of gain, under 1 where the limiter works
            gain_db = g1 + (target - l1) / slope
        else:
            gain_db += target - reached
    return limited


def _encode(audio: np.ndarray, sample_rate: int, kbps: int, path: Path) -> None:
    """Constant-bitrate mono MP3 by LAME (lameenc) at quality 7. libsndfile's built-in LAME is
    fixed at quality 2, which took 1.6 s for the 77 s sample against 0.5 s at quality 5; quality
    7 halves that again (1111.2011's 7.4 minutes: 2.9 s at 5, 1.4 s at 7). At 96 kbps for one
    voice the bits are not short: on a minute of that episode the decoded waveform's SNR was
    25.6 dB at quality 2, 25.7 at 5 and 25.9 at 7 (not a perceptual measure, but no sign of a
    worse encode)."""
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(int(kbps))
    encoder.set_in_sample_rate(int(sample_rate))
    encoder.set_channels(1)
    encoder.set_quality(LAME_QUALITY)
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    path.write_bytes(bytes(encoder.encode(pcm)) + bytes(encoder.flush()))


def _tag(path: Path, ctx: StageContext, script: Script, source: Source, chapter_list: list[Chapter]) -> None:
    from mutagen.id3 import APIC, CHAP, COMM, CTOC, ID3, TALB, TCON, TDRC, TIT2, TPE1, CTOCFlags

    tags = ID3()
    tags.add(TIT2(encoding=3, text=script.title or source.title))
    tags.add(TALB(encoding=3, text=ctx.config.show.title))
    authors = [a.name for a in source.authors if a.name] or [ctx.config.journal.author or ctx.config.show.author]
    tags.add(TPE1(encoding=3, text=authors))
    if source.date:
        tags.add(TDRC(encoding=3, text=source.date))
    tags.add(TCON(encoding=3, text="Podcast"))
    tags.add(COMM(encoding=3, lang="eng", desc="", text=f"Made by Macaw from {source.origin or source.id}"))
    cover = _cover(ctx)
    if cover is not None:
        mime = "image/png" if cover.suffix.lower() == ".png" else "image/jpeg"
        tags.add(APIC(encoding=3, mime=mime, type=3, desc="Cover", data=cover.read_bytes()))
    ids = [f"chp{i}" for i in range(len(chapter_list))]
    if chapter_list:
        tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids, sub_frames=[TIT2(encoding=3, text="Chapters")]))
        for eid, ch in zip(ids, chapter_list):
            tags.add(CHAP(element_id=eid, start_time=int(round(ch.start * 1000)), end_time=int(round(ch.end * 1000)), sub_frames=[TIT2(encoding=3, text=ch.title)]))
    tags.save(str(path), v2_version=3)


def _cover(ctx: StageContext) -> Path | None:
    if ctx.config.show.image:
        path = Path(ctx.config.show.image).expanduser()
        path = path if path.is_absolute() else ctx.config.out / path
        return path if path.is_file() else None
    default = ctx.config.feeds_dir / "cover.png"
    return default if default.is_file() else None


def run(ctx: StageContext, script: Script, narration: Narration, quality: Quality, source: Source) -> Master:
    settings = ctx.config.master
    audio_file = quality.audio or narration.audio  # check's checked.wav when it spliced retakes in
    audio, sr = read_audio(ctx.folder / audio_file)
    if audio.size == 0 or not np.any(audio):
        raise EmptyOutputError(f"{ctx.folder / audio_file} is silent; nothing to master", hint="rebuild with --force to speak it again")
    # Loudness and the limiter work at the voice's own rate (22.05 kHz for the bundled one); only
    # what is encoded is resampled to the feed's rate. The same band-limited signal: its loudness
    # and true peak are the same figures at either rate (the encoded file is measured below), for
    # half the samples to oversample and filter.
    gain_db = settings.lufs - loudness_lufs(audio, sr)
    envelope = peak_envelope(audio)
    # Before encoding. LAME takes a little loudness (the sample: -16.0 before, -16.5 decoded, at
    # 96 kbps), so aim that much higher; a pass that still lands off corrects the target.
    target = settings.lufs + MP3_LOUDNESS_LOSS
    ceiling = settings.true_peak - CEILING_MARGIN_DB
    tmp = temp_path_for(ctx.folder / "episode.mp3")
    try:
        for attempt in range(MAX_PASSES):
            limited = _level(audio, sr, gain_db, target, ceiling, envelope)
            _encode(resample(limited, sr, settings.sample_rate), settings.sample_rate, settings.bitrate_kbps, tmp)
            decoded, decoded_sr = read_audio(tmp)
            peak = true_peak_db(decoded)
            lufs = loudness_lufs(decoded, decoded_sr)
            ctx.log(f"master: pass {attempt + 1}: {lufs:.1f} LUFS, true peak {peak:.2f} dBTP")
            # The spec is +-1 LU; +-0.7 leaves a margin and spares most episodes a second encode.
            if peak <= settings.true_peak and abs(lufs - settings.lufs) <= LOUDNESS_TOLERANCE:
                break
            gain_db += settings.lufs - lufs
            target += settings.lufs - lufs
            if peak > settings.true_peak:
                ceiling -= max(0.3, peak - settings.true_peak + 0.1)
        from mutagen.mp3 import MP3

        # The real duration: what players compute (constant bitrate: from the frames), not our sample count.
        duration = float(MP3(str(tmp)).info.length)
        chapter_list = chapters(script, quality, narration, duration)
        _tag(tmp, ctx, script, source, chapter_list)
        data = tmp.read_bytes()
        name = f"episode-{hashlib.sha256(data).hexdigest()[:8]}.mp3"
        atomic_replace(tmp, ctx.folder / name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Master(
        audio=name,
        duration_s=round(duration, 3),
        size_bytes=len(data),
        lufs=round(float(lufs), 2),
        true_peak_db=round(float(peak), 2),
        chapters=chapter_list,
    )

import numpy as np
import pytest

import voicefixtures as vf
from macaw.stages import master, speak
from macaw.artifacts import Quality, SentenceQuality
from macaw.audio import loudness_lufs, read_audio, true_peak_db, write_wav


def _speechlike(seconds: float, sr: int = 22050, seed: int = 0) -> np.ndarray:
    """Bursts of harmonic tone with peaky onsets: a crest factor like Piper's, quiet gaps between."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 110 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = (np.sin(2 * np.pi * 1.5 * t) > -0.2).astype(float) * (0.3 + 0.7 * rng.random())
    audio = voice * envelope + 0.01 * rng.standard_normal(len(t))
    return (0.99 * audio / np.abs(audio).max()).astype(np.float32)


def _episode(tmp_path, overrides=None):
    ctx = vf.context(tmp_path, overrides=overrides, engines={"tts": vf.ToneTTS(sample_rate=22050)})
    script = vf.script()
    narration = speak.run(ctx, script)
    write_wav(ctx.folder / narration.audio, _speechlike(narration.duration_s), 22050)
    quality = Quality(
        wer=0.0,
        threshold=0.05,
        passed=True,
        words=10,
        sentences=[SentenceQuality(index=s.index, wer=0.0, reference="", heard="", start=s.start + 0.05, end=s.end) for s in narration.sentences],
    )
    return ctx, script, narration, quality


def test_master_meets_loudness_and_true_peak_and_tags_chapters(tmp_path):
    from mutagen.id3 import ID3
    from mutagen.mp3 import MP3

    ctx, script, narration, quality = _episode(tmp_path)
    (ctx.config.feeds_dir).mkdir(parents=True, exist_ok=True)
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    (ctx.config.feeds_dir / "cover.png").write_bytes(png)
    result = master.run(ctx, script, narration, quality, vf.source())

    path = ctx.folder / result.audio
    assert path.name.startswith("episode-") and path.suffix == ".mp3"
    import hashlib

    assert path.name == f"episode-{hashlib.sha256(path.read_bytes()).hexdigest()[:8]}.mp3"
    assert result.size_bytes == path.stat().st_size
    decoded, sr = read_audio(path)
    assert sr == 44100
    assert loudness_lufs(decoded, sr) == pytest.approx(-16.0, abs=1.0)
    import pyloudnorm  # an independent meter, not the one master levels with

    assert pyloudnorm.Meter(sr).integrated_loudness(decoded.astype(np.float64)) == pytest.approx(-16.0, abs=1.0)
    assert true_peak_db(decoded) <= -1.0
    assert result.lufs == pytest.approx(-16.0, abs=1.0) and result.true_peak_db <= -1.0
    info = MP3(str(path)).info
    assert result.duration_s == pytest.approx(info.length, abs=1e-3)
    assert result.duration_s == pytest.approx(narration.duration_s, abs=0.1)
    assert info.channels == 1 and abs(info.bitrate / 1000 - ctx.config.master.bitrate_kbps) <= 2

    tags = ID3(str(path))
    assert str(tags["TIT2"]) == script.title
    assert str(tags["TALB"]) == ctx.config.show.title
    assert str(tags["TPE1"]) == "Ada Lovelace"
    assert str(tags["TDRC"]) == "2024-10-14"
    assert tags.getall("APIC")[0].data == png
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert [str(c.sub_frames["TIT2"]) for c in chaps] == [c.title for c in result.chapters] == ["Introduction", "The cycle", "Outro"]
    assert [c.start_time for c in chaps] == [round(c.start * 1000) for c in result.chapters]
    assert [c.end_time for c in chaps] == [round(c.end * 1000) for c in result.chapters]
    toc = tags.getall("CTOC")[0]
    assert list(toc.child_element_ids) == [c.element_id for c in chaps]


def test_chapters_start_where_each_part_starts(tmp_path):
    ctx, script, narration, quality = _episode(tmp_path)
    chapters = master.chapters(script, quality, narration, 30.0)
    assert chapters[0].start == 0.0
    assert chapters[1].start == pytest.approx(quality.sentences[3].start, abs=1e-3)  # "The cycle" begins at sentence 3
    assert chapters[2].start == pytest.approx(quality.sentences[6].start, abs=1e-3)
    assert [c.end for c in chapters] == [chapters[1].start, chapters[2].start, 30.0]


def test_bitrate_setting_maps_onto_lame(tmp_path):
    from mutagen.mp3 import MP3

    ctx, script, narration, quality = _episode(tmp_path, overrides={"master.bitrate_kbps": 64})
    result = master.run(ctx, script, narration, quality, vf.source())
    assert abs(MP3(str(ctx.folder / result.audio)).info.bitrate / 1000 - 64) <= 2


@pytest.mark.slow
def test_real_voice_episode_is_mastered_to_spec(tmp_path):
    from mutagen.id3 import ID3

    from macaw import engines
    from macaw.stages import check

    tts = engines.create("tts", {"engine": "piper", "voice": "", "device": "auto", "speed": 1.0})
    asr = engines.create("asr", {"engine": "faster-whisper", "model": "", "device": "auto", "compute_type": "int8", "beam_size": 1})
    ctx = vf.context(tmp_path, engines={"tts": tts, "asr": asr})
    script = vf.script()
    narration = speak.run(ctx, script)
    quality = check.run(ctx, script, narration, vf.source())
    result = master.run(ctx, script, narration, quality, vf.source())
    decoded, sr = read_audio(ctx.folder / result.audio)
    assert loudness_lufs(decoded, sr) == pytest.approx(-16.0, abs=1.0)
    import pyloudnorm  # an independent meter, not the one master levels with

    assert pyloudnorm.Meter(sr).integrated_loudness(decoded.astype(np.float64)) == pytest.approx(-16.0, abs=1.0)
    assert true_peak_db(decoded) <= -1.0
    chaps = sorted(ID3(str(ctx.folder / result.audio)).getall("CHAP"), key=lambda c: c.start_time)
    assert [c.start_time / 1000 for c in chaps[1:]] == pytest.approx([quality.sentences[3].start, quality.sentences[6].start], abs=1e-3)


# -- the measurements themselves, against independent implementations --------------------------


def test_loudness_agrees_with_pyloudnorm():
    import pyloudnorm

    for sr, seconds, gain in ((44100, 12.0, 1.0), (22050, 8.0, 0.2), (48000, 5.0, 0.6)):
        audio = _speechlike(seconds, sr, seed=sr) * gain
        ours = loudness_lufs(audio, sr)
        theirs = pyloudnorm.Meter(sr).integrated_loudness(audio.astype(np.float64))
        assert ours == pytest.approx(theirs, abs=0.1), (sr, ours, theirs)
    # A 1 kHz sine at -20 dBFS peak reads -23 LUFS +- 0.1 (the K-weighting's +0.7 dB at 1 kHz, -3 dB for RMS).
    t = np.arange(44100 * 5) / 44100
    assert loudness_lufs((0.1 * np.sin(2 * np.pi * 997 * t)).astype(np.float32), 44100) == pytest.approx(-23.0, abs=0.2)
    assert loudness_lufs(np.zeros(44100, dtype=np.float32), 44100) == float("-inf")


def test_true_peak_sees_between_the_samples():
    # A sine at a quarter of the rate, sampled at its 45-degree points: every sample is 0.707 of
    # the peak, the true peak is 1.0 (+3 dB over the sample peak).
    sr = 44100
    n = np.arange(sr)
    audio = np.sin(2 * np.pi * (sr / 4) * n / sr + np.pi / 4).astype(np.float32)
    assert 20 * np.log10(np.abs(audio).max()) == pytest.approx(-3.01, abs=0.05)
    assert true_peak_db(audio) == pytest.approx(0.0, abs=0.2)


def test_resample_matches_scipy():
    from scipy.signal import resample_poly

    from macaw.audio import resample

    audio = _speechlike(3.0, 22050)
    ours = resample(audio, 22050, 44100)
    theirs = resample_poly(audio, 2, 1)
    assert len(ours) == len(theirs)
    middle = slice(1000, -1000)
    assert np.max(np.abs(ours[middle] - theirs[middle])) < 0.02


def test_moving_filters():
    from macaw.audio import moving_mean, moving_min

    rng = np.random.default_rng(1)
    for n, radius in ((1, 1), (10, 3), (1000, 7), (999, 50)):
        x = rng.random(n)
        padded = np.pad(x, radius, mode="edge")
        expected = np.array([padded[i : i + 2 * radius + 1].min() for i in range(n)])
        assert np.array_equal(moving_min(x, radius), expected)
        size = 2 * radius
        padded = np.pad(x, (size // 2, size - size // 2), mode="edge")
        expected = np.array([padded[i : i + size].mean() for i in range(n)])
        assert np.allclose(moving_mean(x, size), expected)

import json

import numpy as np
import pytest

from macaw import engines
from macaw.engines import asr_whisper, tts_piper
from macaw.errors import ModelNotFoundError
from macaw.models import bundled_voice


def test_piper_is_cheap_to_create_and_knows_its_sample_rate():
    tts = engines.create("tts", {"engine": "piper", "voice": "", "device": "cpu", "speed": 1.25})
    assert isinstance(tts, tts_piper.PiperTTS)
    assert tts._voice is None  # nothing loaded yet
    assert tts.sample_rate == json.loads(bundled_voice().with_suffix(".onnx.json").read_text())["audio"]["sample_rate"]
    fp = tts.fingerprint()
    assert fp["engine"] == "piper" and fp["speed"] == 1.25 and len(fp["voice_sha256"]) == 64
    assert tts._voice is None


def test_piper_names_a_missing_voice(tmp_path):
    with pytest.raises(ModelNotFoundError, match="voice file not found"):
        tts_piper.create({"voice": str(tmp_path / "nope.onnx")})
    (tmp_path / "half.onnx").write_bytes(b"x")
    with pytest.raises(ModelNotFoundError, match="config not found"):
        tts_piper.create({"voice": str(tmp_path / "half.onnx")})


def test_whisper_is_cheap_to_create_and_names_a_missing_folder(tmp_path):
    asr = engines.create("asr", {"engine": "faster-whisper", "model": "", "device": "cpu", "compute_type": "int8", "beam_size": 1})
    assert isinstance(asr, asr_whisper.WhisperASR) and asr._model is None
    fp = asr.fingerprint()
    assert fp["engine"] == "faster-whisper" and len(fp["model_sha256"]) == 64
    with pytest.raises(ModelNotFoundError):
        asr_whisper.create({"model": str(tmp_path / "missing-model")})
    assert asr_whisper.create({"model": "small.en"}).model == "small.en"  # a name is resolved at load


@pytest.mark.slow
def test_real_piper_speaks_and_whisper_hears_it(tmp_path):
    from macaw.audio import write_wav

    tts = tts_piper.create({"device": "cpu"})
    chunks = list(tts.synthesize("The quick brown fox jumps over the lazy dog."))
    audio = np.concatenate(chunks)
    assert audio.dtype == np.float32 and 1.5 < len(audio) / tts.sample_rate < 5
    faster = tts_piper.create({"device": "cpu", "speed": 1.5})
    fast_audio = np.concatenate(list(faster.synthesize("The quick brown fox jumps over the lazy dog.")))
    assert len(fast_audio) < 0.85 * len(audio)

    write_wav(tmp_path / "fox.wav", audio, tts.sample_rate)
    transcript = asr_whisper.create({"device": "cpu"}).transcribe(tmp_path / "fox.wav")
    assert "quick brown fox" in transcript.text.lower()
    for w in transcript.words:
        assert 0 <= w.start <= w.end <= len(audio) / tts.sample_rate + 0.1


@pytest.mark.slow
def test_whisper_hears_windows_side_by_side_in_the_files_time(tmp_path):
    """Windows cut in the pauses: each heard once, words timed in the whole file; a window longer
    than the recogniser's 30 s is heard the usual way."""
    from macaw.audio import silence, write_wav

    tts = tts_piper.create({"device": "cpu"})
    sr = tts.sample_rate
    sentences = ["The quick brown fox jumps over the lazy dog.", "Seven cold lakes lie under the northern hills.", "Please bring the red notebook to the kitchen."]
    pieces, spans, cursor = [silence(0.5, sr)], [], 0.5
    for text in sentences:
        clip = np.concatenate(list(tts.synthesize(text)))
        spans.append((cursor, cursor + len(clip) / sr))
        pieces += [clip, silence(1.0, sr)]
        cursor += len(clip) / sr + 1.0
    write_wav(tmp_path / "three.wav", np.concatenate(pieces), sr)
    cuts = [(spans[0][1] + spans[1][0]) / 2, (spans[1][1] + spans[2][0]) / 2]
    asr = asr_whisper.create({"device": "cpu"})
    words = asr.transcribe(tmp_path / "three.wav", windows=[(0.0, cuts[0]), (cuts[0], cuts[1]), (cuts[1], cursor)]).words
    text = " ".join(w.text.lower() for w in words)
    assert "quick brown fox" in text and "cold lakes" in text and "red notebook" in text
    for word in ("fox", "lakes", "notebook"):  # each word lies in its own sentence's audio
        at = next(w for w in words if word in w.text.lower())
        k = [i for i, (a, b) in enumerate(spans) if a - 0.3 <= at.start <= at.end <= b + 0.3]
        assert k == [next(i for i, s in enumerate(sentences) if word in s)]
    # one window of 35 s (over the limit): the same words, heard sequentially
    long = np.concatenate(pieces + [silence(35.0 - cursor, sr)])
    write_wav(tmp_path / "long.wav", long, sr)
    again = asr.transcribe(tmp_path / "long.wav", windows=[(0.0, len(long) / sr)]).words
    assert "red notebook" in " ".join(w.text.lower() for w in again)

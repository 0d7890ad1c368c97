import numpy as np
import pytest
import soundfile as sf

import voicefixtures as vf
from macaw.stages import speak as speak
from macaw.artifacts import Narration
from macaw.errors import EmptyOutputError


def test_sentences_are_placed_with_pauses_by_kind(tmp_path):
    tts = vf.ToneTTS()
    ctx = vf.context(tmp_path, engines={"tts": tts})
    script = vf.script()
    narration = speak.run(ctx, script)

    assert tts.calls == [s.spoken for s in script.sentences]
    spans = narration.sentences
    assert [s.index for s in spans] == list(range(len(script.sentences)))
    for s, sentence in zip(spans, script.sentences):
        assert s.end - s.start == pytest.approx(len(sentence.spoken) * 0.05, abs=1 / tts.sample_rate)
    gaps = [b.start - a.end for a, b in zip(spans, spans[1:])]
    cfg = ctx.config.tts
    # 0->1 same paragraph, 1->2 new paragraph, 2->3 new segment, ..., 5->6 new segment
    expected = [cfg.sentence_pause, cfg.paragraph_pause, cfg.segment_pause, cfg.sentence_pause, cfg.paragraph_pause, cfg.segment_pause]
    assert gaps == pytest.approx(expected, abs=2 / tts.sample_rate)


def test_narration_wav_and_json_agree(tmp_path):
    ctx = vf.context(tmp_path, engines={"tts": vf.ToneTTS()})
    narration = speak.run(ctx, vf.script())
    info = sf.info(str(ctx.folder / narration.audio))
    assert info.samplerate == narration.sample_rate == 16000
    assert info.duration == pytest.approx(narration.duration_s, abs=1e-3)
    assert Narration.load(ctx.folder) == narration
    audio, _ = sf.read(str(ctx.folder / narration.audio))
    first = narration.sentences[0]
    gap = audio[int(first.end * 16000) + 10 : int(narration.sentences[1].start * 16000) - 10]
    assert np.abs(gap).max() == 0  # pauses are true silence
    assert narration.voice == "tone"


def test_speed_and_pause_settings_are_used(tmp_path):
    ctx = vf.context(tmp_path, overrides={"tts.sentence_pause": 0.1}, engines={"tts": vf.ToneTTS()})
    narration = speak.run(ctx, vf.script())
    a, b = narration.sentences[:2]
    assert b.start - a.end == pytest.approx(0.1, abs=1e-3)


def test_a_voice_that_says_nothing_is_an_error(tmp_path):
    class Mute(vf.ToneTTS):
        def synthesize(self, text):
            return iter(())

    ctx = vf.context(tmp_path, engines={"tts": Mute()})
    with pytest.raises(EmptyOutputError):
        speak.run(ctx, vf.script())

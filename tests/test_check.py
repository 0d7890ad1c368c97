import json

import numpy as np
import pytest
import soundfile as sf

import voicefixtures as vf
from macaw import check, speak
from macaw.align import align
from macaw.artifacts import Narration, Quality, Sentence


def _spoken(tmp_path, hear=None, overrides=None, tts=None):
    tts = tts or vf.ToneTTS()
    ctx = vf.context(tmp_path, overrides=overrides, engines={"tts": tts})
    script = vf.script()
    narration = speak.run(ctx, script)
    return ctx, script, narration, tts


def test_align_counts_substitutions_deletions_insertions():
    ops = align("the cat sat on the mat".split(), "the bat sat the mat today".split())
    kinds = [op.kind for op in ops]
    assert kinds.count("sub") == 1 and kinds.count("del") == 1 and kinds.count("ins") == 1
    assert kinds.count("ok") == 4


def test_a_perfect_listener_gives_zero_wer_and_sentence_times(tmp_path):
    ctx, script, narration, _ = _spoken(tmp_path)
    ctx._engines["asr"] = vf.ScriptedASR(lambda path: vf.words_for(script, narration))
    quality = check.run(ctx, script, narration)
    assert quality.wer == 0 and quality.passed and quality.retries == 0
    assert quality.words == sum(s.words for s in quality.sentences) > 40
    for q, span in zip(quality.sentences, narration.sentences):
        assert q.start == pytest.approx(span.start, abs=1e-3)
        assert q.end == pytest.approx(span.end, abs=1e-3)
    assert (ctx.folder / "quality.html").is_file()


def test_spoken_forms_count_as_the_same_words(tmp_path):
    ctx, script, narration, _ = _spoken(tmp_path)
    # "October 2024" heard as words, "Welcome" as "welcome," must not count as errors.
    heard = vf.words_for(script, narration, replace={0: "welcome, to the show", 2: "It was written in October twenty twenty-four."})
    ctx._engines["asr"] = vf.ScriptedASR(lambda path: heard)
    assert check.run(ctx, script, narration).wer == 0


def test_a_missing_sentence_fails_the_gate_and_is_the_worst(tmp_path):
    ctx, script, narration, _ = _spoken(tmp_path, overrides={"quality.max_retries": 0})
    ctx._engines["asr"] = vf.ScriptedASR(lambda path: vf.words_for(script, narration, drop={3}))
    quality = check.run(ctx, script, narration)
    assert not quality.passed
    assert quality.wer > ctx.config.quality.max_wer
    assert quality.sentences[3].wer == 1.0 and quality.worst[0] == 3
    assert quality.sentences[3].heard == ""
    # no recognised words: the sentence keeps speak's timing
    assert quality.sentences[3].start == pytest.approx(narration.sentences[3].start, abs=1e-3)
    page = (ctx.folder / "quality.html").read_text()
    assert "FAILED" in page and "<del" in page


def test_a_fumbled_sentence_is_resynthesised_and_spliced_in(tmp_path):
    ctx, script, narration, tts = _spoken(tmp_path)
    before = narration.duration_s
    original_later_start = narration.sentences[5].start

    def hear(path):
        if path.name == "narration.wav":  # the whole episode: sentence 4 comes out wrong
            return vf.words_for(script, narration, replace={4: "I road a smell trading lope and washed the last go town"})
        return [(w, 0.1 * k, 0.1 * k + 0.1) for k, w in enumerate(script.sentences[4].text.split())]  # the retake is clean

    ctx._engines["asr"] = vf.ScriptedASR(hear)
    saved = narration.to_dict()
    quality = check.run(ctx, script, Narration.from_dict(saved))
    assert quality.passed and quality.wer == 0
    assert quality.retries == 1 and quality.sentences[4].retries == 1
    assert quality.sentences[4].spoken and quality.sentences[4].spoken in tts.calls
    # narration.wav and narration.json now hold the retake; later sentences moved by its length change
    spliced = Narration.load(tmp_path / "episodes" / "journal-test")
    retake = len(quality.sentences[4].spoken) * 0.05
    old = narration.sentences[4].end - narration.sentences[4].start
    assert spliced.duration_s == pytest.approx(before + retake - old, abs=2e-3)
    assert spliced.sentences[5].start == pytest.approx(original_later_start + retake - old, abs=2e-3)
    assert sf.info(str(ctx.folder / "narration.wav")).duration == pytest.approx(spliced.duration_s, abs=1e-3)
    assert quality.sentences[5].start == pytest.approx(spliced.sentences[5].start, abs=2e-3)


def test_retries_stop_at_the_limit_and_a_broken_voice_still_fails(tmp_path):
    ctx, script, narration, tts = _spoken(tmp_path, overrides={"quality.max_retries": 2})
    # the recogniser never hears sentence 3, however it is said
    ctx._engines["asr"] = vf.ScriptedASR(lambda path: vf.words_for(script, narration, drop={3}) if path.name == "narration.wav" else [])
    calls_before = len(tts.calls)
    quality = check.run(ctx, script, narration)
    assert not quality.passed
    assert 1 <= quality.retries <= 2 and len(tts.calls) - calls_before == quality.retries


def test_quality_json_roundtrip_and_html_is_escaped(tmp_path):
    ctx = vf.context(tmp_path, engines={"tts": vf.ToneTTS()})
    script = vf.script([("Intro", 0, "<script>alert(1)</script> & friends")])
    narration = speak.run(ctx, script)
    ctx._engines["asr"] = vf.ScriptedASR(lambda path: [("<b>bold</b>", 0.0, 0.5)])
    quality = check.run(ctx, script, narration)
    assert Quality.from_dict(json.loads(json.dumps(quality.to_dict()))) == quality
    page = (ctx.folder / "quality.html").read_text()
    assert "<script>" not in page and "<b>bold" not in page
    assert "&lt;script&gt;" in page


def test_alternatives_mark_trouble_and_spell_acronyms():
    s = Sentence(text="We used ARENA and GPU clusters.", spoken="We used Arena and G P U clusters.", segment="x")
    alts = check.alternatives(s, {"arena"})
    assert alts[0].startswith("We used, Arena,")
    assert all(a != s.spoken for a in alts)
    assert len(set(alts)) == len(alts)

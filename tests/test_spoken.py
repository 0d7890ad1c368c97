"""The shared spoken-form normaliser."""

from __future__ import annotations

import pytest

from macaw.script.spoken import load_lexicon, split_sentences, to_spoken, wer_words


@pytest.mark.parametrize("written, said", [
    ("It scored 34% on 1,200 items.", "It scored thirty-four percent on one thousand, two hundred items."),
    ("The loss fell by 2.5 points.", "The loss fell by two point five points."),
    ("Pages 10-12 cover it.", "Pages ten to twelve cover it."),
    ("In 2017 and the 1990s.", "In twenty seventeen and the nineteen nineties."),
    ("Attention works (Vaswani et al., 2017) well [12].", "Attention works well."),
    ("See https://www.example.com/a/b for more.", "See example.com for more."),
    ("The arXiv id is 1706.03762v5.", "The archive id is one seven zero six dot zero three seven six two version five."),
    ("A ResNet34 on a GPU.", "A res net thirty-four on a G P U."),
    ("We met NASA at the 3rd day.", "We met Nasa at the third day."),
    ("x ≤ 5 and y ≥ 2", "x at most five and y at least two"),
    ("Latency is 10 ms at 2.4 GHz, or 1 ms.", "Latency is ten milliseconds at two point four gigahertz, or one millisecond."),
    ("It uses 5 GB and runs at 25°C.", "It uses five gigabytes and runs at twenty-five degrees Celsius."),
    ("A rate of 1e-4 and 2.5e3 steps.", "A rate of ten to the minus four and two point five times ten to the three steps."),
    ("A 7B model with 1.5M adapters and 100k steps.", "A seven billion model with one point five million adapters and one hundred thousand steps."),
    ("It is 3x faster.", "It is three times faster."),
    ("We minimise $x^2 + \\alpha y_i$ here.", "We minimise x squared plus alpha y sub i here."),
    ("Vaswani et al. show it, e.g. here, i.e. now.", "Vaswani and colleagues show it, for example, here, that is, now."),
    ("See Fig. 4 vs. Eq. 2.", "See Figure four versus Equation two."),
])
def test_to_spoken(written, said):
    assert to_spoken(written) == said


def test_lexicon_file_extends_the_tables(tmp_path):
    path = tmp_path / "lexicon.txt"
    path.write_text("# my words\nSQL = sequel\nFOO\nCUDA = koo-dah  # the GPU toolkit\n", encoding="utf-8")
    lexicon = load_lexicon(path)
    assert lexicon == {"SQL": "sequel", "FOO": "Foo", "CUDA": "koo-dah"}
    assert to_spoken("SQL on CUDA with FOO.", lexicon) == "sequel on koo-dah with Foo."
    assert to_spoken("SQL on CUDA with FOO.") == "S Q L on C U D A with F O O."
    assert to_spoken("We use FOO.", {"FOO"}) == "We use Foo."


def test_wer_words_agree_on_forms():
    assert wer_words("34%") == wer_words("thirty-four percent") == wer_words("34 percent")


def test_split_sentences_keeps_abbreviations():
    assert split_sentences("We use e.g. dropout. It helps (Smith et al. 2020). Done!") == [
        "We use e.g. dropout.", "It helps (Smith et al. 2020).", "Done!"]

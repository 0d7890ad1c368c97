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
    ("See https://www.example.com/a/b for more.", "See example for more."),
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
    # Without the lexicon: SQL and FOO spelled (no English word is shaped so), CUDA said as the word it looks like.
    assert to_spoken("SQL on CUDA with FOO.") == "S Q L on Cuda with F O O."
    assert to_spoken("We use FOO.", {"FOO"}) == "We use Foo."


def test_wer_words_agree_on_forms():
    assert wer_words("34%") == wer_words("thirty-four percent") == wer_words("34 percent")


def test_split_sentences_keeps_abbreviations():
    assert split_sentences("We use e.g. dropout. It helps (Smith et al. 2020). Done!") == [
        "We use e.g. dropout.", "It helps (Smith et al. 2020).", "Done!"]
    # 2014-07-21-hacker-school-day-1.md: "etc." before a capital ends its sentence; before a small letter it does not
    assert split_sentences("I keep track of goals, thoughts and feelings, etc. This morning was spent configuring. "
                           "Pears, figs, etc. are fruit.") == [
        "I keep track of goals, thoughts and feelings, etc.", "This morning was spent configuring.", "Pears, figs, etc. are fruit."]


# What blogs and learning journals write (macaw/script/written.py), said as a person says it.
@pytest.mark.parametrize("written, said", [
    ("It cost $16 and €5.", "It cost sixteen dollars and five euros."),
    ("It needs only 1/7th the carbon footprint.", "It needs only one seventh the carbon footprint."),  # 2205.01068
    ("We kept 2/3rds of the data.", "We kept two thirds of the data."),
    ("A book at $10,000 AUD, $1 or £2.50.", "A book at ten thousand Australian dollars, one dollar or two pounds and fifty cents."),
    ("Call `requires_grad()` on it.", "Call requires grad on it."),
    ("Use `torch.clip(y, 0.)` and `next(model.parameters()).device`.", "Use torch dot clip and next model dot parameters dot device."),
    ("Run `/opt/homebrew/bin/python3` with `--device=mps`.", "Run python three with device equals mps."),
    ("Try `python3 -c 'import boto3, json; print(1)'` now.", "Try python three now."),
    # a statement of four words is said whole; its colon is not a word (til-asgi-lifespan had "in async and")
    ("Wrap it in `async with LifespanManager(app):` and go.", "Wrap it in async with Lifespan Manager app and go."),
    ("I used `` async/await `` there.", "I used async await there."),
    ("Read https://github.com/karpathy/nanoGPT/blob/master/README.md today.", "Read git hub today."),
    ("See <https://www.youtube.com/watch?v=kCc8FmEb1nY> and news.ycombinator.com.", "See YouTube and Hacker News."),
    ("Files live in ~/data/train/images/ now.", "Files live in images now."),
    # a negative number (jgriffith23's "the last element in the list is at index -1" had been "index - one")
    ("It is at index -1, at -5 degrees, from −0.5 up; pages 10-20.",
     "It is at index minus one, at minus five degrees, from minus zero point five up; pages ten to twenty."),
    ("ZeRO -100B runs.", "ZeRO-one hundred billion runs."),
    ("Then kill -9 it.", "Then kill - nine it."),  # a command's flag, not a negative number
    # a rate is "per" what it is counted in (1910.02054's "41.4 TFlops/GPU"); other slashes stay
    ("It ran 41.4 TFlops/GPU, 20 tokens/s and 1,000 queries/day on 3 train/test splits.",
     "It ran forty-one point four TFlops per G P U, twenty tokens per second and one thousand queries per day on three train slash test splits."),  # 1910.02054's text layer: a name's dash, not a minus
    # a tracker's path, as a link's text gives it (til-asgi-lifespan), and a date written with slashes
    ("See starlette/issues/486. Then datasette-debug-asgi/issues/1.",
     "See starlette issue four hundred and eighty-six. Then datasette-debug-asgi issue one."),
    ("Fixed by encode/httpx/pull/350 on 2019/01/28.", "Fixed by httpx pull request three hundred and fifty on January twenty-eighth, twenty nineteen."),
    ("a = b -> c, < 5 items, ~200 images, R&D, 98% avg", "a equals b to c, less than five items, about two hundred images, R and D, ninety-eight percent avg"),
    ("It is 2 x 3 and 3x faster.", "It is two times three and three times faster."),
    ("i.e. this, e.g. that, cats vs. dogs, etc.", "that is, this, for example, that, cats versus dogs, et cetera."),  # the sentence keeps its stop
    ("(with mute button etc) done, etc. as before.", "(with mute button et cetera) done, et cetera as before."),
    ("A 1d array for 32/64 bit; rank 7499 / 12930.", "A one D array for thirty-two or sixty-four bit; rank seven thousand, four hundred and ninety-nine out of twelve thousand, nine hundred and thirty."),
    ("Python v2.1 at 7am.", "Python version two point one at seven A M."),
    ("Posted 2025-03-09 at 14:53.", "Posted March ninth, twenty twenty-five at fourteen fifty-three."),
    ("Loved it 🧘🏾‍♂️ 🥲 👀 :) ;)", "Loved it"),
    ("As of 16f592247a2a0e140ada487e9972645406dcae69 it works.", "As of it works."),
    ("The mean \u27e6\\mu, \\sigma^2\u27e7 of a batch.", "The mean mu, sigma squared of a batch."),
    ("Then \u27e6\\begin{align} y_i = \\gamma \\hat{x}_i + \\beta \\end{align}\u27e7 follows.", "Then an equation follows."),
    ("#forscience with @kracekumar", "hashtag forscience with at kracekumar"),
    ("BUT the README says TLDR.", "but the read me says T L D R."),
    # code read the way a programmer says it, never its punctuation
    ("my in_featers_per_group was one short", "my in featers per group was one short"),
    ("by saying self.out features per group[:1], not [:-1].",
     "by saying self dot out features per group up to index one, not up to index minus one."),
    ("Since `stuff[:-2]` is `[1, 2]`, and `x[0]`.", "Since stuff, up to index minus two is the list one, two, and x, at index zero."),
    ("`[]` is empty; `/` is the route; call `BasicOptim`.", "empty brackets is empty; slash is the route; call Basic Optim."),
    ("Open index.html and the .ipynb in `prepare.py`.", "Open index dot H-T-M-L and the dot I-P-Y-N-B in prepare dot pie."),
    ("Mail support@epub.press about H(2N + 2) and O(n).", "Mail support at epub dot press about H of two N plus two and O of n."),
    ("Automation == fun, in Python 3.4.3 on 14 Feb (Tue, Thu, Sat).",
     "Automation equals fun, in Python three point four point three on fourteen February (Tuesday, Thursday, Saturday)."),
    # emoticons dropped wherever they stand; an emoji's brackets go with it
    ("on Heap :). Me too ;) and :D, >.< then <3.", "on Heap. Me too and, then."),
    ("next (hint: 🐔🧀).", "next (hint)."),
    # acronyms by their shape: a word's shape is said as the word, the rest spelled; two letters hyphenated
    ("ARENA and NNFS, a POST to NASA about SQL at RC.", "Arena and N N F S, a Post to Nasa about S Q L at R-C."),
])
def test_written_forms(written, said):
    assert to_spoken(written) == said


@pytest.mark.parametrize("written", [
    "Use `x_train[idx]` and {{< figure src=a >}} or <b>bold</b> | pipe \\ back ^ caret * star $ dollar",
    "See http://example.org/a_b_c?x=1 and www.example.com/path.",
])
def test_no_markup_survives(written):
    said = to_spoken(written)
    assert not any(c in said for c in "`{}[]<>_|\\^*$"), said
    assert "http" not in said and "www" not in said


@pytest.mark.parametrize("word, said", [(w, True) for w in ("ARENA", "NASA", "MIDI", "YAML", "SCUBA", "QUEEN", "CUDA", "UPDATE")]
                         + [(w, False) for w in ("NNFS", "SQL", "RMSE", "ILSVRC", "HTTPX", "IEEE", "AAAI", "HTML", "GPU", "LSTM")])
def test_acronyms_said_as_words_by_their_shape(word, said):
    from macaw.script.spoken import pronounceable, spell_acronyms
    assert pronounceable(word) is said
    assert spell_acronyms(word) == (word if said else " ".join(word))

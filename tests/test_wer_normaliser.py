"""The comparison form both the script and the transcript are reduced to (fast, no models)."""

from __future__ import annotations

import pytest

from macaw.quality import score
from macaw.quality.align import align, heard_tokens, reference_tokens
from macaw.artifacts import Sentence
from macaw.engines import Word
from macaw.script.spoken import wer_words


def errors(script: str, heard: str) -> int:
    ref = [t.text for t in reference_tokens([script])]
    hyp = [t.text for t in heard_tokens([Word(w, 0.0, 0.0) for w in heard.split()])]
    return sum(op.kind != "ok" for op in align(ref, hyp))


@pytest.mark.parametrize("script, heard", [
    ("I haven’t been watching", "I haven't been watching"),  # typographic apostrophe in the script
    ("I haven’t been watching", "I have not been watching"),
    ("chats I’ve gotten", "chats I've gotten"),
    ("It’s the model’s turn", "It's the model's turn"),
    ("a speech recogniser listens", "a speech recognizer listens"),  # British / American spelling
    ("we normalised the colour", "we normalized the color"),
    ("OK, then", "Okay, then"),
    ("CS189 was good", "CS100 and 89 was good"),  # a recogniser's digits are words too
    ("Week three of DeepLearningAI's Sequence Models", "Week three of Deep Learning AI's Sequence Models"),  # a spelled acronym's possessive
    ("the R N N's hidden state", "the RNN's hidden state"),
    # The recogniser writes "GPT-3" as two words, "GPT" and "-3": a name's number, not "minus three"
    ("the G P T-three class of models", "the GPT -3 class of models"),
    ("training O P T-one hundred and seventy five billion", "training OPT -175 billion"),
    ("at index minus one", "at index -1"),  # after a word that is not a name, the sign is said
])
def test_the_same_words_count_as_the_same(script, heard):
    assert errors(script, heard) == 0


@pytest.mark.parametrize("script, heard, expected", [
    ("a sneak peak", "a sneak peek", 1),  # homophones are different words
    ("on the Heap cluster", "on the heat cluster", 1),
    ("a speech recogniser", "a speech recognition", 1),
    ("I haven’t been", "I have been", 1),
    ("the AI safety", "the eye safety", 1),
    ("the G P T-three model", "the GPT minus three model", 1),  # a "minus" the recogniser did hear counts
    ("at index one", "at index -1", 1),
])
def test_different_words_still_count(script, heard, expected):
    assert errors(script, heard) == expected


def test_curly_and_straight_apostrophes_reduce_alike():
    assert wer_words("I’ll make it’s") == wer_words("I'll make it's")


def test_stray_digits_become_words():
    # tiny.en writes Piper's "eight point nine percent" as "8", ".9", "%": the words that were said
    assert wer_words("8 .9") == ["eight", "point", "nine"]
    assert [w for piece in ("5", ".1", "%") for w in wer_words(piece)] == wer_words("5.1%") == ["five", "point", "one", "percent"]
    assert [w for piece in ("1", ",000") for w in wer_words(piece)] == wer_words("1,000") == ["one", "thousand"]
    # and as "6", ".8%." (the sign on the decimal's word, as heard in the ImageNet entry): the percent stays
    assert [w for piece in ("6", ".8%.") for w in wer_words(piece)] == wer_words("6.8%.") == ["six", "point", "eight", "percent"]
    assert [w for piece in ("12", ",930") for w in wer_words(piece)] == wer_words("12,930")


def test_retry_scoring_expands_contractions_like_the_whole_script():
    sentence = Sentence(text="It’s what I’ve got.", spoken="It’s what I’ve got.", segment="x")
    heard = [Word(w, 0.0, 0.0) for w in "It is what I have got.".split()]
    assert score.sentence_wer(sentence, heard) == 0.0


@pytest.mark.parametrize("script, heard", [
    ("other AI/ML folks", "other AI/ML folks"),
    ("other AI/ML folks", "other A.I./M.L. folks"),
    ("this CNN trained", "this CNN trained"),
    ("an ASR system", "an A.S.R. system"),
])
def test_respelled_acronyms_still_compare_as_written(script, heard):
    assert errors(script, heard) == 0


def test_respelled_acronyms_are_said_as_one_term():
    from macaw.script.spoken import to_spoken

    assert to_spoken("AI and ML") == "A-I and M-L"
    assert errors("AI safety", "I safety") == 1


@pytest.mark.parametrize("script, heard", [
    ("It was November second.", "It was November 2."),  # the recogniser writes the day as digits
    ("It was November second.", "It was November 2nd."),
    ("It was November 2nd, 2024.", "It was November 2, 2024."),
    ("on March twenty-first", "on March 21"),
    ("on March 21st", "on March twenty one"),
    # a day that could start a year, with the whole year after it (seen in a real build)
    ("written on November nineteenth, twenty twenty-four.", "written on November 19, 2024."),
    ("Cycle November seventeenth, twenty twenty-four", "cycle November seventeen twenty twenty four"),
])
def test_a_day_after_a_month_is_one_day_however_written(script, heard):
    assert errors(script, heard) == 0


@pytest.mark.parametrize("script, heard, expected", [
    ("It was November second.", "It was November 3.", 1),  # a different day is still wrong
    ("It was November second.", "It was November.", 1),
    ("we may one day", "we may first day", 1),  # "may" the verb: no date
    ("two apples", "second apples", 1),  # no month, no date
])
def test_days_only_match_days(script, heard, expected):
    assert errors(script, heard) == expected


def test_a_year_after_a_month_is_not_a_day():
    assert wer_words("October 2024") == ["october", "twenty", "twenty", "four"]
    assert wer_words("November 2 2024") == ["november", "second", "twenty", "twenty", "four"]
    assert wer_words("November 1920") == ["november", "nineteen", "twenty"]
    assert wer_words("in November 1924") == ["in", "november", "nineteen", "twenty", "four"]
    assert errors("It was written in October 2024.", "It was written in October twenty twenty-four.") == 0
    # May is a month when a day and a year follow (the Recurse change log's intro, heard "May 15, 2023")
    assert errors("written on May fifteenth, twenty twenty-three.", "written on May 15, 2023.") == 0
    assert wer_words("we may one day") == ["we", "may", "one", "day"]


def test_an_article_before_a_spelled_acronym_stays_a_word():
    assert wer_words("Implemented a RNN model") == ["implemented", "a", "rnn", "model"]
    assert wer_words("an AI safety talk") == ["an", "ai", "safety", "talk"]
    assert wer_words("Started DeepLearningAI's course") == wer_words("started Deep Learning AI's course")
    assert wer_words("Started DeepLearningAI's course")[:3] == ["started", "deep", "learning"]


def test_compounds_in_a_row_heard_split_or_joined_are_the_same_words():
    from macaw.quality.align import Token, compare, heard_as_written

    # deepvect-notes.md: "my ultralearning datascience project", heard "ultra learning data science";
    # aligned as two insertions then two substitutions, which _join_compounds alone did not see
    ref = "in my ultralearning datascience project".split()
    hyp = "in my ultra learning data science project".split()
    assert [o.kind for o in compare(ref, hyp)].count("ok") == 3
    heard = [t.text for t in heard_as_written(ref, [Token(w, i) for i, w in enumerate(hyp)])]
    assert heard == ref and all(o.kind == "ok" for o in compare(ref, heard))
    # the other way, and a wrong word stays wrong
    ref, hyp = "we set up the data science lab".split(), "we setup the datascience lap".split()
    heard = [t.text for t in heard_as_written(ref, [Token(w, i) for i, w in enumerate(hyp)])]
    assert [o.kind for o in compare(ref, heard) if o.kind != "ok"] == ["sub"]


def test_a_year_after_a_name_and_either_reading_of_a_year():
    from macaw.script.spoken import to_spoken

    # the ImageNet entry: "ECCV 2014 workshop" is said as a year; "GPT 2048 tokens" stays a count
    assert "twenty fourteen workshop" in to_spoken("at the upcoming ECCV 2014 workshop")
    assert "two thousand and forty-eight tokens" in to_spoken("GPT 2048 tokens")
    # however either side read the digits, a year compares as one reading
    assert errors("the ECCV 2014 workshop", "the E.C.C.V. 2014 workshop") == 0
    assert errors("we used 2014 images", "we used twenty fourteen images") == 0

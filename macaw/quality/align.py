"""Word-level alignment of the script against what the recogniser heard, and the WER it gives.

Both sides are reduced by `macaw.script.spoken.wer_words`, so "34%" in the script and "thirty-four
percent" from the recogniser count as the same words. The alignment is a plain Levenshtein
alignment over words; each row of the table is computed with numpy (the in-row insertion chain
is a running minimum), so a 1,000-word episode aligns in milliseconds.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from macaw.engines import Word
from macaw.script.spoken import canonical_dates, wer_words


NOT_ERRORS = frozenset({"ok", "name", "sound", "typo"})  # the kinds of Op that do not count against the WER


@dataclass
class Token:
    text: str
    owner: int  # the sentence (reference side) or recognised word (heard side) it came from


@dataclass
class Op:
    # "ok", "sub", "del" (script word not heard), "ins" (heard, not in the script), "name" (see
    # forgive_names), "sound" (another spelling of the same sounds, see forgive_sounds), "typo" (the
    # author's misspelling heard as the word it misspells, see forgive_typos)
    kind: str
    ref: int | None  # index into the reference tokens
    hyp: int | None  # index into the heard tokens


def _merge_letter_runs(tokens: list[Token]) -> list[Token]:
    """"a", "i" from separate recognised words compare as "ai", as wer_words does within a text."""
    out: list[Token] = []
    run: list[Token] = []
    for t in tokens + [Token("", -1)]:
        if len(t.text) == 1 and t.text.isalpha():
            run.append(t)
            continue
        if len(run) > 1:
            out.append(Token("".join(r.text for r in run), run[0].owner))
        else:
            out.extend(run)
        run = []
        if t.text:
            out.append(t)
    return out


# A contraction and its long form are the same words to a listener; the recogniser picks either.
# wer_words has already dropped the apostrophe. Ambiguous ones ("were", "ill", "lets", "id") stay.
_CONTRACTIONS = {
    "heres": "here is", "theres": "there is", "thats": "that is", "whats": "what is", "its": "it is",
    "hes": "he is", "shes": "she is", "whos": "who is", "im": "i am", "ive": "i have", "youre": "you are",
    "theyre": "they are", "weve": "we have", "youve": "you have", "theyve": "they have", "youll": "you will",
    "theyll": "they will", "dont": "do not", "doesnt": "does not", "didnt": "did not", "cant": "can not",
    "cannot": "can not", "wont": "will not", "isnt": "is not", "arent": "are not", "wasnt": "was not",
    "werent": "were not", "havent": "have not", "hasnt": "has not", "hadnt": "had not",
    "shouldnt": "should not", "wouldnt": "would not", "couldnt": "could not",
}


_TENS = {"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
         "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}


def _years_one_way(tokens: list[Token]) -> list[Token]:
    """"two thousand and fourteen" and "twenty fourteen" are the same year (2010-2099), whichever
    way the normaliser read the digits on either side ("ECCV 2014" from the script, "E.C.C.V. 2014"
    from the recogniser): both compare as "twenty fourteen"."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        words = [t.text for t in tokens[i : i + 4]]
        skip = 3 if words[2:3] == ["and"] else 2
        if words[:2] == ["two", "thousand"] and i + skip < len(tokens) and tokens[i + skip].text in _TENS:
            out.append(Token("twenty", tokens[i].owner))
            i += skip
            continue
        out.append(tokens[i])
        i += 1
    return out


def _expand(tokens: list[Token]) -> list[Token]:
    expanded = _years_one_way([Token(part, t.owner) for t in tokens for part in _CONTRACTIONS.get(t.text, t.text).split()])
    # Dates across token boundaries: the recogniser's "November" and "2" are separate words.
    return [Token(text, t.owner) for text, t in zip(canonical_dates([t.text for t in expanded]), expanded)]


def reference_tokens(texts: list[str]) -> list[Token]:
    return _expand([Token(w, i) for i, text in enumerate(texts) for w in wer_words(text)])


def said(sentence) -> str:  # type: ignore[no-untyped-def]
    """What the voice was told to say for a script sentence: its spoken form (the paper's lexicon,
    expanded acronyms and spaced compounds applied), else the written text. The round trip is
    scored against this, so "BLEU" the voice says as "blue" is "blue" on both sides."""
    return (getattr(sentence, "spoken", "") or "").strip() or sentence.text


def script_reference(script) -> list[Token]:  # type: ignore[no-untyped-def]
    return reference_tokens([said(s) for s in script.sentences])


_SIGNED = re.compile(r"[-\u2212]\d")


def _word_tokens(words: list[Word], i: int) -> list[str]:
    """One recognised word's tokens. A word that starts with a sign and a digit is read with the
    word before it: the recogniser writes "GPT-3" as the two words "GPT" and "-3", and alone "-3"
    is "minus three", a word the voice never said. Read together, the normaliser's own rule for a
    dash after a name (`macaw.script.quantities.negative`, the one the script's side goes
    through) decides, as it does for the script's "GPT-3": "gpt three", while "index -1" stays
    "index minus one"."""
    text = words[i].text
    if i == 0 or not _SIGNED.match(text):
        return wer_words(text)
    before = wer_words(words[i - 1].text)
    both = wer_words(words[i - 1].text + " " + text)
    return both[len(before):] if both[: len(before)] == before else wer_words(text)


def heard_tokens(words: list[Word]) -> list[Token]:
    return _expand(_merge_letter_runs([Token(t, i) for i in range(len(words)) for t in _word_tokens(words, i)]))


def heard_as_written(ref: list[str], heard: list[Token]) -> list[Token]:
    """The heard tokens with compounds written the script's way: "ultra" "learning" heard for the
    script's "ultralearning" become one token, "datascience" heard for "data science" two. Only
    the heard side changes (the script's word count stays), and only where the script never has
    the other spelling. _join_compounds does the same inside the alignment, but only for a
    substitution next to its insertion; two compounds in a row aligned the other way round."""
    words = set(ref)
    pairs = {ref[i] + ref[i + 1]: (ref[i], ref[i + 1]) for i in range(len(ref) - 1)}
    ref_pairs = set(zip(ref, ref[1:]))
    out: list[Token] = []
    i = 0
    while i < len(heard):
        t = heard[i]
        if i + 1 < len(heard):
            joined = t.text + heard[i + 1].text
            if joined in words and (t.text, heard[i + 1].text) not in ref_pairs:
                out.append(Token(joined, t.owner))
                i += 2
                continue
        if t.text not in words and t.text in pairs:
            out += [Token(part, t.owner) for part in pairs[t.text]]
        else:
            out.append(t)
        i += 1
    return out


def align(ref: list[str], hyp: list[str]) -> list[Op]:
    n, m = len(ref), len(hyp)
    vocab: dict[str, int] = {}
    r = np.array([vocab.setdefault(w, len(vocab)) for w in ref], dtype=np.int64)
    h = np.array([vocab.setdefault(w, len(vocab)) for w in hyp], dtype=np.int64)
    table = np.empty((n + 1, m + 1), dtype=np.int32)
    table[0] = np.arange(m + 1)
    cols = np.arange(m + 1, dtype=np.int32)
    for i in range(1, n + 1):
        prev = table[i - 1]
        best = np.empty(m + 1, dtype=np.int32)
        best[0] = i
        best[1:] = np.minimum(prev[1:] + 1, prev[:-1] + (h != r[i - 1]))
        # insertions within the row: table[i][j] = min_k (best[k] + j - k)
        table[i] = np.minimum.accumulate(best - cols) + cols
    ops: list[Op] = []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0:
            same = r[i - 1] == h[j - 1]
            if table[i, j] == table[i - 1, j - 1] + (0 if same else 1):
                ops.append(Op("ok" if same else "sub", i - 1, j - 1))
                i, j = i - 1, j - 1
                continue
        if i > 0 and table[i, j] == table[i - 1, j] + 1:
            ops.append(Op("del", i - 1, None))
            i -= 1
        else:
            ops.append(Op("ins", None, j - 1))
            j -= 1
    ops.reverse()
    return _join_compounds(ops, ref, hyp)


def _join_compounds(ops: list[Op], ref: list[str], hyp: list[str]) -> list[Op]:
    """"setup" heard as "set up" (or the reverse) is a spelling choice, not a wrong word."""
    out: list[Op] = []
    k = 0
    while k < len(ops):
        a = ops[k]
        b = ops[k + 1] if k + 1 < len(ops) else None
        if b is not None and {a.kind, b.kind} <= {"sub", "ins", "ok"} and "ins" in (a.kind, b.kind) and a.kind != b.kind:
            sub, pair = (a, b) if a.ref is not None else (b, a)
            first, second = (a.hyp, b.hyp)
            if sub.kind == "sub" and hyp[first] + hyp[second] == ref[sub.ref]:  # type: ignore[index]
                out.append(Op("ok", sub.ref, sub.hyp))
                k += 2
                continue
        if b is not None and {a.kind, b.kind} <= {"sub", "del"} and "del" in (a.kind, b.kind) and a.kind != b.kind:
            sub = a if a.hyp is not None else b
            if ref[a.ref] + ref[b.ref] == hyp[sub.hyp]:  # type: ignore[index]
                out += [Op("ok", a.ref, a.hyp), Op("ok", b.ref, b.hyp)]
                k += 2
                continue
        out.append(a)
        k += 1
    return out


@dataclass
class SentenceAlignment:
    words: int = 0  # reference words
    errors: int = 0
    ops: list[Op] | None = None

    @property
    def wer(self) -> float:
        if self.words == 0:
            return 0.0 if self.errors == 0 else 1.0
        return self.errors / self.words


def by_sentence(ops: list[Op], ref: list[Token], count: int) -> list[SentenceAlignment]:
    """Split the alignment per sentence. A heard word the script does not have belongs to the
    sentence of the script word before it (words heard before the first script word, to the first)."""
    out = [SentenceAlignment(ops=[]) for _ in range(count)]
    for t in ref:
        out[t.owner].words += 1
    if not ref:
        return out
    current = ref[0].owner
    for op in ops:
        if op.ref is not None:
            current = ref[op.ref].owner
        out[current].ops.append(op)  # type: ignore[union-attr]
        out[current].errors += op.kind not in NOT_ERRORS
    return out


def name_positions(ref: list[str], names: list[list[str]]) -> set[int]:
    """Reference positions inside an occurrence of a proper name (a whole token sequence)."""
    positions: set[int] = set()
    for name in names:
        if not name:
            continue
        for start in range(len(ref) - len(name) + 1):
            if ref[start : start + len(name)] == name:
                positions.update(range(start, start + len(name)))
    return positions


_NAME_WORD = re.compile(r"[A-Za-z][A-Za-z0-9']*")


_CODE_SPAN = re.compile(r"`([^`]+)`")
_CODE_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")  # camel case split: LifespanManager, HTTPServer


def code_names(sentences) -> set[str]:  # type: ignore[no-untyped-def]
    """The names of software the text writes as code: a word of four letters or more, inside
    inline code of a source sentence, that no English dictionary holds ("uvicorn" in
    `uvicorn.run()`, "asgi" in `datasette-debug-asgi`, "async"). Like a surname, tiny.en has
    never seen most of them ("ASGI" comes back "asv", "asg", "aski"); wherever the text says the
    word, in code or in prose, it is a name. A word a dictionary holds ("debug", "run") is not,
    nor a short one ("app"). As with every name, a word not heard at all still counts."""
    found: set[str] = set()
    for sentence in sentences:
        if getattr(sentence, "origin", "source") != "source":
            continue
        for span in _CODE_SPAN.findall(sentence.text):
            found.update(w for w in _CODE_WORD.findall(span) if len(w) >= 4 and _known(w.lower()) is False)
    return found


def text_names(sentences) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """The proper names the text itself shows: a word capitalised inside a sentence of the source
    ("Zulip", "Octopress", "Maia's", "Hakyll") or written in camel case ("iTerm", "IPython"),
    that the text never writes in lower case. Like the metadata's names, tiny.en cannot be
    expected to spell them. Not names: a sentence's first word, all-capitals acronyms, and the
    words of a line mostly capitalised (a Title Case heading or list item), nor any template or
    model sentence (the intro says the show's own words), unless no English dictionary holds the
    word ("Florimond Manca had ...", "Andrew Karpathy's RNN blog"): a capital there says nothing,
    but a word in no dictionary that the text writes capitalised is a name. Also the software
    named in inline code (`code_names`)."""
    lower: set[str] = set()
    for sentence in sentences:
        lower.update(w.lower() for w in _NAME_WORD.findall(sentence.text) if w.islower())
    found: set[str] = set()
    for sentence in sentences:
        if getattr(sentence, "origin", "source") != "source":
            continue
        text = sentence.text.replace("\u2019", "'")  # "Karpathy’s" is "Karpathy's", as wer_words reads it
        matches = list(_NAME_WORD.finditer(text))
        words = [m.group() for m in matches]
        found.update(w for w in words if re.match(r"[a-z]+[A-Z]|[A-Z]{2,}[a-z]", w))  # camel case
        if len(words) < 3:
            continue
        # In a line mostly capitalised (a Title Case heading or list item) a capital says nothing,
        # so only a word no English dictionary holds is a name there ("Andrew Karpathy's RNN blog",
        # "Tomas Mikolov's Thesis"; not "Future Project Possibilities").
        titled = sum(w[0].isupper() for w in words) > len(words) / 2
        for k, m in enumerate(matches):
            word, before = m.group(), text[: m.start()].rstrip()
            # inside the sentence: after a word or a comma, not after a colon, a bracket, a quote or a
            # dash; a sentence's first word only when no dictionary holds it ("Florimond Manca had ...")
            first = k == 0 or not before or not (before[-1].isalnum() or before[-1] == ",")
            if first and (k > 0 or _known(word.lower().removesuffix("'s")) is not False):
                continue
            base = word.lower().removesuffix("'s")
            if word[0].isupper() and not word.isupper() and not word.startswith("I'") and base not in lower \
                    and (not titled or _known(base) is False):
                found.add(word)
    found.update(code_names(sentences))
    out: list[list[str]] = []
    for word in sorted(found):
        for form in {word, word.removesuffix("'s")}:
            tokens = wer_words(form)
            if tokens and tokens not in out:
                out.append(tokens)
    return out


def forgive_names(ops: list[Op], positions: set[int]) -> list[Op]:
    """A proper name the recogniser heard but spelled its own way is not a voice error.

    tiny.en has never seen most surnames ("Uszkoreit" comes back as "Oskar Wright"). Inside a
    known name (authors, the show, the arXiv id), a substituted word and the extra words heard
    right beside it become kind "name", which does not count as an error. A name word not heard
    at all (a deletion) still counts: the check must still catch a skipped name.
    """
    out = list(ops)
    for k, op in enumerate(out):
        if op.kind == "sub" and op.ref in positions:
            out[k] = Op("name", op.ref, op.hyp)
            for step in (-1, 1):  # the extra heard words that belong to this name's misspelling
                j = k + step
                while 0 <= j < len(out) and out[j].kind == "ins":
                    out[j] = Op("name", None, out[j].hyp)
                    j += step
    return out


# The phonemizer Piper speaks from (espeak-ng, shipped inside piper-tts), with the recogniser's
# language. None: not available, and no word is forgiven for its sound.
_PHONEMIZER: Any = None
_PHONEMIZER_LOCK = threading.Lock()  # used when Piper does not expose its own
_SOUNDS: dict[str, str | None] = {}
_STRESS = str.maketrans("", "", "\u02c8\u02cc")  # primary and secondary stress marks


def _phonemize(word: str) -> str | None:
    global _PHONEMIZER
    try:
        from piper import voice as piper_voice
        from piper.phonemize_espeak import EspeakPhonemizer
    except ImportError:
        return None
    # espeak-ng keeps global state: share Piper's own phonemizer, under Piper's lock.
    with getattr(piper_voice, "_ESPEAK_PHONEMIZER_LOCK", _PHONEMIZER_LOCK):
        phonemizer = getattr(piper_voice, "_ESPEAK_PHONEMIZER", None) or _PHONEMIZER
        if phonemizer is None:
            phonemizer = _PHONEMIZER = EspeakPhonemizer()
            if hasattr(piper_voice, "_ESPEAK_PHONEMIZER"):
                piper_voice._ESPEAK_PHONEMIZER = phonemizer
        sentences = phonemizer.phonemize("en-us", word)
    return "".join("".join(p) for p in sentences).translate(_STRESS).strip(" .,;:!?") or None


def sound(word: str) -> str | None:
    """The phonemes of a (normalised) word as espeak-ng says it, stress marks dropped."""
    if word not in _SOUNDS:
        try:
            _SOUNDS[word] = _phonemize(word)
        except (RuntimeError, OSError):
            _SOUNDS[word] = None
    return _SOUNDS[word]


def forgive_sounds(ops: list[Op], ref: list[str], hyp: list[str]) -> list[Op]:
    """A word heard as another spelling of the same sounds is not a voice error.

    "peak" heard as "peek", "Recursers" as "recursors", "Karpathy" as "Carpathy": the voice speaks
    phonemes, not letters, and espeak-ng (the phonemizer Piper speaks from) gives both spellings
    the same ones, stress aside, so no recogniser could tell them apart from the audio. Such a
    substitution becomes kind "sound". Anything that sounds different ("heap" heard as "heat")
    stays an error, and so does a word not heard at all.
    """
    out = list(ops)
    for k, op in enumerate(out):
        if op.kind == "sub" and op.ref is not None and op.hyp is not None:
            said = sound(ref[op.ref])
            if said is not None and said == sound(hyp[op.hyp]):
                out[k] = Op("sound", op.ref, op.hyp)
    return out


# English words (pyspellchecker's list, 160,000 words from subtitles and books); None: not loaded yet,
# False: not available, and no word is forgiven as a typo.
_DICTIONARY: Any = None
TYPO_MIN_LETTERS = 5


def _known(word: str) -> bool | None:
    global _DICTIONARY
    if _DICTIONARY is None:
        try:
            from spellchecker import SpellChecker

            _DICTIONARY = SpellChecker(language="en", distance=1)
        except (ImportError, OSError, ValueError):
            _DICTIONARY = False
    return None if _DICTIONARY is False else word in _DICTIONARY


def one_edit(a: str, b: str) -> bool:
    """One letter added, dropped or changed, or two neighbours swapped ("fatser", "faster")."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(short == long_[:i] + long_[i + 1:] for i in range(len(long_)))


def forgive_typos(ops: list[Op], ref: list[str], hyp: list[str]) -> list[Op]:
    """The author's misspelling, heard as the word it misspells, is not a voice error.

    The script reads an entry's typos as written ("preivous", "fatser", "architecutre"); the voice
    says the letters, and the recogniser, like a listener, hears the English word they nearly
    spell. A substitution becomes kind "typo" only when the script's word is in no English
    dictionary, the heard one is, both have TYPO_MIN_LETTERS letters or more and the same first
    letter, and one edit turns one into the other. A real word heard wrong ("git" as "get"), a
    short one or an acronym ("async" as "sync", "RSS" as "ss") stays an error, and so does a heard
    word no spellchecker would offer for it (`PLAUSIBLE_FIX`), and a plural's "s" lost. Over the 107
    builds of real entries, posts and papers benched on 2026-12-03: 27 different words forgiven,
    misspellings ("matricies", "exmperiment"), British spellings the recogniser writes American
    ("initialisation") and names ("Recurse" as "recurs"), one doubtful ("pastable" as "passable");
    refused, the 17 others the dictionary test alone let through ("async" as "sync", "maths" as "matts").
    """
    out = list(ops)
    for k, op in enumerate(out):
        if op.kind != "sub" or op.ref is None or op.hyp is None:
            continue
        said, heard = ref[op.ref], hyp[op.hyp]
        if (min(len(said), len(heard)) >= TYPO_MIN_LETTERS and said[0] == heard[0] and said.isalpha() and heard.isalpha()
                and one_edit(said, heard) and said.rstrip("s") != heard.rstrip("s")  # a plural's "s" lost or added is heard
                and _known(heard) and _known(said) is False and _plausible_fix(said, heard)):
            out[k] = Op("typo", op.ref, op.hyp)
    return out


# The heard word must be a correction a spellchecker would offer: at least this fraction as common
# as its first choice among the words one edit away. "fatser" heard as "faster" (0.08 of "father")
# and "erros" as "errors" (0.27 of "error") are; "maths", a British word the list lacks, heard as
# "matts" (0.003 of "math") is not.
PLAUSIBLE_FIX = 0.05


def _plausible_fix(said: str, heard: str) -> bool:
    candidates = _DICTIONARY.candidates(said) or set()
    if heard not in candidates:
        return False
    top = max(_DICTIONARY.word_usage_frequency(c) for c in candidates)
    return _DICTIONARY.word_usage_frequency(heard) >= PLAUSIBLE_FIX * top


def compare(ref: list[str], hyp: list[str], names: list[list[str]] | None = None) -> list[Op]:
    """The alignment the WER counts: names (`forgive_names`), sounds (`forgive_sounds`) and the
    author's typos (`forgive_typos`) forgiven."""
    ops = forgive_sounds(forgive_names(align(ref, hyp), name_positions(ref, names or [])), ref, hyp)
    return forgive_typos(ops, ref, hyp)

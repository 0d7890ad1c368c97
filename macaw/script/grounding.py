"""The faithfulness gate: is a generated sentence supported by the source document?

A sentence passes when
  - every number in it (digits, or number words from two to twenty) appears in the source,
    and near the passage that supports it, so a result is not quoted with another's numbers,
  - every named entity in it (a capitalised word past the first, an acronym, a word with
    digits in it) appears in the source,
  - at least `min_content` of its content words (one word of its own in a short sentence) (not function words, not the few words a
    narrator uses to talk about a document) appear in the source, and
  - at least `min_local` of them appear within one passage of the source (a window of three
    neighbouring sentences), so a salad of words from all over the document fails, and
  - it keeps the passage's negation or hedge ("not", "unclear whether"), so "it remains
    unclear whether X" does not become "X".

The passage that best supports it is kept as `support`. Small models invent conferences and
co-authors; this gate is what keeps them out of the episode.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from macaw.script.spoken import split_sentences

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9'’]*|\d+(?:[.,]\d+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it it's its itself just let me more most
    my myself no nor not of off on once only or other our ours ourselves out over own same she should so some
    such than that that's the their theirs them themselves then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your yours yourself
    yourselves one ones many much may might must shall upon via per within without among across along around
    however thus therefore hence yet still even well like lot lots really quite rather just way things thing get
    got gets make made makes us i'm i've i'd i'll we're we've don't didn't can't isn't wasn't it'll there's
    s t d ll ve re m""".split()
)

# Words a narrator uses to talk about a document rather than to state what it says.
DISCOURSE = frozenset(
    """paper papers entry entries journal author authors writer write writes wrote written writing describe describes
    described discuss discusses discussed present presents presented propose proposes proposed show shows showed
    shown study studies work works episode podcast listener listeners today talk talks explain explains explained
    share shares shared reflect reflects reflecting look looks looked new approach approaches find finds found
    finding findings result results also overall main key part section sections topic topics idea ideas focus
    focuses focused cover covers covered introduce introduces introduced argue argues argued report reports
    reported summary summarize summarizes research researchers team article public""".split()
)

_NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15",
    "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19", "twenty": "20",
    "hundred": "100", "thousand": "1000", "million": "1000000", "billion": "1000000000",
    "twice": "2", "double": "2", "triple": "3", "half": "0.5",
}
# Words that flip or hedge a claim: a sentence must keep them when its passage has them.
_POLARITY = frozenset("not no never cannot can't unclear whether n't without neither nor fail fails failed unknown".split())


def stem(word: str) -> str:
    """A crude suffix stripper: enough to match 'models' with 'model' and 'trained' with 'training'."""
    w = word.lower().replace("’", "'").removesuffix("'s").strip("'")
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "ly", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            break
    return w[:7]


def normalise_number(token: str) -> str:
    token = token.replace(",", "")
    if "." in token:
        token = token.rstrip("0").rstrip(".") or "0"
    return token


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def numbers_in(text: str) -> list[str]:
    return [normalise_number(n) for n in _NUMBER.findall(text)]


def content_words(text: str) -> list[str]:
    return [t for t in tokens(text) if not t[0].isdigit() and t.lower() not in STOPWORDS and len(t) > 1]


def _is_entity(token: str, position: int) -> bool:
    if token[0].isdigit():
        return False
    if any(c.isdigit() for c in token):
        return True
    if len(token) > 1 and token.isupper() and token != "I":
        return True
    if any(c.isupper() for c in token[1:]):  # ResNet, PyTorch
        return True
    return position > 0 and token[0].isupper() and token.lower() not in STOPWORDS and token.lower() not in DISCOURSE


@dataclass
class Verdict:
    grounded: bool
    support: str
    score: float  # share of content words found in the supporting passage
    problems: list[str] = field(default_factory=list)


class SourceIndex:
    """The source document, indexed for checking sentences against it."""

    def __init__(self, text: str, *, extra: str = "", min_content: float = 0.8, min_local: float = 0.5):
        self.sentences: list[str] = []
        for paragraph in re.split(r"\n\s*\n|\n(?=\s*[-*•] )", text):
            self.sentences.extend(split_sentences(paragraph))
        everything = text + "\n" + extra
        self.numbers = set(numbers_in(everything))
        self.words = {t.lower() for t in tokens(everything)}
        self.stems = {stem(t) for t in tokens(everything)}
        self.min_content = min_content
        self.min_local = min_local
        self._sentence_stems = [frozenset(stem(w) for w in content_words(s)) for s in self.sentences]
        df = Counter(s for stems in self._sentence_stems for s in stems)
        n = max(1, len(self.sentences))
        self._idf = {s: math.log(1 + n / c) for s, c in df.items()}
        self._inverted: dict[str, list[int]] = {}
        for i, stems in enumerate(self._sentence_stems):
            for s in stems:
                self._inverted.setdefault(s, []).append(i)

    def __len__(self) -> int:
        return len(self.sentences)

    def _window(self, i: int) -> frozenset[str]:
        lo, hi = max(0, i - 1), min(len(self.sentences), i + 2)
        return frozenset().union(*self._sentence_stems[lo:hi])

    def best_matches(self, text: str, k: int = 1, exclude: set[str] | None = None) -> list[tuple[float, int]]:
        """Source sentences most like `text`, by the idf weight of the content words they share."""
        wanted = {stem(w) for w in content_words(text)}
        scores: Counter[int] = Counter()
        for s in wanted:
            for i in self._inverted.get(s, ()):
                scores[i] += self._idf.get(s, 0.0)
        ranked = []
        for i, score in scores.most_common():
            if exclude and self.sentences[i] in exclude:
                continue
            # Prefer a full sentence over a fragment when they tie on shared words.
            ranked.append((score / (1 + 0.02 * abs(len(self.sentences[i]) - 120) / 10), i))
        ranked.sort(key=lambda pair: (-pair[0], pair[1]))
        return ranked[:k]

    def best_sentence(self, text: str, exclude: set[str] | None = None) -> str:
        matches = self.best_matches(text, 1, exclude)
        return self.sentences[matches[0][1]] if matches else ""

    def check(self, sentence: str) -> Verdict:
        problems: list[str] = []
        for n in numbers_in(sentence):
            if n not in self.numbers:
                problems.append(f"number {n} is not in the source")
        for word in re.findall(r"[a-z]+", sentence.lower()):
            if word in _NUMBER_WORDS and word not in self.words and _NUMBER_WORDS[word] not in self.numbers:
                problems.append(f"number '{word}' is not in the source")
        toks = tokens(sentence)
        for position, tok in enumerate(toks):
            if _is_entity(tok, position) and tok.lower() not in self.words and stem(tok) not in self.stems:
                problems.append(f"name '{tok}' is not in the source")
        content = [w for w in content_words(sentence) if w.lower() not in DISCOURSE]
        stems = {stem(w) for w in content}
        if not stems and not numbers_in(sentence):
            return Verdict(False, "", 0.0, problems + ["says nothing the source can support"])
        if stems:
            unknown = sum(s not in self.stems for s in stems)
            # Short sentences may carry one word of their own ("used", "built"); longer ones a fifth.
            allowed = max(1 if len(stems) >= 4 else 0, int(len(stems) * (1 - self.min_content)))
            if unknown > allowed:
                missing = sorted(w for w in content if stem(w) not in self.stems)
                problems.append(f"words not in the source: {', '.join(missing[:5])}")
        best = self.best_matches(sentence, 3)
        support, local, support_at = "", 0.0, -1
        for _, i in best:
            window = self._window(i)
            share = len(stems & window) / len(stems) if stems else 1.0
            if share > local:
                support, local, support_at = self.sentences[i], share, i
        if stems and local < self.min_local:
            problems.append(f"no one passage supports it ({local:.0%} of its words)")
        if support_at >= 0:
            nearby = " ".join(self.sentences[max(0, support_at - 1): support_at + 2])
            near_numbers = set(numbers_in(nearby))
            for n in numbers_in(sentence):
                if n in self.numbers and n not in near_numbers:
                    problems.append(f"number {n} is not in the passage that supports it")
            said = {t.lower() for t in tokens(sentence)} | ({"n't"} if "n't" in sentence.lower() else set())
            passage = {t.lower() for t in tokens(support)} | ({"n't"} if "n't" in support.lower() else set())
            if bool(said & _POLARITY) != bool(passage & _POLARITY):
                problems.append("it drops or adds a negation or hedge of its passage")
        return Verdict(not problems, support, local, problems)


def _polarity(text: str) -> bool:
    said = {t.lower() for t in tokens(text)} | ({"n't"} if "n't" in text.lower() else set())
    return bool(said & _POLARITY)


def _said_math(passage: str) -> str:
    """The words the listener hears for the passage's math, so "d sub k" is found in ⟦d_k⟧."""
    from macaw.script.math import GREEK_GLYPHS, say, spans

    words = [say(span) or "" for span in spans(passage)]
    words += [name for glyph, name in GREEK_GLYPHS.items() if glyph in passage]
    return " ".join(words)


_WORDS = re.compile(r"[a-z0-9]+")
# Words that qualify what follows them: a shortened copy that keeps what follows keeps them too.
_QUALIFIERS = frozenset("""almost nearly about approximately roughly around likely potentially possibly may might could
    some most many often usually generally typically partially partly slightly mostly largely somewhat arguably""".split())
_QUALIFIER_PAIRS = frozenset({("more", "than"), ("less", "than"), ("fewer", "than"), ("at", "least"), ("at", "most"),
                              ("up", "to"), ("over", "the")})
MAX_SPANS, MIN_SPAN = 3, 3
_SAME = {"which": "that"}  # "models which learn" shortened to "models that learn"
FREE_WORDS = frozenset({"and", "the", "a", "an"})


def copied_spans(sentence: str, passage: str, partial: bool = False) -> list[tuple[int, int]] | None:
    """The sentence as pieces of the passage, in order: (start in the passage, length) per piece.

    Words only (lower case, punctuation aside), each piece the longest run of the passage's words
    that continues the sentence; None when a word of the sentence is not where it would have to be.
    """
    out_words = [_SAME.get(w, w) for w in _WORDS.findall(sentence.lower().replace("’", "'"))]
    src = [_SAME.get(w, w) for w in _WORDS.findall(passage.lower().replace("’", "'"))]
    spans: list[tuple[int, int]] = []
    i = pos = 0
    while i < len(out_words):
        best_len, best_at = 0, -1
        for j in range(pos, len(src)):
            n = 0
            while i + n < len(out_words) and j + n < len(src) and out_words[i + n] == src[j + n]:
                n += 1
            if n > best_len:
                best_len, best_at = n, j
        if best_len == 0:
            if (spans and out_words[i] in FREE_WORDS) or partial:  # "and" joining what is left of a list
                i += 1
                continue
            return None
        spans.append((best_at, best_len))
        pos, i = (0 if partial else best_at + best_len), i + best_len
    return spans


NEAR_COPY = 8  # words copied in a row: a sentence written "in its own words" that copies this much is judged as a copy
_LEAD_IN = re.compile(r"^(?:the authors|they|the paper|the researchers|the study)\s+\w+\s+(?:that\s+)?", re.I)


def longest_copied_run(sentence: str, passage: str) -> int:
    spans = copied_spans(sentence, passage, partial=True)
    return max((n for _, n in spans), default=0) if spans else 0


def copy_problems(sentence: str, passage: str) -> list[str]:
    """A sentence judged as a copy of its source: a narrator's lead-in ("The authors show that") aside."""
    from macaw.script.math import speak_sentence

    passage = speak_sentence(passage) or passage
    return _copy_problems(_LEAD_IN.sub("", sentence.strip()), passage)


def _copy_problems(sentence: str, passage: str) -> list[str]:
    """A shortened copy: a few long pieces of its source, in order, its qualifiers kept."""
    spans = copied_spans(sentence, passage)
    if spans is None:
        return ["not made of its source sentence's words in their order"]
    if len(spans) > MAX_SPANS or any(n < MIN_SPAN for _, n in spans):
        return [f"cut into {len(spans)} pieces of its source sentence, some under {MIN_SPAN} words"]
    src = _WORDS.findall(passage.lower().replace("’", "'"))
    kept = {j + k for j, n in spans for k in range(n)}
    for i, word in enumerate(src):
        if i in kept:
            continue
        pair = i + 2 < len(src) + 1 and i + 1 < len(src) and (word, src[i + 1]) in _QUALIFIER_PAIRS
        after = i + 2 if pair else i + 1
        if (word in _QUALIFIERS or pair) and after in kept:
            return [f"drops '{word}{' ' + src[i + 1] if pair else ''}' before what it keeps"]
    return []


def judge(sentence: str, claimed: list[str], *, ordered: bool = False) -> Verdict:
    """Is `sentence` supported by the one or two source sentences it claims?

    Every content word (by stem; a narrator's words such as "the authors" aside), every
    number (digits or number words) and every named entity of the sentence must be found in
    the claimed sentences, and a negation or hedge there must be kept (and none added);
    `ordered`: a shortened copy must also be a few long pieces of the source, in its order, with
    the source's qualifiers ("almost", "more than") kept before what it keeps (copied_spans). The
    verdict is computed here and nowhere else: `grounded` is never set by a caller.
    """
    passage = " ".join(claimed)
    problems: list[str] = []
    if not passage.strip():
        return Verdict(False, "", 0.0, ["claims no source sentence"])
    p_tokens = tokens(passage + " " + _said_math(passage))
    p_words = {t.lower() for t in p_tokens}
    p_stems = {stem(t) for t in p_tokens}
    p_numbers = set(numbers_in(passage))
    for n in numbers_in(sentence):
        if n not in p_numbers:
            problems.append(f"number {n} is not in its source sentence")
    for word in re.findall(r"[a-z]+", sentence.lower()):
        if word in _NUMBER_WORDS and word not in p_words and _NUMBER_WORDS[word] not in p_numbers:
            problems.append(f"number '{word}' is not in its source sentence")
    for position, tok in enumerate(tokens(sentence)):
        if _is_entity(tok, position) and tok.lower() not in p_words and stem(tok) not in p_stems:
            problems.append(f"name '{tok}' is not in its source sentence")
    letters = {t for t in p_tokens if len(t) == 1}
    for tok in tokens(sentence):  # a symbol said as a letter ("d sub v") must be the passage's
        if len(tok) == 1 and tok.isalpha() and tok not in "aAI" and tok not in letters:
            problems.append(f"symbol '{tok}' is not in its source sentence")
    content = [w for w in content_words(sentence) if w.lower() not in DISCOURSE and w.lower() not in _NUMBER_WORDS]
    stems = {stem(w) for w in content}
    if not stems and not numbers_in(sentence):
        return Verdict(False, passage, 0.0, problems + ["says nothing its source can support"])
    missing = sorted({w for w in content if stem(w) not in p_stems and w.lower() not in p_words})
    if missing:
        problems.append(f"words not in its source sentence: {', '.join(missing[:5])}")
    found = 1.0 - len({stem(w) for w in missing}) / len(stems) if stems else 1.0
    if _polarity(sentence) != _polarity(passage):
        problems.append("it drops or adds a negation or hedge of its source sentence")
    if ordered and not problems:
        problems += copy_problems(sentence, passage)
    return Verdict(not problems, passage, found, problems)


def claim(index: "SourceIndex", sentence: str, pool: list[str] | None = None) -> Verdict:
    """The verdict against the best one or two adjacent sentences of `pool` (default: the document).

    For a sentence the model wrote from notes: the sentence claims the source sentences it
    shares most with, one alone or with a neighbour; it passes only if one such claim holds.
    """
    sentences = pool if pool is not None else index.sentences
    if pool is None:
        ranked = [i for _, i in index.best_matches(sentence, 6)]
    else:
        wanted = {stem(w) for w in content_words(sentence)}
        scored = sorted(range(len(sentences)), key=lambda i: -len(wanted & {stem(w) for w in content_words(sentences[i])}))
        ranked = scored[:6]
    best: Verdict | None = None
    for i in ranked:
        for lo, hi in ((i, i + 1), (i - 1, i + 1), (i, i + 2)):
            if lo < 0 or hi > len(sentences):
                continue
            verdict = judge(sentence, sentences[lo:hi])
            if verdict.grounded:
                return verdict
            if best is None or verdict.score > best.score:
                best = verdict
    return best or Verdict(False, "", 0.0, ["no source sentence shares its words"])


def similar(a: str, b: str, threshold: float = 0.8) -> bool:
    """Near-duplicate sentences: the same content words, give or take a few."""
    sa, sb = {stem(w) for w in content_words(a)}, {stem(w) for w in content_words(b)}
    if not sa or not sb:
        return a.strip().lower() == b.strip().lower()
    return len(sa & sb) / len(sa | sb) >= threshold

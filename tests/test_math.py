"""Math said as a person says it (macaw/script/math.py), compared with MathJax's speech-rule-engine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from macaw.artifacts import MATH_CLOSE as C, MATH_OPEN as O
from macaw.script.math import is_display, say, speak_sentence
from macaw.script.spoken import to_spoken


@pytest.mark.parametrize("latex, words", [
    ("d_k", "d sub k"),
    ("QK^T", "Q K transpose"),
    ("QK^\\top", "Q K transpose"),
    ("O(n^2)", "order n squared"),
    ("O(n \\cdot d^2)", "order n times d squared"),
    ("\\sqrt{d_k}", "the square root of d sub k"),
    ("P_{drop}", "P drop"),
    ("P_{\\text{drop}}", "P drop"),
    ("d_{\\text{model}} = 512", "d model equals 512"),
    ("\\frac{1}{2}", "one half"),
    ("\\frac{x}{y}", "x over y"),
    ("10^{-3}", "10 to the minus 3"),
    ("x^n", "x to the n"),
    ("W^{-1}", "W inverse"),
    ("W^Q_i", "W super Q sub i"),
    ("\\alpha \\le 1", "alpha is at most 1"),
    ("\\beta_1 = 0.9", "beta sub 1 equals 0.9"),
    ("\\epsilon_{ls} = 0.1", "epsilon sub l s equals 0.1"),
    ("\\hat{y}", "y hat"),
    ("\\log(n)", "log of n"),
    ("\\mathrm{softmax}(x)", "softmax of x"),
    ("y_1, \\ldots, y_m", "y sub 1, and so on, y sub m"),
    ("(y_1, ..., y_m)", "y sub 1, and so on, y sub m"),
    ("\\sim 10^{-22}\\,\\mathrm{eV}", "about 10 to the minus 22 electron volts"),
    ("3.5\\,\\text{days}", "3.5 days"),
    ("95\\%", "95 percent"),
])
def test_inline_math_in_words(latex, words):
    assert say(latex) == words


@pytest.mark.parametrize("latex", [
    "\\begin{array}{cc} a & b \\end{array}",  # no words for an environment
    "\\mathfrak{g} \\rtimes \\mathcal{H}",  # an unknown operator
    "a + b + c + d + e + f + g + h",  # too long to follow by ear
    "",
])
def test_math_that_cannot_be_said_is_refused(latex):
    assert say(latex) is None


def test_a_sentence_with_math_is_spoken_or_dropped_whole():
    assert speak_sentence(f"The keys have dimension {O}d_k{C}.") == "The keys have dimension d sub k."
    assert speak_sentence(f"Attention costs {O}O(n^2){C} time.") == "Attention costs order n squared time."
    assert speak_sentence(f"It uses {O}\\begin{{cases}}x\\end{{cases}}{C} here.") is None


def test_display_equations_are_told_apart():
    assert is_display(f"{O}\\mathrm{{Attention}}(Q,K,V) = \\mathrm{{softmax}}(QK^T)V{C}")
    assert is_display(f"  {O}x = y{C} .")
    assert not is_display(f"The keys have dimension {O}d_k{C}.")


def test_the_voice_gets_plain_words():
    # What to_spoken (the voice's normaliser) makes of the math words: nothing raw left.
    spoken = to_spoken(speak_sentence(f"We set {O}P_{{drop}} = 0.1{C} and {O}\\beta_2 = 0.98{C}.") or "")
    assert spoken == "We set P drop equals zero point one and beta sub two equals zero point nine eight."


# ClearSpeak, as MathJax's speech-rule-engine 4 (npm `speech-rule-engine`, locale en, domain
# clearspeak) says the same expressions given as MathML; recorded with node on 2026-12-02 (the
# script below reruns it when MACAW_SRE points at a folder holding node_modules/speech-rule-engine).
CLEARSPEAK = {
    "d_k": ("<msub><mi>d</mi><mi>k</mi></msub>", "d sub k"),
    "QK^T": ("<mi>Q</mi><msup><mi>K</mi><mi>T</mi></msup>", "Q K to the T power"),
    "O(n^2)": ("<mi>O</mi><mo>(</mo><msup><mi>n</mi><mn>2</mn></msup><mo>)</mo>", "O of open paren n squared close paren"),
    "\\sqrt{d_k}": ("<msqrt><msub><mi>d</mi><mi>k</mi></msub></msqrt>", "the square root of d sub k"),
    "P_{drop}": ("<msub><mi>P</mi><mrow><mi>d</mi><mi>r</mi><mi>o</mi><mi>p</mi></mrow></msub>", "P sub d r o p"),
    "\\frac{1}{2}": ("<mfrac><mn>1</mn><mn>2</mn></mfrac>", "one half"),
    "\\frac{x}{y}": ("<mfrac><mi>x</mi><mi>y</mi></mfrac>", "x over y"),
    "10^{-3}": ("<msup><mn>10</mn><mrow><mo>-</mo><mn>3</mn></mrow></msup>", "10 to the negative 3 power"),
    "\\alpha \\le 1": ("<mi>α</mi><mo>≤</mo><mn>1</mn>", "alpha is less than or equal to 1"),
    "x^n": ("<msup><mi>x</mi><mi>n</mi></msup>", "x to the n-th power"),
    "\\hat{y}": ("<mover><mi>y</mi><mo>^</mo></mover>", "y hat"),
}
# Where Macaw says it otherwise, on purpose: a listener hears a transpose, a big-O as "order",
# a word-like subscript as the word, and the shorter "to the minus 3", "is at most", "to the n".
DEPARTURES = {"QK^T", "O(n^2)", "P_{drop}", "10^{-3}", "\\alpha \\le 1", "x^n"}


def test_agrees_with_clearspeak_except_where_chosen():
    same = {tex for tex, (_, words) in CLEARSPEAK.items() if say(tex) == words}
    assert same == set(CLEARSPEAK) - DEPARTURES
    assert len(same) >= 5


def test_clearspeak_recording_is_current():
    folder = os.environ.get("MACAW_SRE")
    if not folder or not shutil.which("node") or not (Path(folder) / "node_modules" / "speech-rule-engine").is_dir():
        pytest.skip("set MACAW_SRE to a folder with `npm install speech-rule-engine` to rerun the comparison")
    script = ("const sre=require('speech-rule-engine');(async()=>{await sre.setupEngine({locale:'en',domain:'clearspeak',"
              "modality:'speech'});await sre.engineReady();const c=JSON.parse(require('fs').readFileSync(0,'utf8'));"
              "const o={};for(const [k,m] of Object.entries(c))o[k]=sre.toSpeech('<math>'+m+'</math>');"
              "console.log(JSON.stringify(o));})();")
    cases = {tex: mml for tex, (mml, _) in CLEARSPEAK.items()}
    out = subprocess.run(["node", "-e", script], input=json.dumps(cases), capture_output=True, text=True, cwd=folder,
                         timeout=60, check=True)
    assert json.loads(out.stdout) == {tex: words for tex, (_, words) in CLEARSPEAK.items()}


@pytest.mark.parametrize("glyphs, words", [
    ("φ", "phi"), ("N ≈ 3", "N is approximately 3"), ("x = 5", "x equals 5"), ("n", "n"),
    ("l1 = tanh(W 1z + b1), (3)", None),  # a PDF's text layer lost the subscripts: not said
    ("(1 -λj ) (2)", None), ("w → 0 as |x| → ∞,", None), ("SEAL (LM, |n| = 5) 40.5 60.2 73.1", None),
    ("d_k", "d sub k"),  # LaTeX left in a text layer is still LaTeX
])
def test_pdf_glyph_math_is_said_only_when_nothing_was_lost(glyphs, words):
    assert say(glyphs, glyphs=True) == words


def test_latex_without_commands_is_still_said():
    assert say("O(n)") == "order n" and say("x + y") == "x plus y"
    assert speak_sentence(f"The cost is {O}l1 = tanh(W 1z + b1){C} per step.", glyphs=True) is None

"""LaTeX (one inlined, macro-expanded text) to a document a narrator can read, with pylatexenc.

pylatexenc's LatexWalker gives the node tree (macros with their arguments, environments,
math, groups, comments); this module walks it and keeps what a listener should hear:

- the abstract, and the section tree (`\\section` level 1, `\\subsection` 2, ...);
  after `\\appendix` (or inside an `appendices` environment) sections are marked appendix;
- prose, with accents and specials turned into Unicode by pylatexenc's LatexNodes2Text;
- math kept as written, between MATH_OPEN and MATH_CLOSE: inline `$..$` and `\\(..\\)` in the
  sentence, display math (`\\[..\\]`, `equation`, `align`, ...) as a paragraph of its own;
- figure and table bodies dropped, their captions kept aside; code blocks kept aside;
- citations dropped (`\\citet` keeps the authors' names when the .bbl gives them), `\\ref`
  replaced by the number LaTeX would print, labels, footnotes and the bibliography dropped.

Runs in the sandboxed child; it never sees a file, only text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from macaw.artifacts import MATH_CLOSE, MATH_OPEN

_SECTION_LEVEL = {"part": 1, "chapter": 1, "section": 1, "subsection": 2, "subsubsection": 3}
_FLOATS = {"figure", "figure*", "table", "table*", "wrapfigure", "wraptable", "sidewaysfigure", "sidewaystable",
           "SCfigure", "subfigure", "algorithm", "algorithm*", "listing", "floatrow", "subtable"}
_DISPLAY = {"equation", "equation*", "align", "align*", "gather", "gather*", "multline", "multline*", "eqnarray",
            "eqnarray*", "displaymath", "flalign", "flalign*", "alignat", "alignat*", "dmath", "dmath*", "split", "IEEEeqnarray"}
_DROP_ENVS = {"thebibliography", "tabular", "tabular*", "tabularx", "longtable", "tikzpicture", "picture", "algorithmic",
              "pspicture", "filecontents", "filecontents*", "titlepage", "keywords", "IEEEkeywords", "acks", "CCSXML",
              "references", "comment", "tcolorbox"}
_CODE_ENVS = {"verbatim", "verbatim*", "lstlisting", "minted", "Verbatim", "alltt"}
_LIST_ENVS = {"itemize", "enumerate", "description", "compactitem", "compactenum", "inparaenum"}
_CITES = {"cite", "citep", "citealp", "citeyear", "citeyearpar", "parencite", "footcite", "nocite", "Cite", "citenum",
          "autocite", "supercite", "textcite", "citeauthor", "citet", "Citet", "Citeauthor", "citealt", "Citep"}
_NAMED_CITES = {"citet", "Citet", "citeauthor", "Citeauthor", "textcite", "citealt"}
_REFS = {"ref", "eqref", "cref", "Cref", "autoref", "pageref", "vref", "nameref", "Autoref", "cpageref", "subref"}
_DROP_MACROS = {"label", "footnote", "footnotetext", "footnotemark", "thanks", "marginpar", "includegraphics", "vspace",
                "hspace", "bibliography", "bibliographystyle", "maketitle", "tableofcontents", "newpage", "clearpage",
                "pagestyle", "thispagestyle", "setlength", "addtolength", "setcounter", "addtocounter", "centering",
                "noindent", "newtheorem", "theoremstyle", "graphicspath", "hypersetup", "input", "include", "todo",
                "affiliation", "affil", "address", "email", "institute", "keywords", "author", "title", "date", "and",
                "linenumbers", "acmConference", "acmYear", "copyrightyear", "ccsdesc", "setcopyright", "icmltitle",
                "icmlauthor", "icmlaffiliation", "icmlcorrespondingauthor", "icmlkeywords", "printAffiliationsAndNotice",
                "newcolumntype", "definecolor", "captionsetup", "subcaption", "resizebox", "scalebox", "newline",
                "linebreak", "pagebreak", "smallskip", "medskip", "bigskip", "vfill", "hfill", "protect", "xspace",
                "IEEEoverridecommandlockouts", "IEEEpeerreviewmaketitle", "pdfoutput", "raggedbottom", "balance",
                "acmDOI", "acmISBN", "acmPrice", "received", "accepted", "published", "editor", "corres", "orcid",
                "IEEEauthorblockN", "IEEEauthorblockA", "titlerunning", "authorrunning", "tnotetext", "fntext", "cortext",
                "pacs", "preprint", "subjclass", "PACS", "msc", "doi", "arxiv"}
_TEXT_MACROS = {"textbf", "emph", "textit", "textsc", "texttt", "textrm", "textsf", "textnormal", "mbox", "text",
                "underline", "textup", "textmd", "textsl", "hbox", "uline", "textcolor", "colorbox", "fbox", "makebox",
                "boldsymbol", "mathrm", "url", "href", "enquote", "emph*", "ul", "mathbf"}


def _context() -> Any:
    from pylatexenc.latexwalker import get_default_latex_context_db
    from pylatexenc.macrospec import EnvironmentSpec, MacroSpec

    db = get_default_latex_context_db().filter_context()  # a copy we may extend
    specs = [MacroSpec(n, "*[[{") for n in _CITES]
    specs += [MacroSpec(n, "*{") for n in _REFS]
    specs += [MacroSpec(n, "*[{") for n in ("caption", "subcaption", "paragraph", "subparagraph")]
    specs += [MacroSpec(n, "[{") for n in ("footnote", "thanks", "footnotetext", "todo", "affiliation", "affil", "institute")]
    specs += [MacroSpec(n, "{") for n in ("email", "address", "keywords", "graphicspath", "hypersetup", "ccsdesc", "icmltitle",
                                          "icmlaffiliation", "icmlkeywords", "setcopyright", "copyrightyear", "acmYear",
                                          "icmlcorrespondingauthor", "theoremstyle", "pdfoutput", "uline", "ul", "enquote",
                                          "pagestyle", "thispagestyle", "bibliographystyle", "acmDOI", "acmISBN", "acmPrice",
                                          "received", "accepted", "published", "editor", "corres", "orcid", "IEEEauthorblockN",
                                          "IEEEauthorblockA", "titlerunning", "authorrunning", "tnotetext", "fntext", "cortext",
                                          "pacs", "preprint", "keywords", "subjclass", "PACS", "msc", "doi", "arxiv")]
    specs += [MacroSpec(n, "{{") for n in ("href", "textcolor", "colorbox", "setlength", "addtolength", "setcounter",
                                           "addtocounter", "icmlauthor", "definecolor", "newcolumntype", "resizebox")]
    specs += [MacroSpec("abstract", "{"), MacroSpec("scalebox", "{"), MacroSpec("captionsetup", "[{"), MacroSpec("newtheorem", "*{[{["),
              MacroSpec("acmConference", "[{{{"), MacroSpec("bibitem", "[{")]
    envs = [EnvironmentSpec(n, "[") for n in ("theorem", "lemma", "proof", "definition", "corollary", "proposition", "remark",
                                              "example", "claim", "fact", "conjecture", "assumption", "observation")]
    envs += [EnvironmentSpec("wrapfigure", "[{{"), EnvironmentSpec("wraptable", "[{{"), EnvironmentSpec("minipage", "[{"),
             EnvironmentSpec("subfigure", "[{"), EnvironmentSpec("thebibliography", "{"), EnvironmentSpec("tabularx", "{{"),
             EnvironmentSpec("tabular*", "{[{"), EnvironmentSpec("alignat", "{"), EnvironmentSpec("alignat*", "{")]
    db.add_context_category("macaw", macros=specs, environments=envs, prepend=True)
    return db


@dataclass
class Parsed:
    title: str = ""
    abstract: str = ""
    sections: list[dict[str, Any]] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    guarded: int = 0  # control words and braces tidy() had to strip: what the walk let through


class _Walker:
    def __init__(self, theorems: dict[str, tuple[str, str, str]], cite_names: dict[str, str]):
        from pylatexenc.latex2text import LatexNodes2Text

        self.l2t = LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=True)
        self.theorems = theorems  # env -> (display name, counter name, reset-by counter)
        self.cite_names = cite_names
        self.out = Parsed()
        self.heading = ""
        self.level = 1
        self.appendix = False
        self.paragraphs: list[str] = []
        self.current: list[str] = []
        self.counters: dict[str, int] = {}
        self.section_number: list[int] = []
        self.labels: dict[str, tuple[str, str]] = {}  # label -> (kind, number)
        self.context = ("section", "")

    # ---------------------------------------------------------------- output
    def emit(self, text: str) -> None:
        self.current.append(text)

    def end_paragraph(self) -> None:
        text = "".join(self.current)
        self.current = []
        if text.strip():
            self.paragraphs.append(text)

    def close_section(self) -> None:
        self.end_paragraph()
        if self.paragraphs or self.heading:
            self.out.sections.append({"heading": self.heading, "paragraphs": self.paragraphs, "level": self.level,
                                      "appendix": self.appendix})
        self.paragraphs = []
        self.heading = ""

    # ---------------------------------------------------------------- walking
    def walk(self, nodes: list[Any] | None) -> None:
        for node in nodes or []:
            self.node(node)

    def node(self, node: Any) -> None:
        kind = type(node).__name__
        if kind == "LatexCharsNode":
            self.chars(node.chars)
        elif kind == "LatexGroupNode":
            self.walk(node.nodelist)
        elif kind == "LatexCommentNode":
            pass
        elif kind == "LatexMathNode":
            self.math(node)
        elif kind == "LatexEnvironmentNode":
            self.environment(node)
        elif kind == "LatexMacroNode":
            self.macro(node)
        elif kind == "LatexSpecialsNode":
            self.emit(self.l2t.nodelist_to_text([node]))

    def chars(self, text: str) -> None:
        parts = re.split(r"\n[ \t]*\n\s*", text)
        for i, part in enumerate(parts):
            if i:
                self.end_paragraph()
            self.emit(part.replace("&", " "))

    def text_of(self, nodes: list[Any] | None, *, math: bool = True) -> str:
        """The reading text of some nodes, without touching the section being built."""
        saved = self.current, self.paragraphs
        self.current, self.paragraphs = [], []
        self.walk(nodes)
        self.end_paragraph()
        text = " ".join(self.paragraphs)
        self.current, self.paragraphs = saved
        if not math:
            text = re.sub(f"{MATH_OPEN}(.*?){MATH_CLOSE}", lambda m: _math_words(m.group(1)), text, flags=re.S)
        return " ".join(text.split())

    def math(self, node: Any) -> None:
        inner = "".join(n.latex_verbatim() for n in node.nodelist or [])
        inner = _strip_labels(inner, self)
        if node.displaytype == "display":
            self.end_paragraph()
            self.emit(MATH_OPEN + " ".join(inner.split()) + MATH_CLOSE)
            self.end_paragraph()
        elif inner.strip():
            self.emit(MATH_OPEN + " ".join(inner.split()) + MATH_CLOSE)

    def environment(self, node: Any) -> None:
        name = node.environmentname
        if name == "document":
            self.walk(node.nodelist)
        elif name == "abstract":
            self.out.abstract = "\n\n".join(self._block(node.nodelist))
        elif name in _FLOATS:
            self._captions(node.nodelist, name.rstrip("*"))
        elif name in _DISPLAY:
            self.end_paragraph()
            if not name.endswith("*"):
                self.counters["equation"] = self.counters.get("equation", 0) + 1
                self.context = ("equation", str(self.counters["equation"]))
            body = _strip_labels(node.latex_verbatim(), self)
            self.emit(MATH_OPEN + " ".join(body.split()) + MATH_CLOSE)
            self.end_paragraph()
        elif name in _CODE_ENVS:
            body = re.sub(r"^\\begin\{[^}]*\}(\[[^\]]*\])?(\{[^}]*\})?|\\end\{[^}]*\}$", "", node.latex_verbatim().strip())
            self.out.code.append(body.strip("\n"))
        elif name in _DROP_ENVS or name.startswith("tabular"):
            pass
        elif name in _LIST_ENVS:
            self.end_paragraph()
            self.walk(node.nodelist)
            self.end_paragraph()
        elif name in ("acknowledgments", "acknowledgements", "acknowledgment", "acknowledgement"):
            self.close_section()
            self.heading, self.level = "Acknowledgments", 1
            self.walk(node.nodelist)
            self.close_section()
        elif name in ("appendix", "appendices", "subappendices"):
            self.close_section()
            self.appendix = True
            self.walk(node.nodelist)
        elif name in self.theorems or name in ("proof",):
            self.end_paragraph()
            if name == "proof":
                args = node.nodeargd.argnlist if node.nodeargd else []
                label = self.text_of([args[-1]] if args and args[-1] is not None else [], math=False).rstrip(".")
                self.emit(f"{label}. " if label else "Proof. ")
            else:
                shown, counter, reset = self.theorems[name]
                self.counters[counter] = self.counters.get(counter, 0) + 1
                number = str(self.counters[counter])
                if reset == "section" and self.section_number:
                    number = f"{self.section_number[0]}.{number}"
                self.context = (shown, number)
                args = node.nodeargd.argnlist if node.nodeargd else []
                label = self.text_of([args[-1]] if args and args[-1] is not None else [], math=False)
                self.emit(f"{shown} {number} ({label}). " if label else f"{shown} {number}. ")
            self.walk(node.nodelist)
            self.end_paragraph()
        else:
            self.walk(node.nodelist)

    def _block(self, nodes: list[Any]) -> list[str]:
        saved = self.current, self.paragraphs
        self.current, self.paragraphs = [], []
        self.walk(nodes)
        self.end_paragraph()
        block = self.paragraphs
        self.current, self.paragraphs = saved
        return block

    def _captions(self, nodes: list[Any] | None, kind: str) -> None:
        kind = {"wrapfigure": "figure", "wraptable": "table", "sidewaysfigure": "figure", "sidewaystable": "table",
                "SCfigure": "figure", "subfigure": "subfigure", "subtable": "subtable"}.get(kind, kind)
        if kind in ("figure", "table", "algorithm"):
            self.counters[kind] = self.counters.get(kind, 0) + 1
            self.context = (kind, str(self.counters[kind]))
        for node in nodes or []:
            name = type(node).__name__
            if name == "LatexMacroNode" and node.macroname == "caption":
                args = node.nodeargd.argnlist if node.nodeargd else []
                text = self.text_of([args[-1]] if args and args[-1] is not None else [])
                if text:
                    self.out.captions.append(f"{kind.capitalize()} {self.context[1]}: {text}" if kind in ("figure", "table") else text)
            elif name == "LatexMacroNode" and node.macroname == "label":
                self._label(node)
            elif name == "LatexEnvironmentNode":
                self._captions(node.nodelist, node.environmentname if node.environmentname in _FLOATS else "inner")
            elif name == "LatexGroupNode":
                self._captions(node.nodelist, "inner")

    def _label(self, node: Any) -> None:
        key = _arg_text(node, -1)
        if key:
            self.labels[key.strip()] = self.context

    def macro(self, node: Any) -> None:
        name = node.macroname
        args = node.nodeargd.argnlist if node.nodeargd else []
        if name in _SECTION_LEVEL or name in ("section*", "subsection*"):
            self.close_section()
            self.heading = self.text_of([args[-1]] if args and args[-1] is not None else [], math=False)
            self.level = _SECTION_LEVEL.get(name, 1)
            starred = bool(args and args[0] is not None and getattr(args[0], "chars", "") == "*")
            if not starred and name != "part":
                depth = self.level
                self.section_number = (self.section_number + [0] * depth)[:depth]
                self.section_number[depth - 1] += 1
                prefix = _letter(self.section_number[0]) if self.appendix else str(self.section_number[0])
                self.context = ("section", ".".join([prefix] + [str(n) for n in self.section_number[1:]]))
                if depth == 1:
                    for counter in self.theorems.values():
                        if counter[2] == "section":
                            self.counters[counter[1]] = 0
        elif name in ("paragraph", "subparagraph"):
            self.end_paragraph()
            title = self.text_of([args[-1]] if args and args[-1] is not None else [], math=False).rstrip()
            if title:
                self.emit(title if title.endswith((".", "?", "!", ":")) else title + ". ")
                self.emit(" ")
        elif name == "abstract" and args and args[-1] is not None:  # \abstract{...}, as some classes spell it
            self.out.abstract = "\n\n".join(self._block([args[-1]]))
        elif name == "S":
            self.emit("Section ")
        elif name == "appendix":
            self.close_section()
            self.appendix = True
            self.section_number = []
        elif name == "label":
            self._label(node)
        elif name in _CITES:
            keys = [k.strip() for k in _arg_text(node, -1).split(",")]
            if name in _NAMED_CITES:
                names = [self.cite_names[k] for k in keys if k in self.cite_names]
                if names:
                    self.emit(" and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1])
                    return
            self.emit("\x00CITES\x00" if len(keys) > 1 else "\x00CITE\x00")
        elif name in _REFS:
            keys = [k.strip() for k in _arg_text(node, -1).split(",") if k.strip()]
            self.emit("".join(f"\x00REF:{name}:{k}\x00" for k in keys[:1]))
        elif name == "caption":
            text = self.text_of([args[-1]] if args and args[-1] is not None else [])
            if text:
                self.out.captions.append(text)
        elif name == "item":
            self.end_paragraph()
            label = self.text_of([args[0]] if args and args[0] is not None else [])
            if label:
                self.emit(label.rstrip(".:") + ": ")
        elif name in ("\\", "newline", "par", "linebreak"):
            self.emit(" ") if name != "par" else self.end_paragraph()
        elif name in _DROP_MACROS or name.startswith(("vspace", "hspace")):
            pass
        elif name in _TEXT_MACROS:
            # The text is the last argument: \href{url}{text}, \textcolor{red}{text}.
            last = next((a for a in reversed(args) if a is not None), None)
            if name == "url" and last is not None:
                self.emit(" ".join(last.latex_verbatim().strip("{}").split()))
            elif last is not None:
                self.walk([last])
        else:
            self.emit(self.l2t.nodelist_to_text([node]))

    # ---------------------------------------------------------------- finishing
    def finish(self) -> Parsed:
        self.close_section()

        def fix(text: str) -> str:
            text = re.sub("\x00REF:([^:]*):([^\x00]*)\x00", lambda m: self._ref(m.group(1), m.group(2)), text)
            return tidy(text, self.out)

        for s in self.out.sections:
            s["text"] = "\n\n".join(p for p in (fix(p) for p in s.pop("paragraphs")) if p)
        self.out.abstract = "\n\n".join(p for p in (fix(p) for p in self.out.abstract.split("\n\n")) if p)
        self.out.captions = [fix(c) for c in self.out.captions]
        self.out.sections = [s for s in self.out.sections if s["text"] or s["heading"]]
        return self.out

    def _ref(self, command: str, key: str) -> str:
        found = self.labels.get(key)
        if found is None:
            return "\x00UNREF\x00"
        kind, number = found
        if command in ("cref", "Cref", "autoref", "Autoref"):
            shown = {"section": "Appendix" if number[:1].isalpha() else "Section", "equation": "Equation"}.get(kind, kind.capitalize())
            return f"{shown} {number}"
        return f"({number})" if command == "eqref" else number


def _letter(n: int) -> str:
    return chr(ord("A") + (n - 1) % 26)


def _arg_text(node: Any, index: int) -> str:
    args = node.nodeargd.argnlist if node.nodeargd else []
    if not args or args[index] is None:
        return ""
    return args[index].latex_verbatim().strip().removeprefix("{").removesuffix("}")


def _strip_labels(latex: str, walker: _Walker) -> str:
    for key in re.findall(r"\\label\s*\{([^}]*)\}", latex):
        walker.labels[key.strip()] = walker.context
    return re.sub(r"\\(label|nonumber|notag)\s*(\{[^}]*\})?", "", latex)


def _math_words(latex: str) -> str:
    """Math inside a heading, as plain text: the letters and digits, without control sequences."""
    text = re.sub(r"\\[A-Za-z]+", " ", latex)
    return " ".join(re.sub(r"[{}_^$\\]", "", text).split())


_REF_WORDS = r"(?:Figures?|Figs?\.|Tables?|Tabs?\.|Sections?|Secs?\.|Eqs?\.|Equations?|Appendix|Appendices|Theorems?|Lemmas?|Algorithms?|Chapters?|Lines?|Definitions?|Corollary|Propositions?|Claims?|Steps?)"


def tidy(text: str, stats: Parsed | None = None) -> str:
    """Reading text from the walker's pieces: dropped citations leave no debris, spaces settle."""
    # "Ref.~\cite{x}" names the citation as a noun: it becomes "the cited work(s)"; a bare one goes.
    text = re.sub(r"\b[Rr]efs?\.\s*\x00CITES?\x00(?:[\s,;]*\x00CITES?\x00)*",
                  lambda m: "the cited works" if "CITES" in m.group(0) or m.group(0).count("CITE") > 1 or "efs" in m.group(0) else "the cited work", text)
    text = text.replace("\x00CITES\x00", "\x00CITE\x00")
    text = re.sub(r"\x00CITE\x00(?:[\s,;]*\x00CITE\x00)*", "\x00CITE\x00", text)
    text = re.sub(r"[\[(]\s*\x00CITE\x00\s*[\])]", "\x00CITE\x00", text)
    text = re.sub(r"\s*\x00CITE\x00", "", text)
    text = re.sub(rf"(?:\b{_REF_WORDS}[\s~]*)?\x00UNREF\x00", "", text)
    text = text.replace("\x00", "").replace("\u00a0", " ")
    # Math is kept exactly as written: set aside while the prose around it is tidied.
    maths: list[str] = []

    def keep(m: re.Match[str]) -> str:
        maths.append(m.group(0))
        return f"\x01{len(maths) - 1}\x01"

    text = re.sub(f"{MATH_OPEN}.*?{MATH_CLOSE}", keep, text, flags=re.S)
    # No braces or control words survive outside math (pylatexenc leaves an unknown command's
    # name out, but a stray brace or a verbatim backslash could remain).
    if stats is not None:
        stats.guarded += len(re.findall(r"\\[A-Za-z@]+", text)) + text.count("{") + text.count("}")
    text = re.sub(r"\\[A-Za-z@]+\*?", " ", text)
    text = text.replace("{", "").replace("}", "").replace("\\", " ")
    text = " ".join(text.split())
    text = re.sub(r"\(\s*[,;]?\s*\)|\[\s*[,;]?\s*\]", "", text)
    text = re.sub(r"\s+([,.;:!?)])", r"\1", text)
    text = re.sub(r"([(])\s+", r"\1", text)
    text = re.sub(r",\s*([.;])", r"\1", text)
    text = re.sub(r"\.\s*\.(?!\.)", ".", text)
    text = re.sub("\x01(\\d+)\x01", lambda m: maths[int(m.group(1))], text)
    return text.strip()


def theorem_names(preamble: str) -> dict[str, tuple[str, str, str]]:
    """`\\newtheorem{lemma}[theorem]{Lemma}[section]` -> {"lemma": ("Lemma", "theorem", "section")}."""
    found: dict[str, tuple[str, str, str]] = {}
    for m in re.finditer(r"\\newtheorem\*?\s*\{([^}]*)\}\s*(?:\[([^\]]*)\])?\s*\{([^}]*)\}\s*(?:\[([^\]]*)\])?", preamble):
        env, shared, shown, reset = m.group(1).strip(), m.group(2), m.group(3).strip(), m.group(4) or ""
        counter = (shared or env).strip()
        if shared and shared.strip() in found:
            reset = found[shared.strip()][2]
        found[env] = (shown, counter, reset.strip())
    for env, shown in (("theorem", "Theorem"), ("lemma", "Lemma"), ("definition", "Definition"), ("corollary", "Corollary"),
                       ("proposition", "Proposition")):
        found.setdefault(env, (shown, env, ""))
    return found


def bbl_names(text: str) -> dict[str, str]:
    """Author names natbib prints for \\citet, from the .bbl's `\\bibitem[{Name et~al.}(2019)...]{key}`."""
    names: dict[str, str] = {}
    for m in re.finditer(r"\\bibitem\s*\[((?:[^\[\]]|\{[^{}]*\})*)\]\s*\{([^}]*)\}", text):
        label = m.group(1)
        short = re.match(r"\s*\{?(.*?)\}?\s*\(", label, re.S)
        if short:
            name = re.sub(r"[{}]", "", short.group(1)).replace("~", " ").replace("\\", "")
            name = " ".join(name.split())
            if name and len(name) < 80:
                names[m.group(2).strip()] = name
    return names


def parse(latex: str, *, bbl: str = "") -> Parsed:
    """The inlined, macro-expanded LaTeX of a paper -> Parsed (reading text, sections, captions)."""
    from pylatexenc.latexwalker import LatexWalker

    begin = latex.find("\\begin{document}")
    preamble, body = (latex[:begin], latex[begin:]) if begin >= 0 else ("", latex)
    end = body.find("\\end{document}")
    if end >= 0:
        body = body[: end + len("\\end{document}")]
    walker = _Walker(theorem_names(latex), bbl_names(bbl + latex))
    nodes, _, _ = LatexWalker(body, latex_context=_context(), tolerant_parsing=True).get_latex_nodes()
    walker.walk(nodes)
    parsed = walker.finish()
    title = re.search(r"\\title\s*(?:\[[^\]]*\])?\s*\{", preamble + body)
    if title:
        from macaw.documents.latexmacros import read_group

        group = read_group(preamble + body, title.end() - 1)
        if group:
            tnodes, _, _ = LatexWalker(group[0], latex_context=_context(), tolerant_parsing=True).get_latex_nodes()
            parsed.title = _Walker({}, {}).text_of(tnodes, math=False)
    if not parsed.abstract:
        found = re.search(r"\\begin\{abstract\}(.*?)\\end\{abstract\}", preamble, re.S)
        if found:
            anodes, _, _ = LatexWalker(found.group(1), latex_context=_context(), tolerant_parsing=True).get_latex_nodes()
            w = _Walker({}, {})
            parsed.abstract = tidy(w.text_of(anodes))
    return parsed

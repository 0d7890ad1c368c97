"""The paper's own macros: collect \\newcommand, \\renewcommand, \\def and \\DeclareMathOperator, and expand them.

Only what the authors defined is expanded, with simple arguments: `\\newcommand{\\x}[2][d]{..#1..#2}`
(an optional first argument with its default), `\\def\\x#1#2{..}` (undelimited parameters).
Expansion is repeated for macros that use macros, to a fixed depth and a size cap, so a
macro that expands to itself stops. Commands that carry the document's structure (sections,
captions, citations, \\begin/\\end ...) are never redefined, whatever the preamble says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_DEPTH = 24
MAX_EXPANSIONS = 10_000  # the real 2012.00127 draft expands 395 uses of its 24 macros


@dataclass
class Macro:
    params: int
    body: str
    default: str | None = None  # the optional first argument's default, when it has one


_PROTECTED = {
    "section", "subsection", "subsubsection", "chapter", "part", "paragraph", "subparagraph", "caption",
    "label", "ref", "eqref", "cref", "Cref", "autoref", "cite", "citep", "citet", "begin", "end", "input",
    "include", "item", "footnote", "bibliography", "appendix", "maketitle", "title", "author", "abstract",
    "documentclass", "usepackage", "newcommand", "renewcommand", "def", "thebibliography", "bibitem",
}
_DEFINE = re.compile(r"\\(newcommand|renewcommand|providecommand|DeclareRobustCommand|DeclareMathOperator|def|gdef|edef|xdef)(\*?)(?![A-Za-z@])")


def read_group(text: str, i: int) -> tuple[str, int] | None:
    """The balanced {...} at text[i] (after spaces): (content, index after it), or None."""
    return _read_balanced(text, i, "{", "{", "}")


def _read_bracket(text: str, i: int) -> tuple[str, int] | None:
    """The [...] at text[i] (after spaces), braces inside counted too."""
    return _read_balanced(text, i, "[", "[{", "]}")


def _read_balanced(text: str, i: int, start: str, opens: str, closes: str) -> tuple[str, int] | None:
    j = _skip_space(text, i)
    if j >= len(text) or text[j] != start:
        return None
    depth = 0
    k = j
    while k < len(text):
        c = text[k]
        if c == "\\":
            k += 2
            continue
        if c in opens:
            depth += 1
        elif c in closes:
            depth -= 1
            if depth == 0:
                return text[j + 1 : k], k + 1
        k += 1
    return None


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\n":
        i += 1
    return i


def _read_token(text: str, i: int) -> tuple[str, int] | None:
    """One argument: a {group}'s content, a control sequence, or one character."""
    group = read_group(text, i)
    if group is not None:
        return group
    j = _skip_space(text, i)
    if j >= len(text) or text[j] in "}":
        return None
    if text[j] == "\\":
        m = re.match(r"\\([A-Za-z@]+|.)", text[j:])
        if m:
            return m.group(0), j + len(m.group(0))
    return text[j], j + 1


def collect(text: str) -> tuple[dict[str, Macro], str]:
    """(macros, text with their definitions removed)."""
    macros: dict[str, Macro] = {}
    out: list[str] = []
    pos = 0
    for m in _DEFINE.finditer(text):
        if m.start() < pos:
            continue
        kind = m.group(1)
        i = m.end()
        parsed = _definition(kind, text, i)
        if parsed is None:
            continue
        name, macro, end = parsed
        out.append(text[pos : m.start()])
        pos = end
        if name not in _PROTECTED and (kind != "providecommand" or name not in macros):
            macros[name] = macro
    out.append(text[pos:])
    return macros, "".join(out)


def _definition(kind: str, text: str, i: int) -> tuple[str, Macro, int] | None:
    if kind in ("def", "gdef", "edef", "xdef"):
        m = re.match(r"\s*\\([A-Za-z@]+)((?:#\d)*)\s*", text[i:])
        if not m:
            return None
        body = read_group(text, i + m.end())
        if body is None:
            return None
        return m.group(1), Macro(len(m.group(2)) // 2, body[0]), body[1]
    named = read_group(text, i)
    if named is not None:
        name_text, j = named
    else:
        m = re.match(r"\s*(\\[A-Za-z@]+)", text[i:])
        if not m:
            return None
        name_text, j = m.group(1), i + m.end()
    name_m = re.fullmatch(r"\s*\\([A-Za-z@]+)\s*", name_text)
    if not name_m:
        return None
    name = name_m.group(1)
    if kind == "DeclareMathOperator":
        body = read_group(text, j)
        if body is None:
            return None
        return name, Macro(0, "\\operatorname{" + body[0] + "}"), body[1]
    params = 0
    default = None
    count = _read_bracket(text, j)
    if count is not None and count[0].strip().isdigit():
        params, j = int(count[0].strip()), count[1]
        opt = _read_bracket(text, j)
        if opt is not None:
            default, j = opt
    body = read_group(text, j)
    if body is None:
        return None
    return name, Macro(min(params, 9), body[0], default), body[1]


def expand(text: str, macros: dict[str, Macro], limit: int) -> str:
    """`text` with the macros expanded; stops expanding (leaving the rest as written) past `limit` characters."""
    if not macros:
        return text
    names = sorted(macros, key=len, reverse=True)
    pattern = re.compile(r"\\(" + "|".join(re.escape(n) for n in names) + r")(?![A-Za-z@])")
    budget = [limit, MAX_EXPANSIONS]

    def run(chunk: str, depth: int) -> str:
        out: list[str] = []
        pos = 0
        while True:
            m = pattern.search(chunk, pos)
            if m is None:
                out.append(chunk[pos:])
                break
            out.append(chunk[pos : m.start()])
            macro = macros[m.group(1)]
            i = m.end()
            args: list[str] = []
            if macro.default is not None:
                opt = _read_bracket(chunk, i)
                if opt is not None:
                    args.append(opt[0])
                    i = opt[1]
                else:
                    args.append(macro.default)
            ok = True
            while len(args) < macro.params:
                token = _read_token(chunk, i)
                if token is None:
                    ok = False
                    break
                args.append(token[0])
                i = token[1]
            if not ok:
                out.append(chunk[m.start() : m.end()])
                pos = m.end()
                continue
            body = re.sub(r"#([1-9])", lambda a: args[int(a.group(1)) - 1] if int(a.group(1)) <= len(args) else "", macro.body)
            body = body.replace("##", "#")
            budget[0] -= len(body)
            budget[1] -= 1
            if depth >= MAX_DEPTH or budget[0] < 0 or budget[1] < 0:
                out.append(" ")  # a macro that keeps growing: leave it out rather than loop
            else:
                # A control word swallows the spaces after it; keep a space so words do not fuse.
                sep = " " if i < len(chunk) and chunk[i] in " \t\n" else ""
                out.append("{" + run(body, depth + 1) + "}" + sep)
            pos = i
        return "".join(out)

    return run(text, 0)

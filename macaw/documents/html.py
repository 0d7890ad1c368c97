"""Blog HTML (a feed post's full content, or raw HTML inside a markdown entry) -> markdown.

A feed post is turned into the markdown it most likely came from, so that one set of rules
(macaw/documents/markdown.py) decides what a listener hears, whatever the entry's format:
headings stay headings, list items stay items (nested ones indented), block quotes stay
quotes, `<pre>` becomes a fenced block (not read, kept for the show notes), `<code>` inline
code, links their text, images and scripts nothing, figure captions captions, tables tables.
"""

from __future__ import annotations

import re

_SKIP = {"script", "style", "noscript", "iframe", "svg", "head", "button", "form", "nav"}
_BLOCK = {"p", "div", "section", "article", "header", "footer", "main", "aside", "dl", "dd", "dt", "center", "details", "summary"}


def _tree(markup: str):  # type: ignore[no-untyped-def]
    import lxml.html

    try:
        return lxml.html.fragment_fromstring(markup, create_parent="div")
    except Exception:  # lxml raises ParserError on empty or odd input
        return None


def _text(node) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", node.text_content() or "").strip()


def _inline(node) -> str:  # type: ignore[no-untyped-def]
    """The inline markdown of a node's children: text, `code`, link texts; no images."""
    parts: list[str] = [node.text or ""] if not callable(node.tag) else []
    for child in node:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in _SKIP or tag in ("img", "figcaption"):
            pass
        elif tag == "code" or tag == "kbd" or tag == "tt":
            code = (child.text_content() or "").strip()
            if code:
                parts.append(f"`{code.replace('`', '')}`")
        elif tag == "br":
            parts.append("  \n")
        elif tag:
            parts.append(_inline(child))
        parts.append(child.tail or "")
    return _escape("".join(parts))


def _escape(text: str) -> str:
    # Text that would read as markdown syntax at a line start stays text.
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    return re.sub(r"(?m)^(\s*)([#>+]|\d+\.)(?=\s)", r"\1\\\2", text)


def to_markdown(markup: str) -> str:
    """A post's HTML -> markdown; the captions of its figures are left out (see captions())."""
    root = _tree(markup)
    if root is None:
        return ""
    out: list[str] = []
    _blocks(root, out, indent="", quote="")
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def captions(markup: str) -> list[str]:
    root = _tree(markup)
    if root is None:
        return []
    found = [_text(n) for n in root.iter("figcaption")]
    found += [_text(n) for n in root.iter() if isinstance(n.tag, str) and "cap" in (n.get("class") or "")]
    return list(dict.fromkeys(c for c in found if c))


def _emit(out: list[str], text: str, indent: str, quote: str) -> None:
    text = text.strip()
    if text:
        lines = text.split("\n")
        out.append("\n".join(f"{quote}{indent}{ln.strip()}" for ln in lines))
        out.append(quote.rstrip())


def _blocks(node, out: list[str], indent: str, quote: str) -> None:  # type: ignore[no-untyped-def]
    pending: list[str] = [node.text or ""] if isinstance(node.tag, str) else []

    def flush() -> None:
        text = _escape("".join(pending))
        pending.clear()
        if text.strip():
            _emit(out, text, indent, quote)

    for child in node:
        tag = child.tag.lower() if isinstance(child.tag, str) else ""
        if not tag or tag in _SKIP:
            pending.append(child.tail or "")
            continue
        if re.fullmatch(r"h[1-6]", tag):
            flush()
            title = _text(child)
            if title:
                out.append(f"{quote}{'#' * int(tag[1])} {title}")
                out.append(quote.rstrip())
        elif tag in ("ul", "ol"):
            flush()
            for n, item in enumerate(child.iterchildren("li"), 1):
                marker = f"{n}. " if tag == "ol" else "- "
                inner: list[str] = []
                _blocks(item, inner, indent="", quote="")
                lines = "\n".join(inner).strip().split("\n")
                if lines and lines[0].strip():
                    pad = " " * len(marker)
                    out.append(f"{quote}{indent}{marker}{lines[0]}")
                    out.extend(f"{quote}{indent}{pad}{ln}" if ln.strip() else quote.rstrip() for ln in lines[1:])
            out.append(quote.rstrip())
        elif tag == "blockquote":
            flush()
            _blocks(child, out, indent, quote + "> ")
        elif tag == "pre":
            flush()
            code = child.text_content().rstrip()
            language = ""
            for n in [child, *child.iter("code")]:
                m = re.search(r"(?:language|lang)-(\w+)", n.get("class") or "")
                language = language or (m.group(1) if m else "")
            if code.strip():
                out.append(f"{quote}```{language}")
                out.extend(f"{quote}{ln}" for ln in code.split("\n"))
                out.append(f"{quote}```")
                out.append(quote.rstrip())
        elif tag == "table":
            flush()
            rows = [[_text(c).replace("|", "/") for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")]
                    for tr in child.iter("tr")]
            rows = [r for r in rows if r]
            if rows:
                width = max(len(r) for r in rows)
                rows = [r + [""] * (width - len(r)) for r in rows]
                out.append(f"{quote}| " + " | ".join(rows[0]) + " |")
                out.append(f"{quote}|" + "---|" * width)
                out.extend(f"{quote}| " + " | ".join(r) + " |" for r in rows[1:])
                out.append(quote.rstrip())
        elif tag in ("figure", "img", "figcaption", "picture", "video", "audio"):
            flush()
        elif tag == "hr":
            flush()
        elif tag in _BLOCK or tag == "li":
            flush()
            if "cap" in (child.get("class") or ""):
                pass  # a figure's caption (Jekyll's <div class="thecap">)
            else:
                _blocks(child, out, indent, quote)
        else:
            pending.append(_inline_one(child))
        pending.append(child.tail or "")
    flush()


def _inline_one(child) -> str:  # type: ignore[no-untyped-def]
    tag = child.tag.lower()
    if tag in ("code", "kbd", "tt"):
        code = (child.text_content() or "").strip()
        return f"`{code.replace('`', '')}`" if code else ""
    if tag == "br":
        return "  \n"
    return _inline(child)


def html_block_text(markup: str) -> tuple[list[str], list[str]]:
    """Raw HTML inside a markdown entry -> (paragraphs to read, captions for the show notes)."""
    root = _tree(markup)
    if root is None:
        return [], []
    out: list[str] = []
    _blocks(root, out, indent="", quote="")
    paragraphs = [re.sub(r"\s+", " ", p).strip() for p in "\n".join(out).split("\n\n")]
    paragraphs = [re.sub(r"^[#>]+\s*|^```\w*$", "", p).strip() for p in paragraphs]
    return [p for p in paragraphs if re.search(r"[A-Za-z]", p) and "```" not in p], captions(markup)

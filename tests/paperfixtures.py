"""Fixture papers typeset by the tests, with the text they must come back as.

`typeset()` lays a paper spec out like LaTeX would: title and author block across the page,
then one or two justified columns with indented paragraphs, words hyphenated at line ends,
ligature glyphs, TeX-style split accents, footnote markers, running heads, page numbers,
the arXiv side stamp, display equations, a figure, a table and a reference list. The spec
holds the clean text, so tests and the benchmark know exactly what should be recovered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pdfbuild import Page, Text, build_pdf

TITLE_SIZE, HEAD_SIZE, BODY, SMALL, TINY = 17, 12, 10, 9, 7
LEADING = 12.0


@dataclass
class Block:
    kind: str  # heading | para | equation | figure | table | refs
    text: str = ""
    items: list[str] = field(default_factory=list)


@dataclass
class PaperSpec:
    title: str
    authors: list[str]
    affiliations: list[str]
    emails: list[str]
    abstract: str
    blocks: list[Block]
    columns: int = 2
    arxiv_stamp: str = ""
    running_head: str = ""
    info: dict[str, str] = field(default_factory=dict)

    def expected_sections(self) -> list[tuple[str, list[str]]]:
        """(heading, paragraphs) as a listener should hear them; captions go to Document.captions."""
        out: list[tuple[str, list[str]]] = []
        for b in self.blocks:
            if b.kind == "heading":
                if b.text.split(" ", 1)[-1] == "References":
                    break
                out.append((b.text.split(" ", 1)[-1], []))
            elif b.kind == "para":
                out[-1][1].append(clean(b.text))
        return out

    def expected_captions(self) -> list[str]:
        return [clean(b.text) for b in self.blocks if b.kind in ("figure", "table")]


def clean(text: str) -> str:
    import re

    text = text.replace("\u00ad", "")
    return re.sub(r"\s?\[\d+(?:, \d+)*\]", "", text)


def _ink(text: str) -> str:
    """What the PDF's glyphs say: ligatures and TeX's separate accent glyphs."""
    for a, b in (("ffi", "\ufb03"), ("fi", "\ufb01"), ("fl", "\ufb02"), ("ff", "\ufb00")):
        text = text.replace(a, b)
    return text.replace("é", "\u00b4e").replace("ö", "\u00a8o")


class _Flow:
    """Fills columns top to bottom, left to right, page after page."""

    def __init__(self, spec: PaperSpec, top_first: float):
        self.spec = spec
        self.pages: list[Page] = [Page()]
        self.col = 0
        self.y = top_first
        self.top_first = top_first
        if spec.columns == 2:
            self.lefts, self.width = [54.0, 315.0], 243.0
        else:
            self.lefts, self.width = [72.0], 468.0
        self.chars = int(self.width / (BODY * 0.5)) - 2

    @property
    def x(self) -> float:
        return self.lefts[self.col]

    def need(self, height: float) -> None:
        if self.y - height < 72:
            self.col += 1
            if self.col >= len(self.lefts):
                self.col = 0
                self.pages.append(Page())
            self.y = self.top_first if len(self.pages) == 1 else 720
            if len(self.pages) > 1 and self.col == 0:
                pass

    def put(self, x: float, text: str, size: float = BODY, font: str = "F4", dy: float = LEADING) -> None:
        self.need(dy)
        self.pages[-1].items.append(Text(x, self.y, text, size, font))
        self.y -= dy

    def wrap(self, text: str, indent: float, size: float = BODY, font: str = "F4") -> None:
        chars = int(self.width / (size * 0.5)) - 2
        words = text.split()
        line = ""
        first = True
        while words:
            word = words.pop(0)
            limit = chars - (int(indent / (size * 0.5)) if first else 0)
            visible = word.replace("\u00ad", "")
            if len(line) + 1 + len(visible) <= limit or not line:
                line = f"{line} {visible}".strip()
                continue
            if "\u00ad" in word:
                head, tail = word.split("\u00ad", 1)
                if len(line) + 1 + len(head) + 1 <= limit:
                    line = f"{line} {head}-"
                    word = tail
            self.put(self.x + (indent if first else 0), _ink(line), size, font)
            first = False
            line = word.replace("\u00ad", "")
        if line:
            self.put(self.x + (indent if first else 0), _ink(line), size, font)


def typeset(spec: PaperSpec) -> bytes:
    full_left, full_width = 72.0, 468.0
    first = Page()
    if spec.arxiv_stamp:
        first.items.append(Text(32, 230, spec.arxiv_stamp, 20, "F4", rotate=True))
    y = 716.0
    first.items.append(Text(full_left + (full_width - len(spec.title) * 8.5) / 2, y, spec.title, TITLE_SIZE, "F2"))
    y -= 30
    # Author block: names with raised affiliation marks, then affiliations and e-mails.
    x = full_left
    for i, name in enumerate(spec.authors):
        first.items.append(Text(x, y, _ink(name), BODY, "F4"))
        x += len(name) * 5.2
        first.items.append(Text(x, y + 4, str(i % max(1, len(spec.affiliations)) + 1), TINY, "F4"))
        x += 14
        if x > 480 and i < len(spec.authors) - 1:
            x = full_left
            y -= LEADING
    y -= LEADING
    for aff in spec.affiliations:
        first.items.append(Text(full_left, y, aff, SMALL, "F3"))
        y -= 11
    if spec.emails:
        first.items.append(Text(full_left, y, "   ".join(spec.emails), SMALL, "F1"))
        y -= 11
    flow = _Flow(spec, y - 24)
    flow.pages[0] = first
    flow.put(flow.x, "Abstract", HEAD_SIZE, "F2", 16)
    flow.wrap(spec.abstract, 0)
    flow.y -= 6
    # A footnote at the foot of the first column, with a marker in the text above it.
    first.items.append(Text(flow.lefts[0], 60, "1 Work performed while visiting Example Labs.", TINY + 1, "F4"))

    indent_next = False
    for block in spec.blocks:
        if block.kind == "heading":
            flow.y -= 8
            flow.need(40)
            flow.put(flow.x, block.text, HEAD_SIZE, "F2", 16)
            indent_next = False
        elif block.kind == "para":
            flow.wrap(block.text, 12 if indent_next else 0)
            indent_next = True
        elif block.kind == "equation":
            flow.y -= 4
            flow.need(20)
            parts = block.items
            x = flow.x + 40
            for part in parts:
                size, rise, text = (TINY, 3, part[1:]) if part.startswith("^") else (TINY, -3, part[1:]) if part.startswith("_") else (BODY, 0, part)
                flow.pages[-1].items.append(Text(x, flow.y + rise, text, size, "F3" if size == BODY else "F4"))
                x += len(text) * size * 0.5 + 1
            flow.pages[-1].items.append(Text(flow.x + flow.width - 16, flow.y, block.text, BODY, "F4"))
            flow.y -= LEADING + 8
        elif block.kind == "figure":
            flow.y -= 4
            flow.need(80)
            for i, label in enumerate(block.items):
                flow.pages[-1].items.append(Text(flow.x + 30 + (i % 2) * 90, flow.y - 12 * (i // 2), label, TINY, "F1"))
            flow.y -= 12 * ((len(block.items) + 1) // 2) + 14
            flow.wrap(block.text, 0, SMALL, "F4")
            flow.y -= 8
        elif block.kind == "table":
            flow.y -= 4
            flow.need(20 + 11 * len(block.items))
            flow.wrap(block.text, 0, SMALL, "F4")
            for row in block.items:
                cells = row.split("|")
                for i, cell in enumerate(cells):
                    flow.pages[-1].items.append(Text(flow.x + 10 + i * 70, flow.y, cell.strip(), SMALL, "F4"))
                flow.y -= 11
            flow.y -= 8
        elif block.kind == "refs":
            for item in block.items:
                flow.wrap(item, 0, SMALL, "F4")
    for number, page in enumerate(flow.pages, start=1):
        if number > 1 and spec.running_head:
            page.items.append(Text(230, 760, spec.running_head, 8, "F3"))
        page.items.append(Text(300, 36, str(number), BODY, "F4"))
    return build_pdf(flow.pages, info=spec.info)


# ---------------------------------------------------------------- the fixture papers

ATTENTION_AUTHORS = [
    "Ashish Vaswani", "Noam Shazeer", "Niki Parmar", "Jakob Uszkoreit",
    "Llion Jones", "Aidan N. Gomez", "Łukasz Kaiser", "Illia Polosukhin",
]


def attention_spec(columns: int = 2) -> PaperSpec:
    """A paper in the shape of 1706.03762, with prose written for this fixture."""
    return PaperSpec(
        title="Attention Is All You Need",
        authors=ATTENTION_AUTHORS,
        affiliations=["Google Brain", "Google Research", "University of Toronto"],
        emails=["avaswani@google.com", "lukaszkaiser@google.com"],
        abstract=(
            "Sequence transduction models are usually built from recurrent or convolutional networks. "
            "We describe a simpler design that relies on attention alone and drops recurrence entirely. "
            "It trains faster and translates better on two benchmark tasks."
        ),
        columns=columns,
        arxiv_stamp="arXiv:1706.03762v7  [cs.CL]  2 Aug 2023",
        running_head="Fixture paper for Macaw tests",
        info={"Title": "Attention Is All You Need", "Author": ", ".join(ATTENTION_AUTHORS)},
        blocks=[
            Block("heading", "1 Introduction"),
            Block("para", "Recurrent networks read a sequence one position at a time, which makes parallel "
                  "training di\u00adfficult on long inputs [12]. Attention lets a model relate distant "
                  "positions in one step, and it has become an integral part of many trans\u00adduction systems."),
            Block("para", "In this work we propose a model that uses self-\u00adattention for every layer. "
                  "The ef\u00adficient design reaches a new state of the art after a short training run on eight "
                  "processors, as R\u00e9nyi and Schr\u00f6dinger would surely have appreciated."),
            Block("heading", "2 Model Architecture"),
            Block("para", "The encoder maps an input sequence of symbols to a sequence of continuous "
                  "representations. Given these, the decoder generates an output sequence one element at a time, "
                  "consuming the previously generated symbols as additional input when producing the next."),
            Block("figure", "Figure 1: The encoder and decoder stacks, side by side.",
                  items=["Encoder", "Decoder", "Multi-Head Attention", "Feed Forward", "Softmax", "Linear"]),
            Block("heading", "2.1 Scaled Dot-Product Attention"),
            Block("para", "We compute the attention function on a set of queries simultaneously, packed "
                  "together into a matrix. The keys and values are also packed together into matrices."),
            Block("equation", "(1)", items=["Attention(Q, K, V) = softmax(QK", "^T", "/\u221ad", "_k", ")V"]),
            Block("para", "The two most commonly used attention functions are additive attention and dot-product "
                  "attention. Dot-product attention is much faster and more space-ef\u00adficient in practice, "
                  "since it can be implemented using highly optimized matrix multiplication code [4, 9]."),
            Block("heading", "2.2 Training"),
            Block("para", "We trained on a standard dataset of about four and a half million sentence pairs. "
                  "Sentences were encoded with byte-pair encoding, which gives a shared vocabulary of about "
                  "thirty-seven thousand tokens for both the source and the target language."),
            Block("para", "Each training batch contained a set of sentence pairs with roughly twenty-five "
                  "thousand source tokens and twenty-five thousand target tokens. We used the Adam optimizer "
                  "and varied the learning rate over the course of training, increasing it linearly for the "
                  "first warmup steps and decreasing it afterwards in proportion to the inverse square root "
                  "of the step number."),
            Block("para", "We apply dropout to the output of each sub-layer before it is added to the sub-layer "
                  "input and normalized. In addition, we apply dropout to the sums of the embeddings and the "
                  "positional encodings in both the encoder and decoder stacks."),
            Block("heading", "3 Results"),
            Block("table", "Table 1: Scores of the fixture models on two test sets.",
                  items=["Model | EN-DE | EN-FR", "Baseline | 26.3 | 39.2", "Ours | 28.4 | 41.8"]),
            Block("para", "On the larger task our model outperforms all previously published single models, "
                  "at less than a quarter of the training cost of the previous state of the art."),
            Block("para", "We also find that the learned attention heads perform different tasks, and many "
                  "of them appear to follow the syntactic structure of the sentences."),
            Block("heading", "4 Conclusion"),
            Block("para", "We presented the first sequence transduction model based entirely on attention. "
                  "We plan to apply it to other modalities such as images, audio and video."),
            Block("heading", "References"),
            Block("refs", items=[
                "[1] Jimmy Lei Ba, Jamie Ryan Kiros, and Geoffrey E Hinton. Layer normalization. 2016.",
                "[2] Dzmitry Bahdanau, Kyunghyun Cho, and Yoshua Bengio. Neural machine translation. 2014.",
                "[3] Sepp Hochreiter and Jurgen Schmidhuber. Long short-term memory. 1997.",
            ]),
        ],
    )


def notes_spec() -> PaperSpec:
    """A one-column paper with no arXiv stamp: title and authors must come from page one."""
    return PaperSpec(
        title="Quiet Gradients in Small Models",
        authors=["Maria Rossi", "José Núñez", "Ann Lee"],
        affiliations=["University of Somewhere", "Example Research Institute"],
        emails=["maria@example.org"],
        abstract="We study why small networks stop learning early. A simple rescaling keeps them learning.",
        columns=1,
        running_head="Quiet Gradients",
        blocks=[
            Block("heading", "1 Introduction"),
            Block("para", "Small models are cheap to run, but their training often stalls. We look at the size "
                  "of the gradients in each layer and find that they shrink long before the loss stops falling."),
            Block("para", "Our contribution is a rescaling rule that needs no tuning and adds no parameters."),
            Block("heading", "2 Method"),
            Block("para", "We rescale each layer's update by the ratio of its weight norm to its gradient norm."),
            Block("equation", "(1)", items=["u = \u03b1 g \u2016w\u2016/\u2016g\u2016".replace("\u2016", "|")]),
            Block("para", "The rule is applied after clipping, and it leaves the learning-rate schedule untouched."),
            Block("heading", "3 Conclusion"),
            Block("para", "Rescaled updates keep small models learning for longer at no extra cost."),
            Block("heading", "References"),
            Block("refs", items=["[1] A. Author. A paper about gradients. 2020."]),
        ],
    )


# ---------------------------------------------------------------- a local stand-in for arXiv

import http.server  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import parse_qs, urlparse  # noqa: E402

ATOM_DIR = Path(__file__).parent / "fixtures" / "arxiv"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/atom+xml"
    delay: float = 0.0  # seconds before answering: a slow server
    truncate: int | None = None  # announce the full length, send this many bytes, hang up
    headers: dict[str, str] = field(default_factory=dict)


def atom(name: str) -> Reply:
    return Reply(body=(ATOM_DIR / name).read_bytes())


def pdf_reply(data: bytes, **kw: object) -> Reply:
    return Reply(body=data, content_type="application/pdf", **kw)  # type: ignore[arg-type]


def eprint_reply(data: bytes, **kw: object) -> Reply:
    """An e-print as arXiv serves it: the type says little (a tar.gz, a .gz or a PDF all come this way)."""
    return Reply(body=data, content_type="application/x-eprint-tar", **kw)  # type: ignore[arg-type]


class ReplayServer:
    """Serves scripted replies on 127.0.0.1: `/api/query?id_list=X`, `/pdf/<id>` and `/e-print/<id>`.

    `script[key]` is a list of replies given in turn (the last one repeats); the key is the
    id_list value for the API and the path for PDFs. Every request is logged with its time.
    """

    def __init__(self) -> None:
        self.script: dict[str, list[Reply]] = {}
        self.log: list[tuple[float, str]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                query = parse_qs(url.query)
                key = query.get("id_list", [""])[0] if url.path.endswith("/query") else url.path
                if url.path.endswith("/query") and not key and query.get("search_query"):
                    # A search: `search:<query>@<start>` (see search_feed for its answer).
                    key = f"search:{query['search_query'][0]}@{query.get('start', ['0'])[0]}"
                server.log.append((time.time(), key))
                replies = server.script.get(key) or [Reply(404, b"not here", "text/plain")]
                reply = replies.pop(0) if len(replies) > 1 else replies[0]
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(reply.body)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    if reply.truncate is not None:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(reply.body if reply.truncate is None else reply.body[: reply.truncate])
                    self.wfile.flush()
                    if reply.truncate is not None:
                        self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class Quiet(http.server.ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that hung up on a slow answer is the point of that test

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> "ReplayServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def hits(self, key: str) -> int:
        return sum(1 for _, k in self.log if k == key)


def atom_entry(arxiv_id: str, version: int, title: str, authors: list[str], summary: str = "A fixture abstract.",
               updated: str = "2026-11-30T12:00:00Z", published: str = "2026-11-01T12:00:00Z") -> str:
    """One arXiv API <entry>, in the current (2025) format."""
    from xml.sax.saxutils import escape

    names = "".join(f"<author><name>{escape(a)}</name></author>" for a in authors)
    return (f"<entry><id>http://arxiv.org/abs/{arxiv_id}v{version}</id><title>{escape(title)}</title>"
            f"<updated>{updated}</updated><published>{published}</published><summary>{escape(summary)}</summary>"
            f'<link href="https://arxiv.org/abs/{arxiv_id}v{version}" rel="alternate" type="text/html"/>'
            f'<category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/><arxiv:primary_category term="cs.CL"/>{names}</entry>')


def search_feed(entries: list[str], total: int | None = None, start: int = 0) -> Reply:
    """An API answer holding `entries` (from atom_entry): a search page, or an id_list answer."""
    total = len(entries) if total is None else total
    body = ('<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
            'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom">'
            f"<id>https://arxiv.org/api/fixture</id><title>arXiv Query</title><updated>2026-12-01T00:00:00Z</updated>"
            f"<opensearch:itemsPerPage>{len(entries)}</opensearch:itemsPerPage><opensearch:totalResults>{total}</opensearch:totalResults>"
            f"<opensearch:startIndex>{start}</opensearch:startIndex>{''.join(entries)}</feed>")
    return Reply(body=body.encode("utf-8"))


def recovery(sections: list[tuple[str, str]], spec: PaperSpec) -> dict[str, float]:
    """How much of the spec's structure came back: headings in order, paragraphs word for word,
    and a character-level similarity of each section's text (difflib ratio, averaged)."""
    import difflib

    from macaw.artifacts import MATH_CLOSE, MATH_OPEN

    expected = spec.expected_sections()
    # A display equation is kept as a paragraph of marked math; the spec's text has none.
    got = {h: "\n\n".join(p for p in t.split("\n\n") if not (p.startswith(MATH_OPEN) and p.endswith(MATH_CLOSE))) for h, t in sections}
    headings = sum(1 for h, _ in expected if h in got) / len(expected)
    paras = [(h, p) for h, ps in expected for p in ps]
    exact = sum(1 for h, p in paras if p in got.get(h, "").split("\n\n")) / len(paras)
    ratio = sum(difflib.SequenceMatcher(None, "\n\n".join(ps), got.get(h, "")).ratio() for h, ps in expected) / len(expected)
    order = [h for h, _ in sections] == [h for h, _ in expected]
    return {"headings": round(headings, 3), "paragraphs_exact": round(exact, 3), "text_similarity": round(ratio, 3), "order": float(order)}


FIXTURES = {
    "attention-2col": lambda: attention_spec(2),
    "attention-1col": lambda: attention_spec(1),
    "quiet-gradients": notes_spec,
}

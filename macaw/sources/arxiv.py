"""arXiv papers: id parsing, metadata through the `arxiv` package, and the PDF.

Politeness is the point of most of this file. arXiv asks for one request every three
seconds; Macaw keeps that spacing across threads and across Macaw processes on the machine
(a lock file and a timestamp in Macaw's cache), puts connect and read timeouts on every
request, retries 429, 5xx and timeouts with exponential backoff and jitter (never other
4xx), and gives up at an overall deadline. The endpoints are settings
(`arxiv.api_url`, `arxiv.pdf_url`, `arxiv.eprint_url`), so a mirror or a test server can stand
in; the PDF is always fetched from the PDF setting, never from a link in the API answer.

The LaTeX source (the e-print) is fetched too, by the same client, before the PDF: a gzipped
tar, a gzipped .tex, or a PDF for PDF-only submissions, told apart by its bytes. It is stored
as it came (source.tar.gz, source.tex.gz, source.tar, source.tex) and described in source.json
under `eprint`; unpacking waits for extract, in a sandbox. An e-print that is missing,
refused or not LaTeX is noted there and the PDF alone is used: the e-print never fails a fetch.
"""

from __future__ import annotations

import fcntl
import os
import random
import re
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlparse

from macaw.artifacts import Author, Source
from macaw.config import Config
from macaw.errors import FetchError, InvalidIdError, SourceNotFoundError

# New style since April 2007: YYMM.NNNN (to 2014) or YYMM.NNNNN (from 2015), optional vN.
_NEW = re.compile(r"^(?P<yy>\d{2})(?P<mm>\d{2})\.(?P<num>\d{4,5})(?:v(?P<v>[1-9]\d{0,2}))?$")
# Old style: archive[.SUBJECT-CLASS]/YYMMNNN, optional vN.
_OLD = re.compile(
    r"^(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.[A-Z]{2})?/(?P<yy>\d{2})(?P<mm>\d{2})(?P<num>\d{3})(?:v(?P<v>[1-9]\d{0,2}))?$"
)
_ARCHIVES = {
    "acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph", "bayes-an", "chao-dyn",
    "chem-ph", "cmp-lg", "comp-gas", "cond-mat", "cs", "dg-ga", "funct-an", "gr-qc", "hep-ex",
    "hep-lat", "hep-ph", "hep-th", "math", "math-ph", "mtrl-th", "nlin", "nucl-ex", "nucl-th",
    "patt-sol", "physics", "plasm-ph", "q-alg", "q-bio", "quant-ph", "solv-int", "supr-con",
}
_HOSTS = {"arxiv.org", "www.arxiv.org", "export.arxiv.org"}


def parse_id(value: str) -> tuple[str, str | None]:
    """(base id, version or None) from an id or an arxiv.org abs/pdf URL; no network."""
    raw = (value or "").strip()
    text = raw
    if re.match(r"^(https?://)?(www\.|export\.)?arxiv\.org/", text, re.I):
        url = urlparse(text if "://" in text else "https://" + text)
        if (url.hostname or "").lower() not in _HOSTS:
            raise InvalidIdError(f"not an arXiv URL: {raw!r}", hint="use https://arxiv.org/abs/<id>")
        m = re.match(r"^/(abs|pdf)/(.+?)/?$", url.path)
        if not m:
            raise InvalidIdError(f"not an arXiv abs or pdf URL: {raw!r}", hint="use https://arxiv.org/abs/<id>")
        text = re.sub(r"\.pdf$", "", m.group(2))
    elif re.match(r"^https?://", text, re.I):
        raise InvalidIdError(f"not an arXiv URL: {raw!r}", hint="use an id like 1706.03762 or https://arxiv.org/abs/1706.03762")
    text = re.sub(r"^arxiv:\s*", "", text, flags=re.I)
    m = _NEW.match(text)
    if m:
        yy, mm, num = int(m["yy"]), int(m["mm"]), m["num"]
        five = yy >= 15
        if not 1 <= mm <= 12 or (five and len(num) != 5) or (not five and len(num) != 4) or (yy == 7 and mm < 4):
            raise InvalidIdError(f"malformed arXiv id {raw!r}: no such number", hint="ids look like 1706.03762 or 2301.01234")
        return text.split("v")[0], f"v{m['v']}" if m["v"] else None
    m = _OLD.match(text)
    if m and m["archive"] in _ARCHIVES and 1 <= int(m["mm"]) <= 12:
        base = re.sub(r"v\d+$", "", text)
        return base, f"v{m['v']}" if m["v"] else None
    raise InvalidIdError(
        f"malformed arXiv id {raw!r}",
        hint="use an id like 1706.03762, 1706.03762v5 or hep-th/9901001, or an arxiv.org abs/pdf URL",
    )


def identify(value: str, config: Config | None = None) -> str:
    base, _ = parse_id(value)
    return "arxiv-" + base.replace("/", "-")


# ---------------------------------------------------------------- polite client


@dataclass(frozen=True)
class Policy:
    """How hard to try and how long to wait. Defaults are the polite ones arXiv asks for."""

    interval_s: float = 3.0  # between any two requests to arXiv, across processes
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0
    retries: int = 4
    backoff_s: float = 2.0  # first retry waits about this long, then doubles
    backoff_max_s: float = 60.0
    deadline_s: float = 300.0  # for one fetch, all tries together
    max_pdf_bytes: int = 100 * 1024 * 1024
    max_eprint_bytes: int = 50 * 1024 * 1024  # compressed; unpacking has its own caps


DEFAULT_POLICY = Policy()


class Gate:
    """At most one request per interval, for every Macaw process on this machine.

    A file lock serialises the check; the time of the last request sits in a second file.
    Holding the lock only while waiting out the interval (not during the request) keeps a
    slow download in one process from stalling the others longer than needed.
    """

    _local = threading.Lock()

    def __init__(self, folder: Path, interval_s: float):
        self.folder = Path(folder)
        self.interval_s = interval_s

    def wait(self) -> float:
        """Wait for this process's turn; return the time the turn was taken (what the next waits on)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._stamp() as (last, write):
            # A clock set backwards must not make us wait longer than one interval.
            delay = min(self.interval_s, last + self.interval_s - time.time())
            if delay > 0:
                time.sleep(delay)
            now = time.time()
            write(now)
        return now

    def done(self) -> None:
        """The request that took the last turn has been answered (or failed): the next turn waits
        an interval from now. Spacing turns alone let arXiv see two requests closer than the
        interval whenever the earlier one took longer to reach it (a slower connection, a busy
        machine): 2.99 s apart, measured at a local server, for turns 3.00 s apart."""
        with self._stamp() as (last, write):
            now = time.time()
            if now > last:
                write(now)

    @contextmanager
    def _stamp(self) -> Iterator[tuple[float, Callable[[float], None]]]:
        """Under the gate's locks (threads, then processes): the last turn's time, and a writer
        for the new one (atomic, so a reader never sees half a stamp)."""
        stamp = self.folder / "arxiv.last"

        def write(when: float) -> None:
            tmp = stamp.with_name(f".arxiv.last.{os.getpid()}")
            tmp.write_text(repr(when))
            os.replace(tmp, stamp)

        with Gate._local, open(self.folder / "arxiv.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                try:
                    last = float(stamp.read_text().strip() or 0)
                except (OSError, ValueError):
                    last = 0.0
                yield last, write
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def default_gate(policy: Policy) -> Gate:
    from macaw.models import cache_dir

    return Gate(cache_dir(), policy.interval_s)


class _Retry(Exception):
    def __init__(self, why: str, retry_after: float | None = None):
        super().__init__(why)
        self.why = why
        self.retry_after = retry_after


def _with_retries(what: str, policy: Policy, attempt: Callable[[float], Any], sleep: Callable[[float], None] = time.sleep) -> Any:
    """Run attempt(remaining_s) until it succeeds, a non-retryable error, or the deadline."""
    start = time.monotonic()
    tries = 0
    while True:
        remaining = policy.deadline_s - (time.monotonic() - start)
        if remaining <= 0:
            raise FetchError(f"{what}: gave up after {tries} tries in {policy.deadline_s:g} s", hint="arXiv is slow or down; try again later")
        tries += 1
        try:
            return attempt(remaining)
        except _Retry as exc:
            if tries > policy.retries:
                raise FetchError(f"{what}: {exc.why} (after {tries} tries)", hint="arXiv is busy or down; try again later") from None
            wait = min(policy.backoff_max_s, policy.backoff_s * 2 ** (tries - 1))
            wait = random.uniform(wait / 2, wait)  # jitter, so many clients do not retry in step
            if exc.retry_after is not None:
                wait = max(wait, min(exc.retry_after, policy.backoff_max_s))
            if time.monotonic() - start + wait >= policy.deadline_s:
                raise FetchError(f"{what}: {exc.why}; the {policy.deadline_s:g} s deadline leaves no time to retry", hint="try again later") from None
            sleep(wait)


def _retry_after(headers: Any) -> float | None:
    try:
        return float(headers.get("Retry-After"))
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- metadata


def _client(api_url: str, gate: Gate, policy: Policy, remaining: float) -> Any:
    import arxiv
    import requests

    class PoliteSession(requests.Session):
        def request(self, method, url, **kwargs):  # type: ignore[no-untyped-def, override]
            gate.wait()
            read = max(1.0, min(policy.read_timeout_s, remaining))
            kwargs.setdefault("timeout", (policy.connect_timeout_s, read))
            try:
                response = super().request(method, url, **kwargs)
            finally:
                gate.done()
            if response.status_code == 200:
                _require_xml(response.content)
            return response

    # The package retries without backoff and sleeps per client; we do both ourselves.
    client = arxiv.Client(page_size=10, delay_seconds=0.0, num_retries=0)
    client.query_url_format = api_url.rstrip("?") + "?{}"
    client._session = PoliteSession()  # the package offers no other way to set timeouts
    return client


def _require_xml(content: bytes) -> None:
    from lxml import etree

    try:
        etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        import requests

        # A cut-off answer parses "leniently" into zero results, which would read as not found.
        raise requests.exceptions.ContentDecodingError(f"incomplete Atom answer ({exc})") from None


def fetch_metadata(value: str, config: Config, *, policy: Policy = DEFAULT_POLICY, gate: Gate | None = None) -> dict[str, Any]:
    """Everything the API says about one paper, as the dict that goes into source.json."""
    import arxiv
    import requests

    base, version = parse_id(value)
    wanted = base + (version or "")
    gate = gate or default_gate(policy)
    api_url = config.arxiv.api_url

    def attempt(remaining: float) -> Any:
        client = _client(api_url, gate, policy, remaining)
        try:
            return list(client.results(arxiv.Search(id_list=[wanted], max_results=1)))
        except arxiv.HTTPError as exc:
            if exc.status == 429 or exc.status >= 500:
                raise _Retry(f"HTTP {exc.status} from {api_url}") from None
            raise FetchError(f"arXiv {wanted}: HTTP {exc.status} from {api_url}", hint="check arxiv.api_url") from None
        except requests.exceptions.Timeout:
            raise _Retry(f"timed out talking to {api_url}") from None
        except requests.exceptions.RequestException as exc:
            raise _Retry(f"network error talking to {api_url} ({type(exc).__name__})") from None

    results = _with_retries(f"arXiv {wanted}", policy, attempt)
    # The pre-2025 API answered an unknown id with an "Error" entry instead of an empty feed.
    results = [r for r in results if "/api/errors" not in r.entry_id and _same(r, base)]
    if not results:
        raise SourceNotFoundError(f"arXiv has no paper {wanted}", hint="check the id on https://arxiv.org")
    return _metadata(results[0], base, config)


def _same(result: Any, base: str) -> bool:
    return re.sub(r"v\d+$", "", result.get_short_id()) == base


def _metadata(r: Any, base: str, config: Config) -> dict[str, Any]:
    short = r.get_short_id()
    m = re.search(r"(v\d+)$", short)
    version = m.group(1) if m else ""
    abs_url = next((link.href for link in r.links if link.rel == "alternate"), "") or f"https://arxiv.org/abs/{short}"
    abs_url = re.sub(r"^http://", "https://", abs_url)
    return {
        "id": base,
        "version": version,
        "title": " ".join(r.title.split()),
        "authors": [{"name": a.name, "affiliation": "; ".join(a.affiliation)} for a in r.authors],
        "abstract": " ".join((r.summary or "").split()),
        "primary_category": r.primary_category,
        "categories": list(r.categories),
        "published": r.published.isoformat() if r.published else "",
        "updated": r.updated.isoformat() if r.updated else "",
        "doi": r.doi or "",
        "journal_ref": r.journal_ref or "",
        "comment": " ".join((r.comment or "").split()),
        "abs_url": abs_url,
        "pdf_url": f"{config.arxiv.pdf_url.rstrip('/')}/{base}{version}",
        "eprint_url": f"{config.arxiv.eprint_url.rstrip('/')}/{base}{version}",
    }


# ---------------------------------------------------------------- the PDF


def download_pdf(url: str, target: Path, *, policy: Policy = DEFAULT_POLICY, gate: Gate | None = None) -> int:
    """Stream `url` into `target` atomically, at most policy.max_pdf_bytes, and only if it is a PDF."""

    def is_pdf(head: bytes, final: bool) -> None:
        if (final or len(head) == 1024) and b"%PDF-" not in head:
            raise FetchError(f"{url} did not return a PDF", hint="check arxiv.pdf_url")

    return _download(url, target, "PDF", policy=policy, gate=gate or default_gate(policy), limit=policy.max_pdf_bytes,
                     missing=(404,), hint="check arxiv.pdf_url", too_large="this PDF is too large to narrate", check=is_pdf)


def _download(url: str, target: Path, what: str, *, policy: Policy, gate: Gate, limit: int, missing: tuple[int, ...],
              hint: str | None = None, too_large: str | None = None, check: Any = None, raw: bool = False,
              unreachable_final: bool = False) -> int:
    """The one polite download: spacing (`gate`), timeouts, backoff on 429/5xx, timeouts and dropped
    connections, a cap of `limit` bytes (declared or streamed), written atomically to `target`.

    `missing`: the statuses that mean there is nothing there (not retried); `check(head, final)` may
    refuse the first KiB; `raw`: the bytes as sent (a .gz stays compressed); `unreachable_final`: a
    host that cannot be reached at all is not retried."""
    import httpx

    target = Path(target)

    def attempt(remaining: float) -> int:
        gate.wait()
        timeout = httpx.Timeout(connect=policy.connect_timeout_s, read=max(1.0, min(policy.read_timeout_s, remaining)), write=30.0, pool=30.0)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh, httpx.stream("GET", url, timeout=timeout, follow_redirects=True, headers={"User-Agent": "macaw (offline podcast maker)"}) as response:
                if response.status_code in missing:
                    raise SourceNotFoundError(f"no {what} at {url} (HTTP {response.status_code})", hint=hint)
                if response.status_code == 429 or response.status_code >= 500:
                    raise _Retry(f"HTTP {response.status_code} from {url}", _retry_after(response.headers))
                if response.status_code != 200:
                    raise FetchError(f"HTTP {response.status_code} from {url}", hint=hint)
                declared = int(response.headers.get("Content-Length") or 0)
                if declared > limit:
                    raise FetchError(f"{url} is {declared} bytes; the limit is {limit}", hint=too_large)
                size = 0
                head = b""
                for chunk in response.iter_raw(1 << 16) if raw else response.iter_bytes(1 << 16):
                    if check and len(head) < 1024:
                        head += chunk[: 1024 - len(head)]
                        check(head, False)
                    size += len(chunk)
                    if size > limit:
                        raise FetchError(f"{url} is larger than {limit} bytes", hint=too_large)
                    fh.write(chunk)
                if check:
                    check(head, True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
            return size
        except httpx.ConnectError as exc:
            if unreachable_final:
                raise FetchError(f"cannot reach {url} ({type(exc).__name__})") from None
            raise _Retry(f"download of {url} failed ({type(exc).__name__})") from None
        except httpx.TimeoutException:
            raise _Retry(f"timed out downloading {url}") from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            # A connection dropped midway (a truncated answer) is worth another try.
            raise _Retry(f"download of {url} failed ({type(exc).__name__})") from None
        finally:
            gate.done()
            tmp.unlink(missing_ok=True)

    return _with_retries(f"{what} {url}", policy, attempt)


def fetch(value: str, config: Config, folder: Path, *, policy: Policy = DEFAULT_POLICY, gate: Gate | None = None, **options: Any) -> Source:
    """Metadata from the API, the PDF into folder/source.pdf; returns the Source for source.json."""
    gate = gate or default_gate(policy)
    meta = fetch_metadata(value, config, policy=policy, gate=gate)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta["eprint"] = fetch_eprint(meta["eprint_url"], folder, policy=policy, gate=gate)
    download_pdf(meta["pdf_url"], folder / "source.pdf", policy=policy, gate=gate)
    return Source(
        kind="arxiv",
        id=identify(value),
        title=meta["title"],
        authors=[Author(a["name"], a["affiliation"]) for a in meta["authors"]],
        date=meta["published"][:10],
        origin=meta["abs_url"],
        raw_file="source.pdf",
        extra_files=[meta["eprint"]["file"]] if meta["eprint"].get("file") else [],
        metadata=meta,
    )


# ---------------------------------------------------------------- the LaTeX source (e-print)

EPRINT_NAMES = {"tar.gz": "source.tar.gz", "tex.gz": "source.tex.gz", "tar": "source.tar", "tex": "source.tex"}


def eprint_format(head: bytes) -> str:
    """tar.gz | tex.gz | pdf | tar | tex | unknown, from the e-print's first bytes (never its headers)."""
    import zlib

    from macaw.documents.latexsource import sniff

    kind = sniff(head)
    if kind != "gzip":
        return kind
    try:
        inner = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 4096)
    except zlib.error:
        return "unknown"
    inner_kind = sniff(inner)
    return {"tar": "tar.gz", "tex": "tex.gz", "pdf": "pdf"}.get(inner_kind, "tar.gz" if len(inner) >= 512 and inner[156:157] in (b"0", b"5", b"\0") else "unknown")


def fetch_eprint(url: str, folder: Path, *, policy: Policy = DEFAULT_POLICY, gate: Gate | None = None) -> dict[str, Any]:
    """Download the e-print into folder; what source.json records about it. Never raises for a bad e-print."""
    import hashlib

    gate = gate or default_gate(policy)
    part = Path(folder) / ".eprint.download"
    record: dict[str, Any] = {"url": url, "file": "", "format": ""}
    try:
        size = download_eprint(url, part, policy=policy, gate=gate)
        with open(part, "rb") as fh:
            head = fh.read(8192)
        fmt = eprint_format(head)
        record.update(format=fmt, bytes=size)
        if fmt in EPRINT_NAMES:
            digest = hashlib.sha256(part.read_bytes()).hexdigest()
            os.replace(part, Path(folder) / EPRINT_NAMES[fmt])
            record.update(file=EPRINT_NAMES[fmt], sha256=digest)
        elif fmt == "pdf":
            record["note"] = "a PDF-only submission: no LaTeX source"
        else:
            record["note"] = "neither a tar, a gzip nor LaTeX"
    except (FetchError, SourceNotFoundError) as exc:
        record.update(format="none", note=str(exc))
    finally:
        part.unlink(missing_ok=True)
    return record


def download_eprint(url: str, target: Path, *, policy: Policy = DEFAULT_POLICY, gate: Gate | None = None) -> int:
    """Stream the e-print into `target` atomically, at most policy.max_eprint_bytes.

    Like the PDF: spacing, timeouts, backoff on 429/5xx and timeouts. Unlike it, a host that
    cannot be reached at all is not retried: the e-print is optional and the PDF request that
    follows will say what is wrong with the network.
    """
    return _download(url, target, "source", policy=policy, gate=gate or default_gate(policy), limit=policy.max_eprint_bytes,
                     missing=(403, 404, 410), raw=True, unreachable_final=True)

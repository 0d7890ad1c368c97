"""arXiv: ids, metadata in both Atom formats, the PDF, and the polite client, against a local server."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from macaw import config as config_mod
from macaw.config import Config
from macaw.errors import FetchError, InvalidIdError, SourceNotFoundError
from macaw.sources import arxiv
from paperfixtures import ReplayServer, Reply, atom, attention_spec, eprint_reply, pdf_reply, typeset

FAST = arxiv.Policy(interval_s=0.0, connect_timeout_s=1.0, read_timeout_s=0.5, retries=3, backoff_s=0.01, backoff_max_s=0.05, deadline_s=10.0)


@pytest.fixture(scope="module")
def paper_pdf() -> bytes:
    return typeset(attention_spec())


@pytest.fixture
def server():
    with ReplayServer() as s:
        yield s


@pytest.fixture
def cfg(server: ReplayServer) -> Config:
    c = Config()
    c.arxiv.api_url = server.url + "/api/query"
    c.arxiv.pdf_url = server.url + "/pdf"
    c.arxiv.eprint_url = server.url + "/e-print"  # unscripted: 404, so the PDF alone is used
    return c


@pytest.fixture
def gate(tmp_path: Path) -> arxiv.Gate:
    return arxiv.Gate(tmp_path / "gate", 0.0)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1706.03762", ("1706.03762", None)),
        ("1706.03762v5", ("1706.03762", "v5")),
        ("arXiv:1706.03762v7", ("1706.03762", "v7")),
        ("2301.01234", ("2301.01234", None)),
        ("0704.0001", ("0704.0001", None)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("astro-ph/0601001v2", ("astro-ph/0601001", "v2")),
        ("math.GT/0309136", ("math.GT/0309136", None)),
        ("https://arxiv.org/abs/1706.03762", ("1706.03762", None)),
        ("https://arxiv.org/abs/1706.03762v5", ("1706.03762", "v5")),
        ("http://arxiv.org/pdf/1706.03762v3.pdf", ("1706.03762", "v3")),
        ("https://arxiv.org/pdf/1706.03762", ("1706.03762", None)),
        ("arxiv.org/abs/hep-th/9901001v1", ("hep-th/9901001", "v1")),
        ("https://export.arxiv.org/abs/astro-ph/0601001", ("astro-ph/0601001", None)),
        ("  1706.03762  ", ("1706.03762", None)),
    ],
)
def test_parse_id_accepts(value: str, expected: tuple[str, str | None]) -> None:
    assert arxiv.parse_id(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", "1706.3762", "1706.037621", "1713.03762", "2301.1234", "1406.12345", "0703.0001", "1706.03762v0",
     "hep-th/990100", "foo-bar/9901001", "hep-th/9913001", "https://example.com/abs/1706.03762",
     "https://arxiv.org/list/cs.CL", "1706.03762; rm -rf /", "../../etc/passwd"],
)
def test_parse_id_refuses(value: str) -> None:
    with pytest.raises(InvalidIdError) as err:
        arxiv.parse_id(value)
    assert err.value.exit_code == 13
    assert "\n" not in str(err.value)


def test_identify_is_filesystem_safe() -> None:
    assert arxiv.identify("https://arxiv.org/abs/1706.03762v5", Config()) == "arxiv-1706.03762"
    assert arxiv.identify("hep-th/9901001v2", Config()) == "arxiv-hep-th-9901001"


def test_malformed_id_makes_no_request(server: ReplayServer, cfg: Config, tmp_path: Path, gate: arxiv.Gate) -> None:
    with pytest.raises(InvalidIdError):
        arxiv.fetch("1706.3762", cfg, tmp_path / "ep", policy=FAST, gate=gate)
    assert server.log == []


def test_fetch_current_format(server: ReplayServer, cfg: Config, tmp_path: Path, gate: arxiv.Gate, paper_pdf: bytes) -> None:
    server.script["1706.03762"] = [atom("1706.03762-current.xml")]
    server.script["/pdf/1706.03762v7"] = [pdf_reply(paper_pdf)]
    folder = tmp_path / "ep"
    source = arxiv.fetch("1706.03762", cfg, folder, policy=FAST, gate=gate)
    assert source.kind == "arxiv" and source.id == "arxiv-1706.03762"
    assert source.title == "Attention Is All You Need"
    names = [a.name for a in source.authors]
    assert names == ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar", "Jakob Uszkoreit", "Llion Jones",
                     "Aidan N. Gomez", "Łukasz Kaiser", "Illia Polosukhin"]
    assert source.date == "2017-06-12"
    assert source.origin == "https://arxiv.org/abs/1706.03762v7"
    assert source.raw_file == "source.pdf"
    assert (folder / "source.pdf").read_bytes() == paper_pdf
    assert [p.name for p in folder.iterdir()] == ["source.pdf"]  # no temp files left
    m = source.metadata
    assert m["id"] == "1706.03762" and m["version"] == "v7"
    assert m["primary_category"] == "cs.CL" and m["categories"] == ["cs.CL", "cs.LG"]
    assert m["published"].startswith("2017-06-12T17:57:34") and m["updated"].startswith("2023-08-02")
    assert m["comment"] == "15 pages, 5 figures"
    assert m["abstract"].startswith("The dominant sequence transduction models") and "\n" not in m["abstract"]
    assert m["doi"] == "" and m["journal_ref"] == ""
    # The PDF comes from the PDF setting, with the version the API reported.
    assert m["pdf_url"] == cfg.arxiv.pdf_url + "/1706.03762v7"
    assert server.hits("/pdf/1706.03762v7") == 1
    assert set(m) >= {"id", "version", "title", "authors", "abstract", "primary_category", "categories",
                      "published", "updated", "doi", "journal_ref", "comment", "abs_url", "pdf_url"}
    assert source.to_dict()["metadata"]["authors"][6] == {"name": "Łukasz Kaiser", "affiliation": ""}


def test_fetch_pre2025_format_with_version(server: ReplayServer, cfg: Config, tmp_path: Path, gate: arxiv.Gate, paper_pdf: bytes) -> None:
    server.script["1706.03762v5"] = [atom("1706.03762-pre2025.xml")]
    server.script["/pdf/1706.03762v5"] = [pdf_reply(paper_pdf)]
    source = arxiv.fetch("https://arxiv.org/abs/1706.03762v5", cfg, tmp_path / "ep", policy=FAST, gate=gate)
    assert source.id == "arxiv-1706.03762"
    assert source.metadata["version"] == "v5"
    assert len(source.authors) == 8 and source.authors[6].name == "Łukasz Kaiser"
    assert source.metadata["updated"].startswith("2017-12-06")
    assert source.origin == "https://arxiv.org/abs/1706.03762v5"


def test_fetch_old_style_id_with_affiliations(server: ReplayServer, cfg: Config, tmp_path: Path, gate: arxiv.Gate, paper_pdf: bytes) -> None:
    server.script["astro-ph/0601001"] = [atom("astro-ph-0601001-current.xml")]
    server.script["/pdf/astro-ph/0601001v1"] = [pdf_reply(paper_pdf)]
    source = arxiv.fetch("astro-ph/0601001", cfg, tmp_path / "ep", policy=FAST, gate=gate)
    assert source.id == "arxiv-astro-ph-0601001"
    assert [(a.name, a.affiliation) for a in source.authors][:2] == [("Andrew Gould", "Ohio State"), ("Susan Dorsher", "Ohio State")]
    assert source.metadata["journal_ref"] == "ActaAstron.56:1-50,2006"
    assert source.metadata["doi"] == "10.48550/arXiv.astro-ph/0601001"
    assert source.metadata["categories"] == ["astro-ph"]


@pytest.mark.parametrize("fixture", ["empty-current.xml", "error-pre2025.xml"])
def test_unknown_id_is_not_found(server: ReplayServer, cfg: Config, tmp_path: Path, gate: arxiv.Gate, fixture: str) -> None:
    server.script["2501.99999"] = [atom(fixture)]
    with pytest.raises(SourceNotFoundError) as err:
        arxiv.fetch("2501.99999", cfg, tmp_path / "ep", policy=FAST, gate=gate)
    assert "2501.99999" in str(err.value) and err.value.exit_code == 11
    assert server.hits("2501.99999") == 1  # an empty answer is an answer: no retry
    assert not (tmp_path / "ep" / "source.pdf").exists()


def test_retries_429_and_503_then_succeeds(server: ReplayServer, cfg: Config, tmp_path: Path, gate: arxiv.Gate, paper_pdf: bytes) -> None:
    server.script["1706.03762"] = [Reply(429, b"slow down", "text/plain"), Reply(503, b"busy", "text/plain"), atom("1706.03762-current.xml")]
    server.script["/pdf/1706.03762v7"] = [pdf_reply(b"", status=503), pdf_reply(paper_pdf)]
    source = arxiv.fetch("1706.03762", cfg, tmp_path / "ep", policy=FAST, gate=gate)
    assert source.title == "Attention Is All You Need"
    assert server.hits("1706.03762") == 3
    assert server.hits("/pdf/1706.03762v7") == 2


def test_no_retry_on_other_4xx(server: ReplayServer, cfg: Config, tmp_path: Path, gate: arxiv.Gate) -> None:
    server.script["1706.03762"] = [Reply(400, b"bad", "text/plain")]
    with pytest.raises(FetchError) as err:
        arxiv.fetch("1706.03762", cfg, tmp_path / "ep", policy=FAST, gate=gate)
    assert "400" in str(err.value) and err.value.exit_code == 14
    assert server.hits("1706.03762") == 1


def test_gives_up_on_persistent_503(server: ReplayServer, cfg: Config, tmp_path: Path, gate: arxiv.Gate) -> None:
    server.script["1706.03762"] = [Reply(503, b"busy", "text/plain")]
    with pytest.raises(FetchError) as err:
        arxiv.fetch("1706.03762", cfg, tmp_path / "ep", policy=FAST, gate=gate)
    assert "503" in str(err.value)
    assert server.hits("1706.03762") == FAST.retries + 1


def test_slow_answer_times_out_and_retries(server: ReplayServer, cfg: Config, tmp_path: Path, gate: arxiv.Gate, paper_pdf: bytes) -> None:
    slow = atom("1706.03762-current.xml")
    slow.delay = 1.5
    server.script["1706.03762"] = [slow, atom("1706.03762-current.xml")]
    server.script["/pdf/1706.03762v7"] = [pdf_reply(paper_pdf, delay=1.5), pdf_reply(paper_pdf)]
    started = time.monotonic()
    source = arxiv.fetch("1706.03762", cfg, tmp_path / "ep", policy=FAST, gate=gate)
    assert source.metadata["version"] == "v7"
    assert server.hits("1706.03762") == 2 and server.hits("/pdf/1706.03762v7") == 2
    assert time.monotonic() - started < 5


def test_overall_deadline(server: ReplayServer, cfg: Config, tmp_path: Path, gate: arxiv.Gate) -> None:
    slow = atom("1706.03762-current.xml")
    slow.delay = 2.0
    server.script["1706.03762"] = [slow]
    policy = arxiv.Policy(interval_s=0, connect_timeout_s=1, read_timeout_s=0.4, retries=50, backoff_s=0.01, backoff_max_s=0.02, deadline_s=1.5)
    started = time.monotonic()
    with pytest.raises(FetchError):
        arxiv.fetch("1706.03762", cfg, tmp_path / "ep", policy=policy, gate=gate)
    assert time.monotonic() - started < 3.5


def test_truncated_answers_are_retried(server: ReplayServer, cfg: Config, tmp_path: Path, gate: arxiv.Gate, paper_pdf: bytes) -> None:
    cut = atom("1706.03762-current.xml")
    cut.truncate = 600
    server.script["1706.03762"] = [cut, atom("1706.03762-current.xml")]
    server.script["/pdf/1706.03762v7"] = [pdf_reply(paper_pdf, truncate=len(paper_pdf) // 2), pdf_reply(paper_pdf)]
    source = arxiv.fetch("1706.03762", cfg, tmp_path / "ep", policy=FAST, gate=gate)
    assert len(source.authors) == 8
    assert (tmp_path / "ep" / "source.pdf").read_bytes() == paper_pdf
    assert server.hits("1706.03762") == 2 and server.hits("/pdf/1706.03762v7") == 2


def test_pdf_must_be_a_pdf_and_small_enough(server: ReplayServer, cfg: Config, tmp_path: Path, gate: arxiv.Gate, paper_pdf: bytes) -> None:
    server.script["1706.03762"] = [atom("1706.03762-current.xml")]
    server.script["/pdf/1706.03762v7"] = [Reply(200, b"<html>" + b"x" * 4000, "text/html")]
    folder = tmp_path / "ep"
    with pytest.raises(FetchError, match="did not return a PDF"):
        arxiv.fetch("1706.03762", cfg, folder, policy=FAST, gate=gate)
    assert list(folder.iterdir()) == []
    server.script["/pdf/1706.03762v7"] = [pdf_reply(paper_pdf)]
    small = arxiv.Policy(**{**FAST.__dict__, "max_pdf_bytes": 1000})
    with pytest.raises(FetchError, match="larger than|limit is"):
        arxiv.fetch("1706.03762", cfg, folder, policy=small, gate=gate)
    assert list(folder.iterdir()) == []


def test_unknown_pdf_is_not_found(server: ReplayServer, cfg: Config, tmp_path: Path, gate: arxiv.Gate) -> None:
    server.script["1706.03762"] = [atom("1706.03762-current.xml")]
    with pytest.raises(SourceNotFoundError):
        arxiv.fetch("1706.03762", cfg, tmp_path / "ep", policy=FAST, gate=gate)


def test_default_policy_is_polite() -> None:
    p = arxiv.DEFAULT_POLICY
    assert p.interval_s >= 3.0 and p.connect_timeout_s > 0 and p.read_timeout_s > 0
    assert p.retries >= 1 and p.backoff_s > 0 and p.deadline_s > 0


def test_backoff_grows_with_jitter() -> None:
    waits: list[float] = []
    policy = arxiv.Policy(retries=4, backoff_s=1.0, backoff_max_s=100, deadline_s=1000)

    def always(_: float) -> None:
        raise arxiv._Retry("HTTP 503")

    with pytest.raises(FetchError):
        arxiv._with_retries("x", policy, always, sleep=waits.append)
    assert len(waits) == 4
    for i, w in enumerate(waits):
        assert 2**i / 2 <= w <= 2**i


def test_endpoints_come_from_environment(tmp_path: Path) -> None:
    c = config_mod.load(out=tmp_path, env={"MACAW_ARXIV_API_URL": "http://mirror.test/api/query", "MACAW_ARXIV_PDF_URL": "http://mirror.test/pdf"})
    assert c.arxiv.api_url == "http://mirror.test/api/query" and c.arxiv.pdf_url == "http://mirror.test/pdf"
    (tmp_path / "macaw.toml").write_text('[arxiv]\napi_url = "http://toml.test/api/query"\n')
    assert config_mod.load(out=tmp_path, env={}).arxiv.api_url == "http://toml.test/api/query"


def test_spacing_holds_across_processes(tmp_path: Path) -> None:
    """Two processes asking at once: their requests still start at least an interval apart."""
    root = Path(__file__).resolve().parent.parent
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(root)!r})
        from macaw.sources.arxiv import Gate
        gate = Gate(__import__('pathlib').Path({str(tmp_path)!r}), 0.3)
        for _ in range(3):
            print(repr(gate.wait()), flush=True)  # the turn's time as the gate recorded it, not after a busy scheduler
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    times = sorted(float(t) for p in procs for t in p.communicate(timeout=30)[0].split())
    assert len(times) == 6
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.29, gaps


# ---------------------------------------------------------------- the e-print (LaTeX source)


def _eprint_cfg(cfg: Config, server: ReplayServer) -> Config:
    cfg.arxiv.eprint_url = server.url + "/e-print"
    return cfg


@pytest.mark.parametrize("kind, name", [("tar.gz", "source.tar.gz"), ("tex.gz", "source.tex.gz")])
def test_fetch_stores_the_eprint_beside_the_pdf(server: ReplayServer, cfg: Config, tmp_path: Path, gate: arxiv.Gate,
                                                 paper_pdf: bytes, kind: str, name: str) -> None:
    import gzip
    import hashlib

    from latexfixtures import MINIMAL, tar_of

    data = tar_of({"main.tex": MINIMAL}) if kind == "tar.gz" else gzip.compress(MINIMAL)
    server.script["1706.03762"] = [atom("1706.03762-current.xml")]
    server.script["/e-print/1706.03762v7"] = [eprint_reply(data)]
    server.script["/pdf/1706.03762v7"] = [pdf_reply(paper_pdf)]
    folder = tmp_path / "ep"
    source = arxiv.fetch("1706.03762", _eprint_cfg(cfg, server), folder, policy=FAST, gate=gate)
    assert (folder / name).read_bytes() == data
    assert sorted(p.name for p in folder.iterdir()) == sorted([name, "source.pdf"])  # no temp files left
    record = source.metadata["eprint"]
    assert record == {"url": server.url + "/e-print/1706.03762v7", "file": name, "format": kind, "bytes": len(data),
                      "sha256": hashlib.sha256(data).hexdigest()}
    assert source.raw_file == "source.pdf" and source.title == "Attention Is All You Need"  # metadata stays the authority
    # one request each, in order: metadata, e-print, PDF
    assert [k for _, k in server.log] == ["1706.03762", "/e-print/1706.03762v7", "/pdf/1706.03762v7"]


def test_pdf_only_submission_keeps_no_eprint(server: ReplayServer, cfg: Config, tmp_path: Path, gate: arxiv.Gate, paper_pdf: bytes) -> None:
    server.script["1706.03762"] = [atom("1706.03762-current.xml")]
    server.script["/e-print/1706.03762v7"] = [eprint_reply(paper_pdf)]  # arXiv answers with the PDF itself
    server.script["/pdf/1706.03762v7"] = [pdf_reply(paper_pdf)]
    folder = tmp_path / "ep"
    source = arxiv.fetch("1706.03762", _eprint_cfg(cfg, server), folder, policy=FAST, gate=gate)
    assert [p.name for p in folder.iterdir()] == ["source.pdf"]
    assert source.metadata["eprint"]["format"] == "pdf" and source.metadata["eprint"]["file"] == ""
    assert "PDF-only" in source.metadata["eprint"]["note"]


def test_eprint_problems_never_fail_the_fetch(server: ReplayServer, cfg: Config, tmp_path: Path, gate: arxiv.Gate, paper_pdf: bytes) -> None:
    server.script["1706.03762"] = [atom("1706.03762-current.xml")]
    server.script["/pdf/1706.03762v7"] = [pdf_reply(paper_pdf)]
    folder = tmp_path / "ep"
    # 404: noted, not retried
    source = arxiv.fetch("1706.03762", _eprint_cfg(cfg, server), folder, policy=FAST, gate=gate)
    assert source.metadata["eprint"]["format"] == "none" and "HTTP 404" in source.metadata["eprint"]["note"]
    assert server.hits("/e-print/1706.03762v7") == 1
    # persistent 503: retried, then given up on; the PDF still comes
    server.script["/e-print/1706.03762v7"] = [eprint_reply(b"busy", status=503)]
    source = arxiv.fetch("1706.03762", cfg, tmp_path / "ep2", policy=FAST, gate=gate)
    assert "503" in source.metadata["eprint"]["note"] and server.hits("/e-print/1706.03762v7") == 1 + FAST.retries + 1
    assert (tmp_path / "ep2" / "source.pdf").read_bytes() == paper_pdf
    # over the size cap: refused while streaming
    from latexfixtures import MINIMAL, tar_of

    server.script["/e-print/1706.03762v7"] = [eprint_reply(tar_of({"main.tex": MINIMAL * 50}))]
    small = arxiv.Policy(**{**FAST.__dict__, "max_eprint_bytes": 100})
    source = arxiv.fetch("1706.03762", cfg, tmp_path / "ep3", policy=small, gate=gate)
    assert "limit is 100" in source.metadata["eprint"]["note"] or "larger than 100" in source.metadata["eprint"]["note"]
    assert sorted(p.name for p in (tmp_path / "ep3").iterdir()) == ["source.pdf"]


def test_eprint_retries_truncated_and_busy_answers(server: ReplayServer, cfg: Config, tmp_path: Path, gate: arxiv.Gate, paper_pdf: bytes) -> None:
    from latexfixtures import LATEX_DIR, tar_gz

    data = tar_gz(LATEX_DIR / "acl-bertlike")
    server.script["1706.03762"] = [atom("1706.03762-current.xml")]
    server.script["/e-print/1706.03762v7"] = [eprint_reply(b"", status=429), eprint_reply(data, truncate=len(data) // 2), eprint_reply(data)]
    server.script["/pdf/1706.03762v7"] = [pdf_reply(paper_pdf)]
    source = arxiv.fetch("1706.03762", _eprint_cfg(cfg, server), tmp_path / "ep", policy=FAST, gate=gate)
    assert (tmp_path / "ep" / "source.tar.gz").read_bytes() == data
    assert server.hits("/e-print/1706.03762v7") == 3 and source.metadata["eprint"]["bytes"] == len(data)


def test_unreachable_eprint_host_is_not_retried(cfg: Config, tmp_path: Path, gate: arxiv.Gate) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    started = time.monotonic()
    record = arxiv.fetch_eprint(f"http://127.0.0.1:{port}/e-print/1706.03762v7", tmp_path, policy=FAST, gate=gate)
    assert record["format"] == "none" and "cannot reach" in record["note"]
    assert time.monotonic() - started < 2
    assert [p.name for p in tmp_path.iterdir() if p.name != "gate"] == []


def test_eprint_endpoint_comes_from_config_and_environment(tmp_path: Path) -> None:
    assert Config().arxiv.eprint_url == "https://arxiv.org/e-print"
    c = config_mod.load(out=tmp_path, env={"MACAW_ARXIV_EPRINT_URL": "http://mirror.test/e-print"})
    assert c.arxiv.eprint_url == "http://mirror.test/e-print"
    (tmp_path / "macaw.toml").write_text('[arxiv]\neprint_url = "http://toml.test/src"\n')
    assert config_mod.load(out=tmp_path, env={}).arxiv.eprint_url == "http://toml.test/src"


def test_eprint_sent_with_a_gzip_content_encoding_is_kept_compressed(server: ReplayServer, cfg: Config, tmp_path: Path,
                                                                    gate: arxiv.Gate, paper_pdf: bytes) -> None:
    """arXiv may label a gzipped .tex with Content-Encoding: x-gzip; the file is stored as sent, not decoded."""
    import gzip

    from latexfixtures import MINIMAL

    data = gzip.compress(MINIMAL)
    server.script["1706.03762"] = [atom("1706.03762-current.xml")]
    server.script["/e-print/1706.03762v7"] = [eprint_reply(data, headers={"Content-Encoding": "x-gzip"})]
    server.script["/pdf/1706.03762v7"] = [pdf_reply(paper_pdf)]
    source = arxiv.fetch("1706.03762", cfg, tmp_path / "ep", policy=FAST, gate=gate)
    assert (tmp_path / "ep" / "source.tex.gz").read_bytes() == data
    assert source.extra_files == ["source.tex.gz"] and source.metadata["eprint"]["format"] == "tex.gz"

"""`macaw nightly` and `macaw status` on the command line: output, exit codes, config mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from macaw.cli import main
from macaw.config import load
from macaw.errors import ConfigError
from paperfixtures import ReplayServer, notes_spec, typeset
from test_nightly import Q1, serve_paper, serve_search, write_config
from tests import fakes


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from macaw.sources import arxiv

    monkeypatch.setattr(arxiv, "default_gate", lambda policy: arxiv.Gate(tmp_path / "gate", 0.0))
    for key, value in fakes.FAKE_OVERRIDES.items():
        monkeypatch.setenv("MACAW_" + key.replace(".", "_").upper(), value)
    monkeypatch.delenv("MACAW_OUT", raising=False)
    fakes.install()
    with ReplayServer() as s:
        yield s


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_dry_run_then_night_then_status(tmp_path: Path, server: ReplayServer) -> None:
    good = serve_paper(server, "2611.00001", 1, typeset(notes_spec()))
    broken = serve_paper(server, "2611.00002", 1, b"%PDF-1.4\n" + b"garbage " * 200)
    serve_search(server, Q1, [good, broken])
    out = tmp_path / "root"
    write_config(out, server, [Q1])

    code, stdout, _ = cli("nightly", "--dry-run", "--out", str(out))
    assert code == 0
    assert "would build arxiv-2611.00001 (2611.00001v1 Listening to Small Models): new" in stdout
    assert "night: would build 2" in stdout and not (out / "nightly.sqlite").exists()

    code, stdout, stderr = cli("nightly", "--out", str(out), "-q")
    assert code == 61, stderr  # some failed
    assert "night: published 1, failed 1" in stdout
    assert "failed: 2611.00002v1" in stderr and "\n" not in stderr.strip().split("failed: ", 1)[1]

    code, stdout, _ = cli("status", "--out", str(out))
    assert code == 0
    assert "last night:" in stdout and "published 1, failed 1" in stdout
    assert "items: 1 failed, 1 published" in stdout
    assert "arxiv:2611.00002 [failed, 1 attempt(s), exit 2" in stdout  # extraction's 2x codes
    assert "next try after" in stdout

    code, stdout, _ = cli("nightly", "--dry-run", "--out", str(out))
    assert "skipped 2611.00002v1 Quiet Gradients in Small Models: failed (1/3), next try after" in stdout

    code, stdout, _ = cli("nightly", "--dry-run", "--retry", "2611.00009", "--out", str(out))
    assert code == 11 and "no item '2611.00009' in the nightly state" in stdout + _


def test_all_failed_and_config_mistakes(tmp_path: Path, server: ReplayServer) -> None:
    serve_search(server, Q1, [serve_paper(server, "2611.00003", 1, b"not a pdf at all")])
    out = tmp_path / "root"
    write_config(out, server, [Q1])
    code, _, stderr = cli("nightly", "--out", str(out))
    assert code == 62, stderr

    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, stderr = cli("nightly", "--out", str(empty))
    assert code == 3 and "no [[nightly.arxiv]] or [[nightly.journal]]" in stderr
    code, stdout, _ = cli("status", "--out", str(empty))
    assert code == 0 and "no nightly state" in stdout


@pytest.mark.parametrize("toml, text", [
    ('[[nightly.arxiv]]\nmax_per_night = 3\n', "has no query"),
    ('[[nightly.arxiv]]\nquery = "x"\nmax_per_night = 0\n', "max_per_night must be between 1 and 200"),
    ('[[nightly.arxiv]]\nquery = "x"\nmax = 3\n', "unknown setting 'max'"),
    ('[[nightly.journal]]\npath = "a"\nurl = "https://b/feed"\n', "exactly one of path or url"),
    ('[[nightly.journal]]\nurl = "ftp://b/feed"\n', "must start with http"),
    ('[nightly]\narxiv = "cat:cs.CL"\n', "must be written as [[nightly.arxiv]] tables"),
    ('[nightly]\ndigest = "sometimes"\n', "nightly.digest"),
])
def test_nightly_config_mistakes_are_one_line(tmp_path: Path, toml: str, text: str) -> None:
    (tmp_path / "macaw.toml").write_text(toml)
    with pytest.raises(ConfigError) as err:
        load(out=tmp_path, env={})
    assert text in str(err.value) and "\n" not in str(err.value)


def test_nightly_config_reads_both_kinds(tmp_path: Path) -> None:
    (tmp_path / "macaw.toml").write_text(
        '[nightly]\ndigest = true\n\n[[nightly.arxiv]]\nquery = "cat:cs.CL AND abs:speech"\nmax_per_night = 5\n\n'
        '[[nightly.arxiv]]\nquery = "cat:cs.SD"\n\n[[nightly.journal]]\npath = "~/journal"\n\n'
        '[[nightly.journal]]\nurl = "https://blog.example/feed.xml"\n')
    nightly = load(out=tmp_path, env={}).nightly
    assert nightly.digest is True
    assert [(q.query, q.max_per_night) for q in nightly.arxiv] == [("cat:cs.CL AND abs:speech", 5), ("cat:cs.SD", 5)]
    assert [(j.path, j.url) for j in nightly.journal] == [("~/journal", ""), ("", "https://blog.example/feed.xml")]


def test_a_damaged_state_file_is_one_clear_line(tmp_path: Path, server: ReplayServer) -> None:
    out = tmp_path / "root"
    write_config(out, server, [Q1])
    (out / "nightly.sqlite").write_bytes(b"this is not a database" * 100)
    for args in (("nightly",), ("status",)):
        code, _, stderr = cli(*args, "--out", str(out))
        assert code == 3 and "cannot be read" in stderr and "move it aside" in stderr, stderr

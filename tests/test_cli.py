"""The command line: one clear line and a distinct exit code per mistake, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def macaw(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    repo = str(Path(__file__).resolve().parents[1])
    full_env = {**os.environ, "MACAW_OUT": str(cwd), "PYTHONPATH": repo, **(env or {})}
    full_env.pop("MACAW_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "macaw", *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120)


def test_help_is_fast_and_does_not_import_torch(tmp_path: Path) -> None:
    code = "import sys, macaw.cli; sys.argv=['macaw','--help']\ntry:\n    macaw.cli.main()\nexcept SystemExit:\n    pass\nassert 'torch' not in sys.modules, 'torch imported'\nassert 'transformers' not in sys.modules"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert result.returncode == 0, result.stderr
    assert "build" in result.stdout and "explain" in result.stdout


def test_version(tmp_path: Path) -> None:
    result = macaw("--version", cwd=tmp_path)
    assert result.returncode == 0 and "macaw, version" in result.stdout


@pytest.mark.parametrize(
    "args, files, env, code, text",
    [
        (["build", "--journal", "missing.md"], {}, {}, 11, "journal entry not found"),
        (["build", "--journal", "empty.md"], {"empty.md": "   \n"}, {}, 12, "has no text"),
        (["build", "--journal", "e.md"], {"e.md": "Hi there.\n", "macaw.toml": "[tts]\nengine = 'nope'\n"}, {}, 4, "unknown tts engine 'nope'"),
        (["build", "--journal", "e.md"], {"e.md": "Hi.\n", "macaw.toml": "[tts\n"}, {}, 3, "not valid TOML"),
        (["build", "--journal", "e.md"], {"e.md": "Hi.\n"}, {"MACAW_TTS_SPEED": "fast"}, 3, "MACAW_TTS_SPEED"),
        (["build"], {}, {}, 3, "name exactly one source"),
        (["build", "--journal", "e.md", "--until", "never"], {"e.md": "Hi.\n"}, {}, 2, "Invalid value"),
        (["explain", "no-such-episode"], {}, {}, 10, "no episode"),
    ],
)
def test_mistakes_give_one_line_and_a_distinct_code(tmp_path: Path, args, files, env, code, text) -> None:
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    result = macaw(*args, cwd=tmp_path, env=env)
    assert result.returncode == code, result.stderr
    assert text in result.stderr
    assert "Traceback" not in result.stderr
    if code != 2:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "feeds" / "macaw.xml").exists()


def test_publish_with_no_episodes_writes_a_valid_empty_feed(tmp_path: Path) -> None:
    result = macaw("publish", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "published 0 episode(s)" in result.stdout
    import feedparser

    feed = feedparser.parse((tmp_path / "feeds" / "macaw.xml").read_bytes())
    assert not feed.bozo and feed.feed.title == "Macaw" and feed.entries == []


def test_bad_base_url_flag_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "e.md").write_text("Hi there.\n")
    result = macaw("build", "--journal", "e.md", "--base-url", "ftp://nope", cwd=tmp_path)
    assert result.returncode == 3 and "base_url" in result.stderr


def test_a_long_path_stays_on_one_line(tmp_path: Path) -> None:
    # Not a terminal: rich would wrap at 80 columns, and a script reading the result (or the one
    # line of a mistake) would get half a path.
    deep = tmp_path / ("a-rather-long-folder-name-" * 4) / "out"
    deep.mkdir(parents=True)
    result = macaw("publish", cwd=deep)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1 and str(deep / "feeds" / "macaw.xml") in result.stdout
    result = macaw("build", "--journal", str(deep / "missing.md"), cwd=deep)
    assert result.returncode == 11 and len(result.stderr.strip().splitlines()) == 1
    assert str(deep / "missing.md") in result.stderr

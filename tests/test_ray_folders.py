"""The Ray executor's parts that need no cluster: episode folders as bytes and back in one
step, the [ray] settings, and the missing-Ray message (quick tests)."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from macaw.config import load
from macaw.errors import ConfigError, EngineUnavailableError, PublishError
from macaw.executors import folders


def _folder(path: Path, **files: bytes) -> Path:
    path.mkdir(parents=True)
    for name, data in files.items():
        (path / name).write_bytes(data)
    return path


def test_a_folder_travels_as_bytes_and_lands_whole(tmp_path: Path) -> None:
    src = _folder(tmp_path / "built", **{"script.json": b"{}", "narration.wav": os.urandom(50_000), ".macaw-cache.json": b"{}"})
    (src / "sub").mkdir()
    (src / "sub" / "take.wav").write_bytes(b"x")
    root = tmp_path / "root"
    final = root / "episodes" / "journal-x"
    folders.install(folders.pack(src), final, root)
    assert sorted(str(p.relative_to(final)) for p in final.rglob("*") if p.is_file()) == \
        [".macaw-cache.json", "narration.wav", "script.json", "sub/take.wav"]
    assert (final / "narration.wav").read_bytes() == (src / "narration.wav").read_bytes()
    assert list((root / folders.STAGING).iterdir()) == []


def test_replacing_a_folder_leaves_no_file_of_the_old_one(tmp_path: Path) -> None:
    root = tmp_path / "root"
    final = _folder(root / "episodes" / "e", **{"episode-old.mp3": b"old", "script.json": b"old"})
    new = _folder(tmp_path / "new", **{"episode-new.mp3": b"new", "script.json": b"new"})
    folders.install(folders.pack(new), final, root)
    assert sorted(p.name for p in final.iterdir()) == ["episode-new.mp3", "script.json"]
    assert (final / "script.json").read_bytes() == b"new"
    assert list((root / folders.STAGING).iterdir()) == []


def test_the_two_rename_fallback_also_replaces_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(folders, "_exchange", lambda a, b: False)
    root = tmp_path / "root"
    final = _folder(root / "episodes" / "e", **{"a": b"old"})
    folders.install(folders.pack(_folder(tmp_path / "new", **{"b": b"new"})), final, root)
    assert [p.name for p in final.iterdir()] == ["b"]


def test_a_crash_between_the_two_renames_is_recovered(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "episodes").mkdir(parents=True)
    staging = root / folders.STAGING
    _folder(staging / "old-journal-x-abc123", **{"episode.json": b"{}"})  # moved aside, replacement never came
    _folder(staging / "in-journal-y-def456", **{"half": b""})  # unpacking when the process died
    folders.recover(root)
    assert (root / "episodes" / "journal-x" / "episode.json").is_file()
    assert list(staging.iterdir()) == []


def test_a_member_that_escapes_the_folder_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("../../evil")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    root = tmp_path / "root"
    final = root / "episodes" / "e"
    with pytest.raises(PublishError, match="damaged or unsafe"):
        folders.install(buffer.getvalue(), final, root)
    assert not final.exists() and not (tmp_path / "evil").exists()
    assert list((root / folders.STAGING).iterdir()) == []


def test_an_oversized_folder_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(folders, "MAX_BYTES", 10)
    root = tmp_path / "root"
    with pytest.raises(PublishError, match="over the 0 MB cap"):
        folders.install(folders.pack(_folder(tmp_path / "big", a=b"x" * 100)), root / "episodes" / "e", root)
    assert not (root / "episodes" / "e").exists()


def test_the_ray_section(tmp_path: Path) -> None:
    (tmp_path / "macaw.toml").write_text('[ray]\naddress = "10.0.0.5:6379"\nshared_output = true\nnum_cpus = 2\nnum_gpus = 0.5\n')
    config = load(out=tmp_path, env={"MACAW_RAY_WORKERS": "3"})
    assert (config.ray.address, config.ray.shared_output, config.ray.num_cpus, config.ray.num_gpus, config.ray.workers) == \
        ("10.0.0.5:6379", True, 2.0, 0.5, 3)
    assert load(out=tmp_path / "none", env={}).ray.address == ""
    with pytest.raises(ConfigError, match="ray.num_cpus must be > 0"):
        load(out=tmp_path, env={"MACAW_RAY_NUM_CPUS": "0"})
    with pytest.raises(ConfigError, match="ray.num_gpus"):
        load(out=tmp_path, env={"MACAW_RAY_NUM_GPUS": "lots"})


def test_without_ray_installed_the_executor_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from macaw.executors import ray as ray_executor

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(EngineUnavailableError, match=r"pip install 'macaw\[ray\]'"):
        ray_executor.import_ray()


def test_an_unreachable_cluster_is_one_clear_line_in_seconds(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="the ray extra is not installed")
    from macaw.executors.ray import RayExecutor

    config = load(out=tmp_path, env={})
    with pytest.raises(EngineUnavailableError, match="cannot reach the Ray cluster at 127.0.0.1:1: no answer"):
        list(RayExecutor(lambda *a: None, lambda *a: None, address="127.0.0.1:1").run(config, [object()], lambda w: None))


def test_macaw_nightly_without_executor_never_imports_ray(tmp_path: Path) -> None:
    """A whole local night in a fresh process, with the scripted engines: Ray stays unimported."""
    import subprocess
    import sys

    from tests import fakes

    repo = Path(__file__).resolve().parents[1]
    (tmp_path / "journal").mkdir()
    (tmp_path / "journal" / "2026-11-29-bread.md").write_text("# Bread\n\nI baked bread. It came out flat, but it tasted good.\n")
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "macaw.toml").write_text(f'[[nightly.journal]]\npath = "{tmp_path / "journal"}"\n')
    script = "\n".join([
        "import sys",
        f"sys.path[:0] = [{str(repo)!r}, {str(repo / 'tests')!r}]",
        "from tests import fakes",
        "fakes.install()",
        "from click.testing import CliRunner",
        "from macaw.cli import main",
        f"r = CliRunner().invoke(main, ['nightly', '--out', {str(tmp_path / 'root')!r}, '-q'])",
        "print(r.exit_code, r.stdout.strip().splitlines()[-1], 'ray' in sys.modules)",
    ])
    env = {k: v for k, v in os.environ.items() if not k.startswith("MACAW_")}
    env.update({"MACAW_" + k.replace(".", "_").upper(): v for k, v in fakes.FAKE_OVERRIDES.items()})
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.stdout.startswith("0 "), done.stdout + done.stderr
    assert "published 1" in done.stdout
    assert done.stdout.strip().endswith("False"), "ray was imported by a local night"

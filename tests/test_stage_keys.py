"""Each stage's cache key changes when its inputs, options, code version or templates change,
and only then (the key comes from the stage's STAGE declaration, macaw/stages/context.py)."""

from __future__ import annotations

import dataclasses
import importlib
import json
import shutil
from pathlib import Path

import pytest

from macaw import cache, render
from macaw.artifacts import Source
from macaw.config import load
from macaw.pipeline import _request_for, build, stage_parts
from macaw.stages import STAGES
from macaw.stages.context import StageContext
from tests import fakes
from tests.test_pipeline import ENTRY


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    fakes.install()
    out = tmp_path_factory.mktemp("keys")
    (out / "entry.md").write_text(ENTRY)
    config = load(out=out, env={}, overrides=fakes.FAKE_OVERRIDES)
    [outcome] = build(journal=str(out / "entry.md"), config=config)
    return outcome.folder


def keys(folder: Path, **overrides: object) -> dict[str, str]:
    fakes.install()
    config = load(out=folder.parents[1], env={}, overrides={**fakes.FAKE_OVERRIDES, **overrides})
    source = Source.load(folder)
    request = _request_for(source, cache.StageCache(folder))
    ctx = StageContext(config=config, folder=folder, episode_id=source.id)
    return {stage: cache.digest(stage_parts(stage, ctx, request)) for stage in STAGES}


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return [stage for stage in STAGES if before[stage] != after[stage]]


@pytest.fixture()
def copy(episode: Path, tmp_path: Path) -> Path:
    target = tmp_path / "episodes" / episode.name
    shutil.copytree(episode, target)
    shutil.copy(episode.parents[1] / "entry.md", tmp_path / "entry.md")
    source = json.loads((target / "source.json").read_text())
    source["origin"] = str(tmp_path / "entry.md")
    (target / "source.json").write_text(json.dumps(source))
    return target


def test_the_keys_are_stable_and_match_what_the_build_recorded(episode: Path) -> None:
    assert keys(episode) == keys(episode)
    records = cache.StageCache(episode).records
    assert {stage: records[stage]["key"] for stage in STAGES} == keys(episode)


@pytest.mark.parametrize("override, expected", [
    ({"quality.max_wer": 0.07}, ["check"]),
    ({"script.minutes": 3.0}, ["write"]),
    ({"tts.speed": 1.2}, ["speak", "check"]),  # check retakes sentences with the voice
    ({"master.lufs": -19.0}, ["master"]),
    ({"show.title": "Another show"}, ["write", "check", "master", "publish"]),
    ({"show.category": "Technology"}, ["publish"]),
])
def test_an_option_changes_only_the_stages_that_read_it(episode: Path, override: dict, expected: list[str]) -> None:
    assert changed(keys(episode), keys(episode, **override)) == expected


def test_changing_the_authors_reruns_the_stages_that_read_the_source(copy: Path) -> None:
    before = keys(copy)
    source = json.loads((copy / "source.json").read_text())
    source["authors"] = [{"name": "Grace Hopper", "affiliation": ""}]
    (copy / "source.json").write_text(json.dumps(source))
    assert changed(before, keys(copy)) == ["extract", "write", "check", "master", "publish"]


def test_an_edited_script_reruns_what_follows_write(copy: Path) -> None:
    before = keys(copy)
    script = json.loads((copy / "script.json").read_text())
    script["sentences"][0]["text"] += " Indeed."
    (copy / "script.json").write_text(json.dumps(script))
    assert changed(before, keys(copy)) == ["speak", "check", "master", "publish"]


def test_an_edited_prompt_reruns_write_and_a_page_template_publish(episode: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = keys(episode)
    templates = tmp_path / "templates"
    shutil.copytree(render.TEMPLATES, templates)
    monkeypatch.setattr(render, "TEMPLATES", templates)
    assert keys(episode) == before
    (templates / "prompt_journal_intro.j2").write_text((templates / "prompt_journal_intro.j2").read_text() + "\nBe brief.")
    after_prompt = keys(episode)
    assert changed(before, after_prompt) == ["write"]
    (templates / "shownotes.html.j2").write_text((templates / "shownotes.html.j2").read_text() + "\n")
    assert changed(after_prompt, keys(episode)) == ["publish"]


@pytest.mark.parametrize("stage", STAGES)
def test_a_new_code_version_changes_that_stage_alone(episode: Path, stage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    before = keys(episode)
    module = importlib.import_module(f"macaw.stages.{stage}")
    monkeypatch.setattr(module, "STAGE", dataclasses.replace(module.STAGE, version=module.STAGE.version + 1))
    assert changed(before, keys(episode)) == [stage]


def test_the_code_digest_follows_the_source_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "keypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helper.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    first = cache.code_digest("keypkg")
    cache.code_digest.cache_clear()
    assert cache.code_digest("keypkg") == first
    cache.code_digest.cache_clear()
    (package / "helper.py").write_text("X = 2\n")
    assert cache.code_digest("keypkg") != first
    cache.code_digest.cache_clear()

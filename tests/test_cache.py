from pathlib import Path

from macaw.cache import StageCache, changed_parts


def test_fresh_until_a_part_changes(tmp_path: Path) -> None:
    (tmp_path / "out.json").write_text("{}")
    parts = {"inputs": {"a.json": "1" * 64}, "engine": {"name": "piper", "speed": 1.0}, "options": {}}
    cache = StageCache(tmp_path)
    assert cache.verdict("speak", parts, ["out.json"]).reasons == ["never ran"]
    cache.record("speak", parts, 1.5)
    again = StageCache(tmp_path)
    assert again.verdict("speak", parts, ["out.json"]).fresh
    assert again.seconds("speak") == 1.5
    changed = {**parts, "engine": {"name": "piper", "speed": 1.2}}
    verdict = again.verdict("speak", changed, ["out.json"])
    assert not verdict.fresh and verdict.reasons == ["engine.speed: 1.0 -> 1.2"]
    (tmp_path / "out.json").unlink()
    assert again.verdict("speak", parts, ["out.json"]).reasons == ["output out.json is missing"]


def test_changed_parts_names_inputs() -> None:
    assert changed_parts({"inputs": {"script.json": "a"}}, {"inputs": {"script.json": "b"}}) == ["input script.json changed"]

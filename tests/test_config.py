from pathlib import Path

import pytest

from macaw.config import load
from macaw.errors import ConfigError


def test_defaults_when_no_file(tmp_path: Path) -> None:
    config = load(out=tmp_path, env={})
    assert config.out == tmp_path.resolve()
    assert config.tts.engine == "piper"
    assert config.feeds_dir == tmp_path.resolve() / "feeds"


def test_precedence_file_then_env_then_flags(tmp_path: Path) -> None:
    (tmp_path / "macaw.toml").write_text('[tts]\nspeed = 1.1\n[show]\ntitle = "From file"\nbase_url = "https://a.example"\n')
    config = load(out=tmp_path, env={"MACAW_TTS_SPEED": "1.3", "MACAW_BASE_URL": "https://b.example"})
    assert config.tts.speed == 1.3
    assert config.show.title == "From file"
    assert config.show.base_url == "https://b.example"
    config = load(out=tmp_path, env={"MACAW_TTS_SPEED": "1.3"}, overrides={"tts.speed": 1.5, "tts.voice": None})
    assert config.tts.speed == 1.5


def test_macaw_out_names_the_root(tmp_path: Path) -> None:
    assert load(env={"MACAW_OUT": str(tmp_path)}).out == tmp_path.resolve()


@pytest.mark.parametrize(
    "toml, message",
    [
        ("[tts\nspeed=1", "not valid TOML"),
        ("[nope]\nx = 1\n", "unknown section [nope]"),
        ("[tts]\nspeeed = 1.0\n", "unknown setting tts.speeed"),
        ('[tts]\nspeed = "fast"\n', "tts.speed"),
        ('[llm]\ndevice = "tpu"\n', "llm.device"),
        ('[show]\nbase_url = "ftp://x"\n', "base_url"),
    ],
)
def test_bad_config_is_one_clear_error(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "macaw.toml").write_text(toml)
    with pytest.raises(ConfigError) as err:
        load(out=tmp_path, env={})
    assert message in str(err.value)
    assert err.value.exit_code == 3
    assert "\n" not in str(err.value)


def test_bad_env_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\$MACAW_TTS_SPEED"):
        load(out=tmp_path, env={"MACAW_TTS_SPEED": "fast"})


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load(tmp_path / "nope.toml", out=tmp_path, env={})

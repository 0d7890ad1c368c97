"""Settings: defaults < macaw.toml < MACAW_* environment variables < command-line flags.

Every setting lives in a section of `macaw.toml`; the environment variable for it is
`MACAW_<SECTION>_<KEY>` (for example `MACAW_TTS_SPEED=1.1`), plus a few short aliases that
people expect (`MACAW_BASE_URL`, `MACAW_ARXIV_API_URL`, `MACAW_ARXIV_PDF_URL`, `MACAW_OUT`).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from macaw.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")


@dataclass
class ShowConfig:
    title: str = "Macaw"
    slug: str = "macaw"  # the feed is feeds/<slug>.xml
    description: str = "Research papers and journal entries, read aloud. Made offline by Macaw."
    author: str = "Macaw"
    email: str = "macaw@example.invalid"
    language: str = "en"
    base_url: str = "http://localhost:8000"
    image: str = ""  # path to cover art; Macaw draws one when empty
    category: str = "Science"
    explicit: bool = False
    locked: bool = True  # podcast:locked: other hosting platforms may not import the feed
    guid: str = ""  # podcast:guid; empty: the UUIDv5 of the feed URL (keep it if the URL moves)


@dataclass
class LLMConfig:
    # auto: the fastest engine that gives transformers' replies (CTranslate2 for the bundled model
    # on the CPU, else transformers); ctranslate2 / native (numpy): plain Llamas on the CPU;
    # transformers: always torch; openai: an OpenAI-compatible server. Measured in bench/llm_engines.py.
    engine: str = "auto"
    model: str = ""  # empty: the bundled SmolLM2-135M-Instruct GGUF
    device: str = "auto"
    max_tokens: int = 120
    seed: int = 0
    repetition_penalty: float = 1.15
    context_tokens: int = 0  # 0: what the model says (2048 for the bundled SmolLM2)
    compute_type: str = "float32"  # engine = "ctranslate2": float32 gives transformers' replies; int8 does not
    base_url: str = ""  # engine = "openai": e.g. http://127.0.0.1:11434/v1 (Ollama)
    api_key: str = ""  # engine = "openai": sent as a Bearer token when set
    timeout: float = 120.0  # engine = "openai": seconds to wait for one answer


# Settings that are gone, with what to write instead (a clear error beats "unknown setting").
REMOVED = {
    ("llm", "runtime"): 'set [llm] engine = "transformers" to always run torch, or engine = "auto" (the default) '
                        'for the fastest runtime with the same replies (CTranslate2 for the bundled model on the CPU)',
}


@dataclass
class TTSConfig:
    engine: str = "piper"
    voice: str = ""  # empty: the bundled en_US-joe-medium voice; else a path to a Piper .onnx
    device: str = "auto"
    speed: float = 1.0  # >1 speaks faster
    sentence_pause: float = 0.3
    paragraph_pause: float = 0.7
    segment_pause: float = 1.2


@dataclass
class ASRConfig:
    engine: str = "faster-whisper"
    model: str = ""  # empty: the bundled tiny.en; else a faster-whisper model folder or name
    device: str = "auto"
    compute_type: str = "int8"
    beam_size: int = 1


@dataclass
class QualityConfig:
    # The gate. Bundled voice + tiny.en, every setting hearing the same saved takes
    # (bench/check_ab.py): on the 3 journal entries + samples/first-light.md, 2 takes each, the
    # first listen (in windows cut at sentences) is 4.7% overall and the shipped check 3.6%
    # (every take under 5%); on 8 takes of the built sample episode 3.3% and 1.5%; on 8 takes of
    # the hardest entry (gestation: typos, names) 5.5% and 3.4%. A sentence lost to silence or
    # noise still fails 5% (tests/test_check.py).
    max_wer: float = 0.05
    # A sentence above this is synthesised again, differently: 0.25 (one word in four wrong).
    # 0.15 retakes more of tiny.en's own slips, a transcription round each: on the same takes
    # check took +57% of raw faster-whisper's time instead of +44% for 3.9% instead of 4.0%.
    sentence_max_wer: float = 0.25
    # When the episode is above max_wer after the second listen, sentences above this are retaken
    # too: effort where the gate needs it. 0: every sentence with an error. The same saved takes of
    # 3 failing real entries (bench/check_ab.py, one run each, machine load ~12): at 0.15 they ended
    # 4.6%, 6.7%, 4.5% (two fail); at "any error" 4.4%, 2.8%, 2.3%, for 2.3-2.7x check's CPU time.
    # Only an episode that would fail pays for it.
    rescue_wer: float = 0.0
    # The episode WER above which those rescue retakes run: the aim, under the gate. At the gate
    # itself (0.05) an episode at 4.9% kept every error it had, so a median episode sat near 4.5%.
    rescue_above: float = 0.03
    # A rescue stops once the episode, with its best takes so far, is at or under this WER (0: it
    # never stops early; each sentence still gets max_retries tries). Sentences above
    # sentence_max_wer get all their tries either way.
    rescue_to: float = 0.025
    # Alternative spoken forms tried per bad sentence (0: never retry). On those 5 entries' takes
    # (rescue on) 2 gave 3.92%, 3 gave 3.87% (1 run each; with the confident second listen, 3.35%).
    max_retries: int = 3
    # Every sentence the recogniser doubted (a word under probability 0.7, or script words heard
    # as nothing) is heard again with beam search, in one batch, and the hearing it is surer of
    # stands, whatever it scores. The recogniser is never told the expected text.
    relisten: bool = True


@dataclass
class MasterConfig:
    lufs: float = -16.0
    true_peak: float = -1.0
    sample_rate: int = 44100
    bitrate_kbps: int = 96


@dataclass
class JournalConfig:
    mode: str = "read"  # read | summary
    author: str = ""  # who wrote the journal; defaults to the show's author


@dataclass
class ScriptConfig:
    minutes: float = 8.0  # target length of a paper episode
    lexicon: str = ""  # a pronunciation lexicon file (see macaw/spoken.py); relative to the output root
    # What the model is asked to do on a paper: "shorten" one source sentence at a time (the bundled
    # 135M model), "explain" a chapter in its own words; "auto": explain for engine = "openai" and
    # for models over 1B parameters.
    style: str = "auto"


@dataclass
class ArxivConfig:
    api_url: str = "https://export.arxiv.org/api/query"
    pdf_url: str = "https://arxiv.org/pdf"
    eprint_url: str = "https://arxiv.org/e-print"  # the LaTeX source; MACAW_ARXIV_EPRINT_URL


@dataclass
class NightlyArxiv:
    query: str = ""  # arXiv search syntax, e.g. "cat:cs.CL AND abs:speech"
    max_per_night: int = 5  # newest first; only papers not built before


@dataclass
class NightlyJournal:
    path: str = ""  # a folder of entries (or one entry); relative to the output root
    url: str = ""  # or a blog's RSS/Atom feed


@dataclass
class NightlyConfig:
    digest: bool = False  # true: also one episode a night covering every paper it built
    max_attempts: int = 3  # an item that failed this many nights is set aside (`macaw nightly --retry ID`)
    backoff_hours: float = 20.0  # a failed item waits this long, doubled after each further failure
    allow_private: bool = False  # let journal feed URLs reach loopback / private addresses
    feed_max_bytes: int = 10 * 1024 * 1024  # a remote journal feed larger than this is refused
    feed_timeout: float = 30.0  # seconds for one remote feed request (connect and each read)
    arxiv: list[NightlyArxiv] = field(default_factory=list)
    journal: list[NightlyJournal] = field(default_factory=list)


@dataclass
class RayConfig:
    """`macaw nightly --executor ray`: where the cluster is and what each item's task asks for."""

    address: str = ""  # empty: start a Ray on this machine for the night; "auto" or HOST:PORT: join a running cluster
    shared_output: bool = False  # true: every worker sees this output root at the same path (NFS): artifacts go straight there
    num_cpus: float = 1.0  # CPUs each item's task (one worker process holding the engines) asks for
    num_gpus: float = 0.0  # GPUs each item's task asks for; > 0 puts the engines on CUDA (device = "auto")
    workers: int = 0  # worker processes (engine holders) at once; 0: as many as the cluster's CPUs/GPUs allow


@dataclass
class Config:
    show: ShowConfig = field(default_factory=ShowConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)
    tts: TTSConfig = field(default_factory=TTSConfig)
    asr: ASRConfig = field(default_factory=ASRConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    master: MasterConfig = field(default_factory=MasterConfig)
    journal: JournalConfig = field(default_factory=JournalConfig)
    script: ScriptConfig = field(default_factory=ScriptConfig)
    arxiv: ArxivConfig = field(default_factory=ArxivConfig)
    nightly: NightlyConfig = field(default_factory=NightlyConfig)
    ray: RayConfig = field(default_factory=RayConfig)
    out: Path = field(default_factory=Path.cwd)

    @property
    def episodes_dir(self) -> Path:
        return self.out / "episodes"

    @property
    def feeds_dir(self) -> Path:
        return self.out / "feeds"

    def section(self, name: str) -> dict[str, Any]:
        return dataclasses.asdict(getattr(self, name))


ALIASES = {
    "MACAW_BASE_URL": ("show", "base_url"),
    "MACAW_ARXIV_API_URL": ("arxiv", "api_url"),
    "MACAW_ARXIV_PDF_URL": ("arxiv", "pdf_url"),
    "MACAW_ARXIV_EPRINT_URL": ("arxiv", "eprint_url"),
}


def _sections() -> dict[str, type]:
    return {f.name: f.default_factory().__class__ for f in dataclasses.fields(Config) if f.name != "out"}  # type: ignore[misc]


def _coerce(value: Any, default: Any, where: str) -> Any:
    """Turn a TOML or environment value into the type of the default, or say why not."""
    try:
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if isinstance(default, int):
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if isinstance(default, float):
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if isinstance(value, (dict, list)):
            raise ValueError
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{where} must be {type(default).__name__}, got {value!r}",
            hint="fix macaw.toml or the environment variable",
        ) from None


_LISTS = {("nightly", "arxiv"): NightlyArxiv, ("nightly", "journal"): NightlyJournal}


def _apply_list(kind: type, value: Any, where: str) -> list[Any]:
    """[[nightly.arxiv]] / [[nightly.journal]]: an array of tables, each checked like a section."""
    name = "nightly.arxiv" if kind is NightlyArxiv else "nightly.journal"
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{name} in {where} must be written as [[{name}]] tables", hint="see the README's nightly section")
    items = []
    for table in value:
        item = kind()
        known = {f.name for f in dataclasses.fields(item)}
        for key, v in table.items():
            if key not in known:
                raise ConfigError(f"unknown setting {key!r} in [[{name}]] in {where}", hint=f"known: {', '.join(sorted(known))}")
            setattr(item, key, _coerce(v, getattr(item, key), f"{name}.{key} in {where}"))
        items.append(item)
    return items


def _apply(config: Config, section: str, key: str, value: Any, where: str) -> None:
    sections = _sections()
    if (section, key) in _LISTS:
        setattr(getattr(config, section), key, _apply_list(_LISTS[(section, key)], value, where))
        return
    if section not in sections:
        raise ConfigError(f"unknown section [{section}] in {where}", hint=f"known: {', '.join(sections)}")
    target = getattr(config, section)
    if (section, key) in REMOVED:
        raise ConfigError(f"{section}.{key} is gone (found in {where})", hint=f"{REMOVED[section, key]}; then remove {section}.{key}")
    if key not in {f.name for f in dataclasses.fields(target)}:
        known = ", ".join(f.name for f in dataclasses.fields(target))
        raise ConfigError(f"unknown setting {section}.{key} in {where}", hint=f"known: {known}")
    setattr(target, key, _coerce(value, getattr(target, key), f"{section}.{key} in {where}"))


def load(
    path: Path | None = None,
    *,
    out: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Read the settings for one run.

    `out` (or MACAW_OUT, else the current directory) is the output root; `macaw.toml` is read
    from there unless `path` names another file. `overrides` are flags: {"tts.speed": 1.2}.
    """
    env = os.environ if env is None else env
    root = Path(out or env.get("MACAW_OUT") or Path.cwd()).expanduser().resolve()
    config = Config(out=root)

    toml_path = Path(path).expanduser() if path else root / "macaw.toml"
    if path and not toml_path.is_file():
        raise ConfigError(f"config file not found: {toml_path}", hint="check the --config path")
    if toml_path.is_file():
        try:
            data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{toml_path} is not valid TOML: {exc}", hint="fix the file") from None
        for section, values in data.items():
            if not isinstance(values, dict):
                raise ConfigError(f"{toml_path}: '{section}' must be a [section] table")
            for key, value in values.items():
                _apply(config, section, key, value, str(toml_path))

    for name, value in env.items():
        if not name.startswith("MACAW_") or name == "MACAW_OUT":
            continue
        if name in ALIASES:
            _apply(config, *ALIASES[name], value, f"${name}")
            continue
        rest = name[len("MACAW_"):].lower()
        section, _, key = rest.partition("_")
        if section in _sections() and key:
            _apply(config, section, key, value, f"${name}")

    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        section, _, key = dotted.partition(".")
        _apply(config, section, key, value, "the command line")

    validate(config)
    return config


def validate(config: Config) -> None:
    for name in ("llm", "tts", "asr"):
        device = getattr(config, name).device
        if device not in DEVICES:
            raise ConfigError(f"{name}.device must be one of {', '.join(DEVICES)}, got {device!r}")
    if config.journal.mode not in ("read", "summary"):
        raise ConfigError(f"journal.mode must be 'read' or 'summary', got {config.journal.mode!r}")
    if config.script.style not in ("auto", "shorten", "explain"):
        raise ConfigError(f"script.style must be auto, shorten or explain, got {config.script.style!r}",
                          hint="fix [script] style in macaw.toml")
    if not 0.5 <= config.script.minutes <= 120:
        raise ConfigError(f"script.minutes must be between 0.5 and 120, got {config.script.minutes}")
    if not 0.25 <= config.tts.speed <= 4.0:
        raise ConfigError(f"tts.speed must be between 0.25 and 4, got {config.tts.speed}")
    if not 0.0 < config.quality.max_wer <= 1.0:
        raise ConfigError(f"quality.max_wer must be in (0, 1], got {config.quality.max_wer}")
    if not 0.0 <= config.quality.rescue_wer <= 1.0:
        raise ConfigError(f"quality.rescue_wer must be in [0, 1], got {config.quality.rescue_wer}")
    if not 0.0 <= config.quality.rescue_to <= 1.0:
        raise ConfigError(f"quality.rescue_to must be in [0, 1], got {config.quality.rescue_to}")
    if not 0.0 <= config.quality.rescue_above <= 1.0:  # above the gate, the gate's own value is used
        raise ConfigError(f"quality.rescue_above must be in [0, 1], got {config.quality.rescue_above}")
    if not 0.0 < config.quality.sentence_max_wer <= 1.0:
        raise ConfigError(f"quality.sentence_max_wer must be in (0, 1], got {config.quality.sentence_max_wer}")
    if not 0 <= config.quality.max_retries <= 10:
        raise ConfigError(f"quality.max_retries must be between 0 and 10, got {config.quality.max_retries}")
    if config.ray.num_cpus <= 0 or config.ray.num_gpus < 0 or config.ray.workers < 0:
        raise ConfigError(f"ray.num_cpus must be > 0 and ray.num_gpus, ray.workers >= 0, got {config.ray.num_cpus}, "
                          f"{config.ray.num_gpus}, {config.ray.workers}", hint="fix the [ray] section of macaw.toml")
    if not config.show.slug or any(c in config.show.slug for c in "/\\ ."):
        raise ConfigError(f"show.slug must be a plain name (it names feeds/<slug>.xml), got {config.show.slug!r}")
    validate_nightly(config.nightly)
    if not config.show.base_url.startswith(("http://", "https://")):
        raise ConfigError(f"show.base_url must start with http:// or https://, got {config.show.base_url!r}")


def validate_nightly(nightly: NightlyConfig) -> None:
    for q in nightly.arxiv:
        if not q.query.strip():
            raise ConfigError("a [[nightly.arxiv]] table has no query", hint='e.g. query = "cat:cs.CL AND abs:speech"')
        if not 1 <= q.max_per_night <= 200:
            raise ConfigError(f"nightly.arxiv max_per_night must be between 1 and 200, got {q.max_per_night}")
    for j in nightly.journal:
        if bool(j.path) == bool(j.url):
            raise ConfigError("each [[nightly.journal]] needs exactly one of path or url", hint='e.g. path = "~/journal"')
        if j.url and not j.url.startswith(("http://", "https://")):
            raise ConfigError(f"nightly.journal url must start with http:// or https://, got {j.url!r}")
    if not 1 <= nightly.max_attempts <= 20:
        raise ConfigError(f"nightly.max_attempts must be between 1 and 20, got {nightly.max_attempts}")
    if nightly.backoff_hours < 0:
        raise ConfigError(f"nightly.backoff_hours must be 0 or more, got {nightly.backoff_hours}")
    if nightly.feed_max_bytes < 1024:
        raise ConfigError(f"nightly.feed_max_bytes must be at least 1024, got {nightly.feed_max_bytes}")

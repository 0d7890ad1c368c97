"""The `macaw` command: a thin layer over macaw.pipeline and macaw.stages.publish.

Errors Macaw raises on purpose become one line on stderr and their exit code (macaw/errors.py);
anything else is a bug, reported in one line too (MACAW_DEBUG=1 shows the traceback).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

import click

from macaw.version import __version__
from macaw.stages import STAGES
from macaw.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, MacawError


def _console(stderr: bool = True) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)  # one result per line, never wrapped: scripts read it


class RichReporter:
    """Per-stage lines with timings; a spinner while a stage runs."""

    def __init__(self, quiet: bool = False):
        self.console = _console()
        self.quiet = quiet
        self.status: Any = None
        self.stage = ""

    def episode(self, episode_id: str, index: int, total: int) -> None:
        if not self.quiet:
            counter = f" ({index}/{total})" if total > 1 else ""
            self.console.print(f"[bold]{episode_id}[/bold]{counter}")

    def stage_started(self, stage: str) -> None:
        self.stage = stage
        if not self.quiet and self.console.is_terminal:
            self.status = self.console.status(f"  {stage}…")
            self.status.start()

    def stage_finished(self, stage: str, seconds: float, cached: bool) -> None:
        self._stop()
        if not self.quiet:
            note = "[dim]cached[/dim]" if cached else f"{seconds:6.1f} s"
            self.console.print(f"  {stage:<8} {note}")

    def log(self, message: str) -> None:
        if self.quiet:
            return
        from rich.markup import escape

        message = message.removeprefix(f"{self.stage}: ")
        self.console.print(f"  [dim]{self.stage + ': ' if self.stage else ''}{escape(message)}[/dim]", soft_wrap=True)

    def _stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None


def _run(action: Callable[[], int | None]) -> None:
    try:
        code = action() or 0
    except MacawError as exc:
        from rich.markup import escape

        _console().print(f"[red]error:[/red] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
        code = exc.exit_code
    except KeyboardInterrupt:
        _console().print("interrupted; the feed and published episodes are unchanged")
        code = EXIT_INTERRUPTED
    except click.exceptions.Exit:
        raise
    except click.ClickException:
        raise
    except Exception as exc:  # a bug: say so in one line, and how to see more
        if os.environ.get("MACAW_DEBUG"):
            raise
        _console().print(
            f"[red]internal error:[/red] {exc.__class__.__name__}: {exc} (a bug in Macaw; rerun with MACAW_DEBUG=1 for the traceback)",
            markup=True, soft_wrap=True,
        )
        code = EXIT_INTERNAL
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="macaw")
def main() -> None:
    """Turn research papers and journal entries into podcast episodes, offline."""


def _common_config(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Settings file (default: macaw.toml in the output root).")(fn)
    fn = click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output root holding episodes/ and feeds/ (default: $MACAW_OUT or the current directory).")(fn)
    return fn


def _load_config(out: Path | None, config_path: Path | None, overrides: dict[str, Any] | None = None) -> Any:
    from macaw.config import load

    return load(config_path, out=out, overrides=overrides)


@main.command()
@click.option("--journal", metavar="PATH|URL", help="A markdown or text entry, a folder of them, or a blog's RSS/Atom feed.")
@click.option("--paper", metavar="ID|URL", help="An arXiv id (1706.03762, 1706.03762v5, hep-th/9901001) or abs/pdf URL.")
@click.option("--pdf", type=click.Path(dir_okay=False), metavar="PATH", help="A local PDF.")
@click.option("--enrich", is_flag=True, help="With --pdf: fill metadata from arXiv when the PDF carries an arXiv id.")
@click.option("--until", type=click.Choice(STAGES), default="publish", show_default=True, help="Stop after this stage.")
@click.option("--refresh", is_flag=True, help="Fetch the source again even when a copy is cached.")
@click.option("--mode", type=click.Choice(["read", "summary"]), help="Journal mode: narrate the entry, or a grounded summary.")
@click.option("--minutes", type=float, help="Target episode length for papers (default about 8).")
@click.option("--voice", metavar="ONNX", help="A Piper voice file (.onnx beside its .onnx.json).")
@click.option("--speed", type=float, help="Speaking rate; 1.0 is the voice's own.")
@click.option("--llm-model", metavar="ID|PATH", help="A Hugging Face id or local folder for the transformers engine.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Device for every model.")
@click.option("--max-wer", type=float, help="The quality gate: highest round-trip WER that still publishes (0.05 = 5%).")
@click.option("--base-url", help="Where the output root is hosted; every feed URL starts with it.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the result.")
@_common_config
def build(journal: str | None, paper: str | None, pdf: str | None, enrich: bool, until: str, refresh: bool, mode: str | None,
          minutes: float | None, voice: str | None, speed: float | None, llm_model: str | None, device: str | None,
          max_wer: float | None, base_url: str | None, quiet: bool, out: Path | None, config_path: Path | None) -> None:
    """Build episodes and publish them into the feed."""

    def action() -> int:
        from macaw.pipeline import build as run_build

        overrides: dict[str, Any] = {
            "journal.mode": mode, "tts.voice": voice, "tts.speed": speed, "llm.model": llm_model,
            "quality.max_wer": max_wer, "show.base_url": base_url,
        }
        if minutes is not None:
            overrides["script.minutes"] = minutes
        if device:
            overrides.update({"llm.device": device, "tts.device": device, "asr.device": device})
        config = _load_config(out, config_path, overrides)
        reporter = RichReporter(quiet)
        started = time.perf_counter()
        outcomes = run_build(journal=journal, paper=paper, pdf=pdf, config=config, until=until, enrich=enrich, refresh=refresh, reporter=reporter)
        console = _console(stderr=False)
        failed = [o for o in outcomes if o.error]
        for o in outcomes:
            if o.error:
                continue
            if o.manifest:
                feed = config.feeds_dir / f"{config.show.slug}.xml"
                wer = o.manifest.quality.get("wer")
                console.print(f"published {o.manifest.id}: {o.manifest.duration_s:.0f} s of audio, WER {wer:.1%} -> {feed}" if wer is not None else f"published {o.manifest.id} -> {feed}")
            else:
                console.print(f"built {o.request.episode_id} up to {o.stopped_after}: {o.folder}")
        if not quiet:
            _console().print(f"[dim]done in {time.perf_counter() - started:.1f} s[/dim]")
        if failed:
            for o in failed:
                _console().print(f"[red]failed:[/red] {o.request.label}: {o.error}", soft_wrap=True)
            return failed[0].error.exit_code  # type: ignore[union-attr]
        return 0

    _run(action)


@main.command()
@_common_config
def publish(out: Path | None, config_path: Path | None) -> None:
    """Rebuild the feed and pages from the episode manifests."""

    def action() -> int:
        from macaw.stages.publish import publish_all

        config = _load_config(out, config_path)
        console = _console()
        result = publish_all(config, log=lambda line: console.print(f"[yellow]warning:[/yellow] {line}", soft_wrap=True))
        _console(stderr=False).print(f"published {result.episodes} episode(s) in {result.seconds:.2f} s -> {result.feed}")
        return 0

    _run(action)


@main.command()
@click.argument("episode")
@_common_config
def explain(episode: str, out: Path | None, config_path: Path | None) -> None:
    """Say, per stage, whether a rebuild of EPISODE would rerun it and why."""

    def action() -> int:
        from macaw.pipeline import explain as run_explain

        config = _load_config(out, config_path)
        console = _console(stderr=False)
        for stage, reruns, reasons in run_explain(episode, config=config):
            verdict = "[yellow]reruns[/yellow]" if reruns else "[green]cached[/green]"
            console.print(f"{stage:<8} {verdict}  {'; '.join(reasons)}".rstrip())
        return 0

    _run(action)


@main.command()
@click.option("--dry-run", is_flag=True, help="List what the night would build and why; build and record nothing.")
@click.option("--wait", "wait_s", type=float, default=0.0, metavar="SECONDS", help="Wait this long for another run's lock instead of exiting at once.")
@click.option("--retry", "retry", multiple=True, metavar="ID", help="Bring back an item that was set aside (arXiv id, episode id or state key); repeatable.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary.")
@_common_config
def nightly(dry_run: bool, wait_s: float, retry: tuple[str, ...], quiet: bool, out: Path | None, config_path: Path | None) -> None:
    """Build what [nightly] in macaw.toml asks for; what cron runs. Exit 0: all done or nothing new."""

    def action() -> int:
        from rich.markup import escape

        from macaw.nightly.runner import run_night

        config = _load_config(out, config_path)
        if not (config.nightly.arxiv or config.nightly.journal):
            from macaw.errors import ConfigError

            raise ConfigError(f"no [[nightly.arxiv]] or [[nightly.journal]] source in {config.out / 'macaw.toml'}",
                              hint="add one (see the README's nightly section), or pass --config FILE")
        console = _console(stderr=False)
        err = _console()

        def log(line: str) -> None:
            if not quiet:
                err.print(line, soft_wrap=True, markup=False, highlight=False)

        report = run_night(config, dry_run=dry_run, wait_s=wait_s, retry=retry, reporter=None if quiet else RichReporter(quiet), log=log)
        if dry_run:
            for p in report.planned:
                console.print(f"would build {p.work.episode_id} ({p.work.label}): {p.reason}", markup=False, highlight=False)
        for s in report.skipped:
            console.print(f"skipped {s.label}: {s.why}", markup=False, highlight=False)
        for where, error in report.problems:
            _console().print(f"[red]failed:[/red] {escape(where)}: {escape(error)}", soft_wrap=True)
        for key, label, error in report.failed:
            _console().print(f"[red]failed:[/red] {escape(label)}: {escape(error)}", soft_wrap=True)
        verb = "would build" if dry_run else "published"
        count = len(report.planned) if dry_run else len(report.published)
        console.print(f"night: {verb} {count}, failed {len(report.failed) + len(report.problems)}, "
                      f"skipped {len(report.skipped)} in {report.seconds:.1f} s", markup=False, highlight=False)
        error = None if dry_run else report.error()
        return error.exit_code if error else 0

    _run(action)


@main.command()
@_common_config
def status(out: Path | None, config_path: Path | None) -> None:
    """The nightly state: the last nights, what is due next, and the failures."""

    def action() -> int:
        from macaw.nightly.status import render_status

        config = _load_config(out, config_path)
        _console(stderr=False).print(render_status(config), markup=False, highlight=False, soft_wrap=True)
        return 0

    _run(action)


@main.command()
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Use 0.0.0.0 to let a phone on the same network subscribe.")
@_common_config
def serve(port: int, host: str, out: Path | None, config_path: Path | None) -> None:
    """Serve the output root (feed, pages, audio) with byte ranges, for preview."""

    def action() -> int:
        from macaw.publish.serve import serve as run_serve

        config = _load_config(out, config_path)
        _console().print(f"serving {config.out} at http://{host}:{port}/feeds/{config.show.slug}.xml (Ctrl-C stops)")
        run_serve(config.out, port=port, host=host)
        return 0

    _run(action)


if __name__ == "__main__":
    main()

"""Write: document -> script. What the listener hears, sentence by sentence, each grounded.

A journal entry is scripted by macaw/script/journal.py, a paper by macaw/script/paper.py; both
build the script through macaw/script/writer.py's Writer and its faithfulness gate.
"""

from __future__ import annotations

from pathlib import Path


from macaw.artifacts import Document, Script, Source
from macaw.errors import EmptySourceError
from macaw.script import journal, paper
from macaw.script.writer import Writer, has_words
from macaw.fsutil import atomic_write_text, sha256_file
from macaw.stages.context import Stage, StageContext


def options(config) -> dict:
    lexicon = config.script.lexicon
    path = Path(lexicon).expanduser() if lexicon else None
    if path is not None and not path.is_absolute():
        path = config.out / path
    return {"journal": config.section("journal"), "script": config.section("script"),
            "show": [config.show.title, config.show.author],
            "lexicon": sha256_file(path) if path and path.is_file() else lexicon}


STAGE = Stage(
    reads=("extract", "fetch"),
    artifact=Script,
    files=("script.md",),
    engines=("llm",),
    options=options,
    code=("macaw.script", "macaw.documents.markdown"),  # script.journal and script.written use markdown.py's helpers
    templates=("prompt_*.j2", "script_*.j2"),
)



def run(ctx: StageContext, document: Document, source: Source) -> Script:
    if not has_words(document):
        raise EmptySourceError(f"{source.origin or source.id} has no text to turn into a script",
                               hint="check that the file is not empty and has a text layer")
    if getattr(ctx.llm(), "needs_conversion", False):
        ctx.log("first run: converting the bundled language model once (about a minute; later runs load it in a second or two)")
    if source.kind == "journal":
        writer = Writer(ctx, document, source)
        journal.write(writer, ctx.config.journal.mode)
    else:
        writer = Writer(ctx, document, source)
        paper.write(writer, minutes=float(ctx.config.script.minutes))
    script = writer.script()
    atomic_write_text(ctx.folder / "script.md", script.to_markdown())
    return script

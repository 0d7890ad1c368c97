"""Write: document -> script. What the listener hears, sentence by sentence, each grounded.

A journal entry is scripted by macaw/script/journal.py, a paper by macaw/script/paper.py; both
build the script through macaw/script/writer.py's Writer and its faithfulness gate.
"""

from __future__ import annotations


from macaw.artifacts import Document, Script, Source
from macaw.errors import EmptySourceError
from macaw.script import journal, paper
from macaw.script.writer import Writer, has_words
from macaw.stages.context import StageContext



def run(ctx: StageContext, document: Document, source: Source) -> Script:
    if not has_words(document):
        raise EmptySourceError(f"{source.origin or source.id} has no text to turn into a script",
                               hint="check that the file is not empty and has a text layer")
    if getattr(ctx.llm(), "needs_conversion", False):
        ctx.log("first run: converting the bundled language model once (about 30 s; later runs load it in a second)")
    if source.kind == "journal":
        writer = Writer(ctx, document, source)
        journal.write(writer, ctx.config.journal.mode)
        return writer.script()
    writer = Writer(ctx, document, source)
    paper.write(writer, minutes=float(ctx.config.script.minutes))
    return writer.script()

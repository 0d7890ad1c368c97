"""`macaw nightly`: what cron runs every night.

    lock.py     one run at a time on an output root (fcntl), shared with `macaw build`
    state.py    what was seen, built, published or failed (SQLite, WAL) in the output root
    discover.py what the night could build: arXiv searches and journal sources, newest first
    runner.py   plan -> build each item's fetch..master (one call, executor-friendly) -> publish
    digest.py   one more episode covering the night's papers (when [nightly] digest = true)
"""

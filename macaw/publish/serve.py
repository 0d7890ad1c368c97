"""`macaw serve`: the output root over HTTP, with HEAD and byte ranges so apps can seek.

The standard library's SimpleHTTPRequestHandler answers HEAD but ignores Range; podcast apps
and browsers need 206 Partial Content to seek in an MP3 without downloading all of it.
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import socketserver
from functools import partial
from pathlib import Path
from typing import BinaryIO, Callable

# Types the feed's consumers care about, beyond what the mimetypes module knows everywhere.
EXTRA_TYPES = {
    ".xml": "application/rss+xml; charset=utf-8",
    ".mp3": "audio/mpeg",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeRequestHandler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a player seeking makes many small requests
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **EXTRA_TYPES}
    log_sink: Callable[[str], None] | None = None

    def end_headers(self) -> None:
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        if self.log_sink is not None:
            self.log_sink(format % args)

    def send_head(self) -> BinaryIO | None:  # type: ignore[override]
        header = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not header or os.path.isdir(path):
            return super().send_head()
        match = _RANGE.match(header.strip())
        try:
            f = open(path, "rb")
        except OSError:
            self.send_error(404, "File not found")
            return None
        size = os.fstat(f.fileno()).st_size
        if match is None or match.groups() == ("", ""):
            f.close()
            self.send_error(416, "Only one byte range is served")
            return None
        first, last = match.groups()
        if first == "":  # "bytes=-500": the last 500 bytes
            start, end = max(size - int(last), 0), size - 1
        else:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        if start >= size or start > end:
            f.close()
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Last-Modified", self.date_time_string(int(os.fstat(f.fileno()).st_mtime)))
        self.end_headers()
        f.seek(start)
        self._remaining = end - start + 1
        return f

    def copyfile(self, source: BinaryIO, outputfile: BinaryIO) -> None:  # type: ignore[override]
        remaining = getattr(self, "_remaining", None)
        if remaining is None:
            shutil.copyfileobj(source, outputfile)
            return
        self._remaining = None
        while remaining > 0:
            block = source.read(min(64 * 1024, remaining))
            if not block:
                break
            outputfile.write(block)
            remaining -= len(block)


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_server(root: Path, port: int = 8000, host: str = "127.0.0.1",
                log: Callable[[str], None] | None = None) -> http.server.HTTPServer:
    """A server bound to (host, port); port 0 picks a free one (see server.server_address)."""
    # A subclass per server, so two servers in one process keep their own log sinks.
    cls = type("Handler", (RangeRequestHandler,), {"log_sink": staticmethod(log) if log else None})
    return _Server((host, port), partial(cls, directory=str(Path(root).resolve())))


def serve(root: Path, port: int = 8000, host: str = "127.0.0.1", log: Callable[[str], None] | None = None) -> None:
    """Serve `root` until interrupted. Binding 0.0.0.0 lets a phone on the same network subscribe."""
    server = make_server(root, port, host, log)
    try:
        server.serve_forever()
    finally:
        server.server_close()

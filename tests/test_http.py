"""macaw/sources/http.py against hostile feeds on a local server: entity bombs, external entities,
a 50 MB body, a redirect to a loopback address, a slow server; and conditional GET on a real feed."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from pathlib import Path
from typing import Callable

import pytest

from macaw.config import Config
from macaw.errors import FetchError, RefusedSourceError
from macaw.sources import http as fetcher
from macaw.sources import journal

SHARED_FEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "journals" / "feeds"
RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>One</title>
<description>A small entry about rivers and rain.</description><pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>
<rss version="2.0"><channel><title>t</title><item><title>&lol9;</title><description>&lol9;</description></item></channel></rss>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title><item><title>x</title><description>&xxe;</description></item></channel></rss>"""
FIFTY_MB = 50 * 1024 * 1024


class Server:
    """Routes: path -> handler(request) that writes the whole answer."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[http.server.BaseHTTPRequestHandler], None]] = {}
        self.log: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                server.log.append((self.path, dict(self.headers)))
                route = server.routes.get(self.path)
                try:
                    if route is None:
                        self.send_response(404)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    else:
                        route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class Quiet(http.server.ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.log if p == path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def body(data: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Callable:
    def handle(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
    return handle


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


OPEN = fetcher.HttpPolicy(timeout_s=2.0, deadline_s=10.0, allow_private=True)


def test_billion_laughs_is_refused_before_any_expansion(server: Server) -> None:
    server.routes["/laughs.xml"] = body(LAUGHS)
    response = fetcher.get(server.url("/laughs.xml"), OPEN)
    started = time.perf_counter()
    with pytest.raises(RefusedSourceError) as err:
        fetcher.check_xml(response.body, server.url("/laughs.xml"))
    assert time.perf_counter() - started < 1 and err.value.exit_code == 15 and "entities" in str(err.value)
    # And through the journal source, as `macaw build --journal URL` reads a feed.
    with pytest.raises(RefusedSourceError):
        journal.load_entries(server.url("/laughs.xml"), _config(allow_private=True))


def test_external_entity_is_refused_and_never_resolved(server: Server) -> None:
    server.routes["/xxe.xml"] = body(XXE)
    with pytest.raises(RefusedSourceError):
        journal.load_entries(server.url("/xxe.xml"), _config(allow_private=True))
    # An external DTD is not an entity declaration, but nothing may fetch it either.
    dtd = f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{server.url("/evil.dtd")}">'.encode() + RSS.split(b"?>", 1)[1]
    server.routes["/dtd.xml"] = body(dtd)
    server.routes["/evil.dtd"] = body(b'<!ENTITY secret SYSTEM "file:///etc/passwd">')
    try:
        journal.load_entries(server.url("/dtd.xml"), _config(allow_private=True))
    except RefusedSourceError:
        pass
    assert server.hits("/evil.dtd") == 0


def test_a_50_mb_body_is_refused_declared_or_not(server: Server) -> None:
    server.routes["/declared.xml"] = body(b"x" * FIFTY_MB)

    def chunked(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        block = b"y" * (1 << 20)
        for _ in range(50):
            h.wfile.write(f"{len(block):x}\r\n".encode() + block + b"\r\n")
        h.wfile.write(b"0\r\n\r\n")

    server.routes["/undeclared.xml"] = chunked
    policy = fetcher.HttpPolicy(timeout_s=5.0, deadline_s=20.0, max_bytes=10 * 1024 * 1024, allow_private=True)
    for path in ("/declared.xml", "/undeclared.xml"):
        started = time.perf_counter()
        with pytest.raises(RefusedSourceError) as err:
            fetcher.get(server.url(path), policy)
        assert "10,485,760" in str(err.value), str(err.value)
        assert time.perf_counter() - started < 10


def test_loopback_refused_by_default_and_a_redirect_to_it_is_rechecked(server: Server) -> None:
    server.routes["/feed.xml"] = body(RSS)
    with pytest.raises(RefusedSourceError) as err:
        fetcher.get(server.url("/feed.xml"))
    assert "loopback" in str(err.value) and "allow_private" in str(err.value)
    for url in ("http://10.1.2.3/feed.xml", "http://[::1]/feed.xml", "http://169.254.169.254/latest/meta-data", "file:///etc/passwd",
                "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/"):
        with pytest.raises(RefusedSourceError):
            fetcher.check_url(url, fetcher.HttpPolicy())

    # A host that resolves to a public address (the stand-in resolver says so) redirects to localhost.
    server.routes["/moved.xml"] = body(b"", 302, {"Location": f"http://localhost:{server.port}/feed.xml"})
    public = lambda host, port: ["93.184.216.34"] if host == "127.0.0.1" else fetcher._resolve(host, port)  # noqa: E731
    with pytest.raises(RefusedSourceError) as err:
        fetcher.get(server.url("/moved.xml"), fetcher.HttpPolicy(timeout_s=2.0), resolve=public)
    assert "localhost" in str(err.value)
    assert server.hits("/moved.xml") == 1 and server.hits("/feed.xml") == 0  # never followed


def test_redirect_loops_and_slow_servers_end_in_one_clear_error(server: Server) -> None:
    server.routes["/loop.xml"] = body(b"", 301, {"Location": "/loop.xml"})
    with pytest.raises(RefusedSourceError) as err:
        fetcher.get(server.url("/loop.xml"), OPEN)
    assert "redirected more than 5 times" in str(err.value)

    def slow(h: http.server.BaseHTTPRequestHandler) -> None:
        time.sleep(3)
        body(RSS)(h)

    server.routes["/slow.xml"] = slow
    with pytest.raises(FetchError) as err:
        fetcher.get(server.url("/slow.xml"), fetcher.HttpPolicy(timeout_s=0.5, allow_private=True))
    assert "timed out" in str(err.value) and "\n" not in str(err.value)


def test_conditional_get_on_a_real_feed(server: Server) -> None:
    feed_file = SHARED_FEEDS / "reubenson-recurse-atom-feed.xml"
    if not feed_file.exists():
        pytest.skip("../shared is not beside the checkout")
    data = feed_file.read_bytes()
    etag, modified = '"v1-abc"', "Mon, 30 Nov 2026 10:00:00 GMT"

    def conditional(h: http.server.BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == etag or h.headers.get("If-Modified-Since") == modified:
            h.send_response(304)
            h.send_header("ETag", etag)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        body(data, headers={"ETag": etag, "Last-Modified": modified})(h)

    server.routes["/atom.xml"] = conditional
    first = fetcher.get(server.url("/atom.xml"), OPEN)
    assert first.status == 200 and first.body == data and first.etag == etag and first.last_modified == modified
    fetcher.check_xml(first.body, "real feed")  # a real feed passes the XML check
    entries = journal.parse_feed(first.body, server.url("/atom.xml"))
    assert len(entries) >= 5 and all(e.body.strip() for e in entries)
    again = fetcher.get(server.url("/atom.xml"), OPEN, etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.body == b""
    assert server.log[-1][1].get("If-None-Match") == etag


def _config(**nightly: object) -> Config:
    c = Config()
    for k, v in nightly.items():
        setattr(c.nightly, k, v)
    return c


def test_resolver_failure_is_a_fetch_error() -> None:
    with pytest.raises(FetchError):
        fetcher._resolve("no-such-host.invalid", 80)
    assert socket.gethostname()  # the resolver itself is the system's

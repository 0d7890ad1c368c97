"""`macaw serve`: HEAD and byte ranges on 127.0.0.1, a random port."""

from __future__ import annotations

import http.client
import threading

import pytest

from macaw.publish.serve import make_server


@pytest.fixture
def server(tmp_path):
    (tmp_path / "episodes" / "e").mkdir(parents=True)
    body = bytes(range(256)) * 40  # 10,240 bytes
    (tmp_path / "episodes" / "e" / "episode-abc.mp3").write_bytes(body)
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "macaw.xml").write_text("<rss/>")
    srv = make_server(tmp_path, port=0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv.server_address[1], body
    srv.shutdown()
    srv.server_close()


def request(port, method, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request(method, path, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def test_head_gives_length_and_type_without_a_body(server):
    port, body = server
    resp, data = request(port, "HEAD", "/episodes/e/episode-abc.mp3")
    assert resp.status == 200 and data == b""
    assert resp.getheader("Content-Length") == str(len(body))
    assert resp.getheader("Content-Type") == "audio/mpeg"
    assert resp.getheader("Accept-Ranges") == "bytes"


def test_feed_is_served_as_rss(server):
    port, _ = server
    resp, data = request(port, "GET", "/feeds/macaw.xml")
    assert resp.status == 200 and data == b"<rss/>"
    assert resp.getheader("Content-Type").startswith("application/rss+xml")


@pytest.mark.parametrize("header,start,end", [
    ("bytes=100-199", 100, 199),
    ("bytes=10000-", 10000, 10239),
    ("bytes=-40", 10200, 10239),
    ("bytes=10200-99999", 10200, 10239),
])
def test_ranges_give_206_with_exact_bytes(server, header, start, end):
    port, body = server
    resp, data = request(port, "GET", "/episodes/e/episode-abc.mp3", {"Range": header})
    assert resp.status == 206
    assert resp.getheader("Content-Range") == f"bytes {start}-{end}/{len(body)}"
    assert data == body[start:end + 1]


def test_unsatisfiable_range_is_416(server):
    port, body = server
    resp, _ = request(port, "GET", "/episodes/e/episode-abc.mp3", {"Range": "bytes=20000-"})
    assert resp.status == 416 and resp.getheader("Content-Range") == f"bytes */{len(body)}"


def test_keep_alive_serves_several_ranges_on_one_connection(server):
    port, body = server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    for start in (0, 5000, 9000):
        conn.request("GET", "/episodes/e/episode-abc.mp3", headers={"Range": f"bytes={start}-{start + 9}"})
        resp = conn.getresponse()
        assert resp.status == 206 and resp.read() == body[start:start + 10]
    conn.close()


def test_missing_file_is_404(server):
    port, _ = server
    resp, _ = request(port, "GET", "/episodes/nope.mp3", {"Range": "bytes=0-1"})
    assert resp.status == 404

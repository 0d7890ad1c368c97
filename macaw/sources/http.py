"""Fetching a remote journal feed without trusting it.

A feed URL comes from a config file, but what answers it, and every redirect it sends, is
someone else's. So:

- connect and read timeouts, and an overall deadline, on every request;
- a size cap: a declared Content-Length over it is refused before reading, and a body that grows
  past it is cut off and refused (no 50 MB answer is ever held in memory);
- only http and https; the host is resolved and every address it resolves to is checked: loopback,
  private, link-local, multicast, reserved and unspecified addresses are refused unless the config
  allows them (`nightly.allow_private`), and so is every redirect, each checked again (at most 5);
- conditional GET: the ETag and Last-Modified of the last answer go out as If-None-Match and
  If-Modified-Since, so an unchanged feed costs one small request and a 304;
- XML is checked with defusedxml before any feed parser sees it: a document that declares
  entities (billion laughs, quadratic blowup), or refers to an external entity or DTD, is refused.

What remains: the address is checked when resolved, then httpx resolves the name again to
connect, so a DNS answer that changes in between (rebinding) is not caught here.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urljoin, urlparse

from macaw.errors import FetchError, RefusedSourceError, SourceNotFoundError

USER_AGENT = "macaw (offline podcast maker; nightly journal feed)"


@dataclass(frozen=True)
class HttpPolicy:
    timeout_s: float = 30.0  # connect, and each read
    deadline_s: float = 120.0  # one fetch, redirects included
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    allow_private: bool = False


@dataclass
class Response:
    url: str  # after redirects
    status: int  # 200, or 304 when the validators matched
    body: bytes  # empty on 304
    etag: str = ""
    last_modified: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


Resolver = Callable[[str, int], list[str]]


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve host {host!r} ({exc.strerror})", hint="check the feed URL and the network") from None
    return sorted({info[4][0] for info in infos})


def check_url(url: str, policy: HttpPolicy, resolve: Resolver = _resolve) -> None:
    """Refuse what this fetcher must never talk to; raise RefusedSourceError with the reason."""
    parts = urlparse(url)
    if parts.scheme not in ("http", "https"):
        raise RefusedSourceError(f"refused {url!r}: only http and https feeds are fetched", hint="use an http(s) feed URL")
    host = parts.hostname or ""
    if not host:
        raise RefusedSourceError(f"refused {url!r}: no host in the URL", hint="check the feed URL")
    if parts.username or parts.password:
        raise RefusedSourceError(f"refused {url!r}: credentials in a feed URL", hint="remove user:password@ from it")
    if policy.allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise RefusedSourceError(f"refused {url!r}: bad port", hint="check the feed URL") from None
    for address in resolve(host, port):
        ip = ipaddress.ip_address(address.split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if not ip.is_global or ip.is_multicast:
            raise RefusedSourceError(
                f"refused {url}: {host} is a {_kind(ip)} address ({ip})",
                hint="set [nightly] allow_private = true to fetch feeds on this machine or network",
            )


def _kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    for attr in ("loopback", "private", "link_local", "multicast", "unspecified", "reserved"):
        if getattr(ip, f"is_{attr}"):
            return attr.replace("_", "-")
    return "non-public"


def get(url: str, policy: HttpPolicy = HttpPolicy(), *, etag: str = "", last_modified: str = "",
        resolve: Resolver = _resolve) -> Response:
    """GET `url` under `policy`; a 304 comes back as Response(status=304, body=b"")."""
    import httpx

    started = time.monotonic()
    headers = {"User-Agent": USER_AGENT, "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = url
    with httpx.Client(follow_redirects=False, trust_env=False, headers=headers) as client:
        for _ in range(policy.max_redirects + 1):
            check_url(current, policy, resolve)
            remaining = policy.deadline_s - (time.monotonic() - started)
            if remaining <= 0:
                raise FetchError(f"journal feed {url}: no answer within {policy.deadline_s:g} s", hint="the server is slow; try later")
            timeout = httpx.Timeout(min(policy.timeout_s, remaining))
            try:
                with client.stream("GET", current, timeout=timeout) as response:
                    if response.status_code in (301, 302, 303, 307, 308):
                        location = response.headers.get("Location", "")
                        if not location:
                            raise FetchError(f"journal feed {current} redirected without a Location", hint="check the URL")
                        current = urljoin(current, location)
                        continue
                    if response.status_code == 304:
                        return Response(current, 304, b"", etag, last_modified)
                    if response.status_code == 404 or response.status_code == 410:
                        raise SourceNotFoundError(f"journal feed {current} answered HTTP {response.status_code}", hint="check the URL")
                    if response.status_code != 200:
                        raise FetchError(f"journal feed {current} answered HTTP {response.status_code}", hint="check the URL, or try later")
                    body = _read_capped(response, current, policy, started)
                    return Response(current, 200, body, response.headers.get("ETag", ""), response.headers.get("Last-Modified", ""))
            except httpx.TimeoutException:
                raise FetchError(f"journal feed {current} timed out after {policy.timeout_s:g} s", hint="the server is slow; try later") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"could not fetch journal feed {current}: {exc.__class__.__name__}", hint="check the URL and the network") from None
    raise RefusedSourceError(f"journal feed {url} redirected more than {policy.max_redirects} times", hint="point the config at the final URL")


def _read_capped(response, url: str, policy: HttpPolicy, started: float) -> bytes:  # type: ignore[no-untyped-def]
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > policy.max_bytes:
        raise RefusedSourceError(f"journal feed {url} is {int(declared):,} bytes; the limit is {policy.max_bytes:,}",
                                 hint="raise [nightly] feed_max_bytes if this feed is really that big")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes(1 << 16):  # decoded bytes: a gzip bomb is counted as it inflates
        size += len(chunk)
        if size > policy.max_bytes:
            raise RefusedSourceError(f"journal feed {url} is larger than {policy.max_bytes:,} bytes",
                                     hint="raise [nightly] feed_max_bytes if this feed is really that big")
        if time.monotonic() - started > policy.deadline_s:
            raise FetchError(f"journal feed {url}: not finished within {policy.deadline_s:g} s", hint="the server is slow; try later")
        chunks.append(chunk)
    return b"".join(chunks)


def check_xml(body: bytes, url: str) -> None:
    """Refuse XML that declares entities or reaches for external ones, before any parser expands them."""
    from xml.etree.ElementTree import ParseError

    import defusedxml
    from defusedxml import ElementTree as SafeET

    try:
        SafeET.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except defusedxml.EntitiesForbidden:
        raise RefusedSourceError(f"refused journal feed {url}: it declares XML entities (an entity-expansion attack, or a feed to avoid)",
                                 hint="feeds never need <!ENTITY>; ask the site or drop the feed") from None
    except (defusedxml.ExternalReferenceForbidden, defusedxml.DTDForbidden):
        raise RefusedSourceError(f"refused journal feed {url}: it refers to an external entity or DTD",
                                 hint="feeds never need external entities; ask the site or drop the feed") from None
    except ParseError:
        pass  # not well-formed XML: the feed parser's lenient mode may still read it, with no DTD to expand


def policy_for(config: object) -> HttpPolicy:
    nightly = getattr(config, "nightly", None)
    if nightly is None:
        return HttpPolicy()
    return HttpPolicy(timeout_s=nightly.feed_timeout, max_bytes=nightly.feed_max_bytes, allow_private=nightly.allow_private)

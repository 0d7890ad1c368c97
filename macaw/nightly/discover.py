"""What a night could build: arXiv searches and journal sources, as Work items.

A Work item is plain data (picklable), so an executor can send it to another process or
machine: `runner.build_item(config, work)` turns it back into a pipeline Request there.

arXiv searches go through macaw.sources.arxiv's polite client (its 3-second spacing holds
across processes), sorted by last update, newest first, so a new version of a paper comes up
like a new paper. Pages are read only while they bring something the night still wants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from macaw.config import Config, NightlyArxiv, NightlyJournal
from macaw.errors import FetchError, MacawError

MAX_PAGES = 5


@dataclass
class Work:
    key: str  # arxiv:<id> | journal:<origin>
    kind: str  # arxiv | journal
    episode_id: str
    label: str  # what a person reads: "2401.01234v2 Title", or the entry's path
    origin: str  # which [[nightly.*]] source found it
    fingerprint: str  # arXiv version, or the entry text's sha256
    value: str = ""  # arxiv: the versioned id to fetch
    entry: Any = None  # journal: the macaw.sources.journal.Entry
    reason: str = ""  # why the night builds it (filled by the plan)
    extra: dict[str, Any] = field(default_factory=dict)


def search_arxiv(query: NightlyArxiv, config: Config, wanted: Callable[[str, str], bool], *, policy: Any = None,
                 gate: Any = None) -> list[Work]:
    """Up to query.max_per_night papers for which wanted(base_id, version) is true, newest first."""
    import arxiv as arxiv_pkg
    import requests

    from macaw.sources import arxiv

    policy = policy or arxiv.DEFAULT_POLICY
    gate = gate or arxiv.default_gate(policy)
    page_size = min(100, max(10, 2 * query.max_per_night))
    api_url = config.arxiv.api_url

    def attempt(remaining: float) -> list[Work]:
        client = arxiv._client(api_url, gate, policy, remaining)
        client.page_size = page_size
        search = arxiv_pkg.Search(query=query.query, max_results=page_size * MAX_PAGES,
                                  sort_by=arxiv_pkg.SortCriterion.LastUpdatedDate, sort_order=arxiv_pkg.SortOrder.Descending)
        found: list[Work] = []
        fresh_in_page = 0
        try:
            for index, result in enumerate(client.results(search)):
                if index % page_size == 0:
                    fresh_in_page = 0
                error = "/api/errors" in result.entry_id  # the pre-2025 API's way of saying "no such query"
                short = "" if error else result.get_short_id()
                m = re.search(r"v(\d+)$", short)
                version = f"v{m.group(1)}" if m else "v1"
                base = re.sub(r"v\d+$", "", short)
                if error or not wanted(base, version):
                    if (index + 1) % page_size == 0 and not fresh_in_page:
                        break  # a whole page of papers already handled: older ones were too; stop before the next page
                    continue
                fresh_in_page += 1
                title = " ".join(result.title.split())
                found.append(Work(key=f"arxiv:{base}", kind="arxiv", episode_id=arxiv.identify(base), label=f"{base}{version} {title}",
                                  origin=f"arxiv: {query.query}", fingerprint=version, value=f"{base}{version}"))
                if len(found) >= query.max_per_night:
                    break
        except arxiv_pkg.HTTPError as exc:
            if exc.status == 429 or exc.status >= 500:
                raise arxiv._Retry(f"HTTP {exc.status} from {api_url}") from None
            raise FetchError(f"arXiv search {query.query!r}: HTTP {exc.status} from {api_url}", hint="check the query and arxiv.api_url") from None
        except arxiv_pkg.UnexpectedEmptyPageError:
            pass  # arXiv ran out of results between pages: keep what came
        except requests.exceptions.Timeout:
            raise arxiv._Retry(f"timed out talking to {api_url}") from None
        except requests.exceptions.RequestException as exc:
            raise arxiv._Retry(f"network error talking to {api_url} ({type(exc).__name__})") from None
        return found

    return arxiv._with_retries(f"arXiv search {query.query!r}", policy, attempt)


def arxiv_work(base: str, version: str, label: str, origin: str) -> Work:
    """A Work item for a paper the state already knows (a retry that fell out of the search window)."""
    from macaw.sources import arxiv

    return Work(key=f"arxiv:{base}", kind="arxiv", episode_id=arxiv.identify(base), label=label or f"{base}{version}",
                origin=origin, fingerprint=version, value=f"{base}{version}")


def journal_entries(source: NightlyJournal, config: Config, state: Any = None, *, remember: bool = True) -> list[Work]:
    """Every entry of a [[nightly.journal]] source; a remote feed is fetched with conditional GET."""
    from macaw.sources import journal

    if source.url:
        entries = _remote_entries(source.url, config, state, remember)
        origin = f"journal: {source.url}"
    else:
        path = Path(source.path).expanduser()
        if not path.is_absolute():
            path = config.out / path
        entries = journal.load_entries(str(path), config)
        origin = f"journal: {source.path}"
    return [Work(key=f"journal:{e.origin}", kind="journal", episode_id=e.episode_id, label=e.origin, origin=origin,
                 fingerprint=e.digest, entry=e) for e in entries]


def _remote_entries(url: str, config: Config, state: Any, remember: bool) -> list[Any]:
    from macaw.sources import http, journal

    etag, modified, body = state.http_validators(url) if state is not None else ("", "", None)
    if body is None:
        etag = modified = ""
    response = http.get(url, http.policy_for(config), etag=etag, last_modified=modified)
    if response.not_modified:
        content = body or b""
    else:
        content = response.body
        http.check_xml(content, url)
        if state is not None and remember:
            from macaw.nightly.state import now

            state.http_store(url, response.etag, response.last_modified, content, now())
    return journal.parse_feed(content, url)


def discover(config: Config, state: Any, wanted: Callable[[str, str], bool], *, remember: bool = True,
             log: Callable[[str], None] = lambda m: None) -> tuple[list[Work], list[tuple[str, MacawError]]]:
    """Every source in [nightly], deduplicated by key; and the sources that could not be read."""
    works: dict[str, Work] = {}
    problems: list[tuple[str, MacawError]] = []
    also: dict[str, list[str]] = {}  # a paper an earlier query already found: this query's name is noted on it

    def fresh(query: NightlyArxiv) -> Callable[[str, str], bool]:
        def check(base: str, version: str) -> bool:
            if f"arxiv:{base}" in works:
                also.setdefault(f"arxiv:{base}", []).append(f"arxiv: {query.query}")
                return False
            return wanted(base, version)
        return check

    for query in config.nightly.arxiv:
        try:
            found = search_arxiv(query, config, fresh(query))
        except MacawError as exc:
            problems.append((f"arxiv: {query.query}", exc))
            continue
        for work in found:
            works.setdefault(work.key, work)
        log(f"arxiv {query.query!r}: {len(found)} paper(s) to consider")
    for source in config.nightly.journal:
        try:
            found = journal_entries(source, config, state, remember=remember)
        except MacawError as exc:
            problems.append((f"journal: {source.url or source.path}", exc))
            continue
        for work in found:
            works.setdefault(work.key, work)
    for key, origins in also.items():
        works[key].extra["also_found_by"] = origins
    return list(works.values()), problems

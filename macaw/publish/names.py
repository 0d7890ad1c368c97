"""Names and times every publish module agrees on, in a module light enough for a publish that
finds nothing to render (it never imports feedgen, lxml, jinja2 or nh3)."""

from __future__ import annotations

from datetime import datetime, timezone


def parse_time(value: str) -> datetime:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def episode_page_path(episode_id: str) -> str:
    """Relative to the output root."""
    return f"feeds/episodes/{episode_id}.html"

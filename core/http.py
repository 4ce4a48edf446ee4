"""Small HTTP helpers shared by the request's hooks (web, sessions, compression)."""

from __future__ import annotations


def add_vary(response, name: str) -> None:
    """Add `name` to the answer's Vary header, once. On the header's text, as Flask-Compress
    does: werkzeug's `response.vary` parses the header into a set and writes it back on each
    change, and three hooks each add one name to every answer."""
    headers = response.headers
    vary = headers.get("Vary")
    if not vary:
        headers["Vary"] = name
    elif name.lower() not in {v.strip().lower() for v in vary.split(",")}:
        headers["Vary"] = f"{vary}, {name}"

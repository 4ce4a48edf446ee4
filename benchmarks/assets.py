"""What a browser downloads for a first visit of a page: the HTML, then every stylesheet
and script it references, each measured raw and gzip-compressed (level 6, what a typical
server or proxy sends)."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from html.parser import HTMLParser


@dataclass
class Asset:
    url: str
    kind: str  # html | css | js | other
    raw: int
    gzip: int
    note: str = ""
    counted: bool = True


def gz(data: bytes, level: int = 6) -> int:
    return len(gzip.compress(data, compresslevel=level, mtime=0))


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.css: list[tuple[str, str]] = []  # (href, media)
        self.js: list[str] = []
        self.other: list[tuple[str, str]] = []  # (href, rel): manifest, icons

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("href"):
            rels = set((a.get("rel") or "").lower().split())
            if "stylesheet" in rels:
                self.css.append((a["href"], a.get("media") or ""))
            elif rels & {"icon", "apple-touch-icon", "manifest"}:
                self.other.append((a["href"], " ".join(sorted(rels))))
        elif tag == "script" and a.get("src"):
            self.js.append(a["src"])


def first_visit(html: bytes, fetch) -> list[Asset]:
    """`fetch(url) -> bytes`. CSS and JS are counted (print CSS too: browsers fetch it even
    on screen); manifest and icons are listed but not counted."""
    refs = _Refs()
    refs.feed(html.decode("utf-8", "replace"))
    assets = [Asset("(page HTML)", "html", len(html), gz(html))]
    for href, media in refs.css:
        body = fetch(href)
        assets.append(Asset(href, "css", len(body), gz(body), note=f"media={media}" if media else ""))
    for src in refs.js:
        body = fetch(src)
        assets.append(Asset(src, "js", len(body), gz(body)))
    for href, rel in refs.other:
        body = fetch(href)
        assets.append(Asset(href, "other", len(body), gz(body), note=rel, counted=False))
    return assets

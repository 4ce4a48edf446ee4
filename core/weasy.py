"""WeasyPrint's side of core.pdf, run only in the fork server's children (the workers never
import WeasyPrint): the page written to PDF, and the one URL fetcher it gets, which serves the
app's own static files under core.pdf.BASE_URL and refuses everything else; and, for the pages that
ask for it, Carnet's own user-agent stylesheet (core/print_ua.css) in place of WeasyPrint's."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from core.pdf import (
    ALLOWED_TYPES,
    BASE_URL,
    FILES_PREFIX,
    MAX_FETCHES,
    MAX_FILE_BYTES,
    MAX_PAGES,
    MAX_PDF_BYTES,
    STATIC_PREFIX,
    TooManyPages,
)

#: Parsed once, in the fork server: its children share it.
CARNET_UA = CSS(filename=str(Path(__file__).with_name("print_ua.css")))


class CarnetUaHTML(HTML):
    """A page laid out with core/print_ua.css as its user-agent stylesheet: the rules of
    WeasyPrint's own that the page's elements can use, without the hundreds it would try on every
    element. `_ua_stylesheets` is the hook WeasyPrint's HTML gives subclasses (through 70.x);
    tests/core/test_print_ua.py proves the synthesis prints the same pixels either way."""

    def _ua_stylesheets(self, forms=False):
        return [CARNET_UA]


class FetchRefused(ValueError):
    pass


class StaticFetcher(URLFetcher):
    """Serves files under the static folder for BASE_URL/static/..., and the files handed over
    with the page for BASE_URL/page/<name>; refuses everything else."""

    def __init__(self, static_folder: str, files: dict[str, str] | None = None):
        super().__init__(allow_redirects=False)
        self.root = Path(static_folder).resolve()
        self.files = files or {}
        self.count = 0

    def fetch(self, url, headers=None):
        name = page_file(self.files, url)
        path = resolve(self.root, url) if name is None else None
        self.count += 1
        if self.count > MAX_FETCHES:
            raise FetchRefused("too many resources")
        size = path.stat().st_size if path else len(self.files[name].encode())
        if size > MAX_FILE_BYTES:
            raise FetchRefused(f"file too large: {url}")
        mime = mimetypes.guess_type(path.name if path else name)[0] or "application/octet-stream"
        if mime not in ALLOWED_TYPES:
            raise FetchRefused(f"type not allowed: {url}")
        data = path.read_bytes() if path else self.files[name].encode()
        return URLFetcherResponse(url, data, {"Content-Type": mime})


def page_file(files: dict[str, str], url: str) -> str | None:
    """The name of the handed-over file a URL names (BASE_URL/page/<name>, nothing more), None
    for any other URL; FetchRefused for a page file that was not handed over."""
    parts = urlsplit(url or "")
    base = urlsplit(BASE_URL)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(FILES_PREFIX):
        return None
    name = parts.path[len(FILES_PREFIX) :]
    if parts.query or parts.fragment or parts.username or name not in files:
        raise FetchRefused(f"not a file of this page: {url[:80]}")
    return name


def resolve(root: Path, url: str) -> Path:
    """The static file a URL names, or FetchRefused: only BASE_URL/static/<existing file>."""
    parts = urlsplit(url or "")
    base = urlsplit(BASE_URL)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or parts.query or parts.username:
        raise FetchRefused(f"refused: {url[:80]}")
    if not parts.path.startswith(STATIC_PREFIX):
        raise FetchRefused(f"outside the static folder: {url[:80]}")
    relative = unquote(parts.path[len(STATIC_PREFIX) :])
    path = (root / relative).resolve()
    if root not in path.parents or not path.is_file():
        raise FetchRefused(f"not a static file: {url[:80]}")
    return path


def fetcher(static_folder: str, files: dict[str, str] | None = None) -> StaticFetcher:
    """The URL fetcher WeasyPrint gets (exposed for tests)."""
    return StaticFetcher(static_folder, files)


def write_pdf(
    html: str,
    static_folder: str,
    max_pages: int = MAX_PAGES,
    carnet_ua: bool = False,
    files: dict[str, str] | None = None,
) -> bytes | None:
    """The PDF, or None when it is larger than MAX_PDF_BYTES; TooManyPages when the layout runs
    past `max_pages` (checked before anything is written). `carnet_ua`: the page uses only the
    elements core/print_ua.css styles; `files`: those handed over with the page (core.pdf)."""
    page = (CarnetUaHTML if carnet_ua else HTML)(
        string=html, base_url=BASE_URL, url_fetcher=fetcher(static_folder, files)
    )
    document = page.render()
    if len(document.pages) > max_pages:
        raise TooManyPages(len(document.pages))
    data = document.write_pdf()
    return data if len(data) <= MAX_PDF_BYTES else None

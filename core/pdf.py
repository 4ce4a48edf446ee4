"""PDF rendering with WeasyPrint, bounded and cut off from the network and the disk.

Templates are rendered by the app's Jinja environment (autoescape on: user text is inert).
WeasyPrint then runs in a child process of a fork server (single-threaded, WeasyPrint already
imported) with limits on CPU time and memory, and a deadline after which it is killed: a
hostile or broken page costs a bounded amount and never blocks the worker. As with any use of
multiprocessing, a script that renders PDFs must keep its work under `if __name__ == "__main__"`
(gunicorn, `flask` and pytest do).

The only thing WeasyPrint may load is one of the app's own static files, through
StaticFetcher: pages are rendered with a base URL under a reserved name (`.invalid` never
resolves), and anything else — file://, http(s)://, data:, another host, a path leaving the
static folder — is refused. Nothing is fetched over a network, so no redirect is ever followed.
"""
from __future__ import annotations

import mimetypes
import multiprocessing
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template

BASE_URL = "https://static.carnet.invalid/"
STATIC_PREFIX = "/static/"
MAX_HTML_BYTES = 512 * 1024
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_FETCHES = 32
MAX_PDF_BYTES = 10 * 1024 * 1024
TIMEOUT_SECONDS = 20
MEMORY_MB = 1536
ALLOWED_TYPES = {"text/css", "image/svg+xml", "image/png", "image/jpeg", "font/woff2", "font/woff", "font/ttf"}


class PdfError(RuntimeError):
    """The PDF could not be made within its bounds."""


class FetchRefused(ValueError):
    pass


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFetcher(URLFetcher):
        """Serves files under the static folder for BASE_URL/static/...; refuses everything else."""

        def __init__(self, static_folder: str):
            super().__init__(allow_redirects=False)
            self.root = Path(static_folder).resolve()
            self.count = 0

        def fetch(self, url, headers=None):
            path = resolve(self.root, url)
            self.count += 1
            if self.count > MAX_FETCHES:
                raise FetchRefused("too many resources")
            if path.stat().st_size > MAX_FILE_BYTES:
                raise FetchRefused(f"file too large: {url}")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if mime not in ALLOWED_TYPES:
                raise FetchRefused(f"type not allowed: {url}")
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})

    return StaticFetcher


def resolve(root: Path, url: str) -> Path:
    """The static file a URL names, or FetchRefused: only BASE_URL/static/<existing file>."""
    parts = urlsplit(url or "")
    base = urlsplit(BASE_URL)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or parts.query or parts.username:
        raise FetchRefused(f"refused: {url[:80]}")
    if not parts.path.startswith(STATIC_PREFIX):
        raise FetchRefused(f"outside the static folder: {url[:80]}")
    relative = unquote(parts.path[len(STATIC_PREFIX):])
    path = (root / relative).resolve()
    if root not in path.parents or not path.is_file():
        raise FetchRefused(f"not a static file: {url[:80]}")
    return path


def fetcher(static_folder: str):
    """The URL fetcher WeasyPrint gets (exposed for tests)."""
    return _fetcher_class()(static_folder)


def _child(html: str, static_folder: str, memory_mb: int, cpu_seconds: int, conn) -> None:
    import resource

    try:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        from weasyprint import HTML

        data = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher(static_folder)).write_pdf()
        conn.send(("ok", data if len(data) <= MAX_PDF_BYTES else None))
    except BaseException as exc:  # reported to the parent, which raises PdfError
        conn.send(("error", f"{type(exc).__name__}: {exc}"[:500]))
    finally:
        conn.close()


_CONTEXT = None
#: What the fork server imports once for all its children. Other bounded renderers (the pages of
#: stored PDFs: blueprints.documents.pages) add their module when imported, before any child starts.
FORKSERVER_PRELOAD = ["weasyprint", "core.pdf"]


def forkserver():
    """The multiprocessing context of the one fork server every bounded renderer shares."""
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(list(dict.fromkeys(FORKSERVER_PRELOAD)))
    return _CONTEXT


_context = forkserver


def html_to_pdf(html: str, static_folder: str, timeout: float = TIMEOUT_SECONDS,
                memory_mb: int = MEMORY_MB) -> bytes:
    """Render `html` to PDF bytes in a bounded child process."""
    if len(html.encode()) > MAX_HTML_BYTES:
        raise PdfError("page too large")
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(html, static_folder, memory_mb, int(timeout), send), daemon=True)
    proc.start()
    send.close()
    try:
        if not receive.poll(timeout):
            raise PdfError("rendering took too long")
        status, payload = receive.recv()
    except EOFError:
        raise PdfError("renderer stopped") from None
    finally:
        receive.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)
    if status != "ok" or payload is None:
        raise PdfError(payload or "PDF too large")
    return payload


def render(template: str, **context) -> bytes:
    """A print template (autoescaped, like every .html template of the app) as PDF bytes."""
    assert current_app.jinja_env.autoescape is True or callable(current_app.jinja_env.autoescape)
    html = render_template(template, pdf_static=lambda name: f"{BASE_URL}static/{name}", **context)
    return html_to_pdf(html, current_app.static_folder or os.path.join(current_app.root_path, "static"))

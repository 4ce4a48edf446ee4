"""PDF rendering with WeasyPrint, bounded and cut off from the network and the disk.

Templates are rendered by the app's Jinja environment (autoescape on: user text is inert).
WeasyPrint then runs in a child process of a fork server (single-threaded, WeasyPrint already
imported) with limits on CPU time and memory, and a deadline after which it is killed: a
hostile or broken page costs a bounded amount and never blocks the worker. As with any use of
multiprocessing, a script that renders PDFs must keep its work under `if __name__ == "__main__"`
(gunicorn, `flask` and pytest do), and its top light: each child imports the main module again
before its work (a script by its path, a `python -m` module by its name; a package's `__main__`,
as `python -m gunicorn` runs, is skipped). The benchmarks' runner once cost each child 0.26 s so.

The only things WeasyPrint may load are the app's own static files and the files the caller
handed over with the page (`files`: the charts it drew), through core.weasy.StaticFetcher:
pages are rendered with a base URL under a reserved name (`.invalid` never resolves), and
anything else — file://, http(s)://, data:, another host, a path leaving the static folder, a
page file not handed over — is refused. Nothing is fetched over a network, so no redirect is
ever followed.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
from contextlib import contextmanager
from importlib import import_module
from multiprocessing import forkserver as forkserver_module

from flask import current_app, render_template

from core import priority

BASE_URL = "https://static.carnet.invalid/"
STATIC_PREFIX = "/static/"
FILES_PREFIX = "/page/"  # files handed over with the page, by name (html_to_pdf's `files`)
MAX_HTML_BYTES = 512 * 1024
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_FETCHES = 32
MAX_PDF_BYTES = 10 * 1024 * 1024
MAX_PAGES = 40
TIMEOUT_SECONDS = 20
MEMORY_MB = 1536
ALLOWED_TYPES = {"text/css", "image/svg+xml", "image/png", "image/jpeg", "font/woff2", "font/woff", "font/ttf"}


class PdfError(RuntimeError):
    """The PDF could not be made within its bounds."""


class TooManyPages(PdfError):
    """The page laid out to more pages than allowed (raised in the child, raised again here)."""

    def __init__(self, pages: int = 0):
        super().__init__(f"{pages} pages")
        self.pages = pages

    def __reduce__(self):  # sent back through the pipe with its count
        return (TooManyPages, (self.pages,))


_CONTEXT = None
#: What the fork server imports once for all its children (WeasyPrint through core.weasy: the
#: workers never import it). Other bounded renderers (the pages of stored PDFs:
#: core.files.pages) add their module when imported, before any child starts.
FORKSERVER_PRELOAD = ["core.pdf", "core.weasy"]


#: glibc's malloc asks for transparent huge pages (where the kernel gives them on request, its
#: "madvise" setting): a child draws a page into fresh memory, and a 2 MiB page costs one fault
#: where 4 KiB pages cost 512 (docs/performance.md, 64). Given when forkserver() first starts
#: the fork server; one multiprocessing starts again after it died draws the same, in small pages.
HUGE_PAGES = "glibc.malloc.hugetlb=1"


def forkserver():
    """The multiprocessing context of the one fork server every bounded renderer shares."""
    global _CONTEXT
    if _CONTEXT is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(dict.fromkeys(FORKSERVER_PRELOAD)))
        with _tunables(HUGE_PAGES):  # read by glibc when the fork server starts, inherited by its children
            forkserver_module.ensure_running()
        _CONTEXT = context
    return _CONTEXT


@contextmanager
def _tunables(tunable: str):
    """GLIBC_TUNABLES with `tunable` added, for the processes started in the block only."""
    before = os.environ.get("GLIBC_TUNABLES")
    name = tunable.partition("=")[0]
    if before is not None and name in before:  # the operator's choice stands
        yield
        return
    os.environ["GLIBC_TUNABLES"] = f"{before}:{tunable}" if before else tunable
    try:
        yield
    finally:
        if before is None:
            del os.environ["GLIBC_TUNABLES"]
        else:
            os.environ["GLIBC_TUNABLES"] = before


_context = forkserver


def _bounded_child(conn, work, args: tuple, with_data: bool, memory_mb: int, cpu_seconds: int, passed: tuple) -> None:
    try:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        priority.lower_this_thread()  # the child's only thread: PDFium's and WeasyPrint's work
        if isinstance(work, str):  # "module:function" of a module only the fork server imports
            module, _sep, name = work.partition(":")
            work = getattr(import_module(module), name)
        if with_data:
            args = (conn.recv_bytes(), *args)
        conn.send(("ok", work(*args)))
    except passed as exc:  # an answer the caller expects (e.g. "no such page"), raised again there
        conn.send(("raise", exc))
    except BaseException as exc:  # reported to the parent, which raises `error`
        conn.send(("error", f"{type(exc).__name__}: {exc}"[:500]))
    finally:
        conn.close()


def run_bounded(
    work,
    args: tuple = (),
    data: bytes | None = None,
    *,
    error: type[Exception],
    timeout: float,
    memory_mb: int,
    name: str | None = None,
    passed: tuple[type[BaseException], ...] = (),
):
    """`work(data, *args)` (or `work(*args)`) in a child of the fork server, under limits on memory
    and CPU time and killed past `timeout`: what it returns, or `error` raised here when it failed,
    ran out of its bounds or died. `data` goes through the pipe as raw bytes (no pickling copy);
    exceptions of the `passed` types raised by `work` are raised again as they are. `work` is a
    module-level function of a module the fork server preloads (FORKSERVER_PRELOAD), or its name
    as "module:function" when the workers should not import that module."""
    ctx = _context()
    parent, child = ctx.Pipe(duplex=True)
    proc = ctx.Process(
        target=_bounded_child,
        daemon=True,
        name=name,
        args=(child, work, args, data is not None, memory_mb, int(timeout), passed),
    )
    proc.start()
    child.close()
    try:
        if data is not None:
            parent.send_bytes(data)
        if not parent.poll(timeout):
            raise error("took too long")
        status, payload = parent.recv()
    except (EOFError, BrokenPipeError, ConnectionResetError):
        raise error("the child stopped") from None
    finally:
        parent.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)
    if status == "raise":
        raise payload
    if status != "ok":
        raise error(payload)
    return payload


def html_to_pdf(
    html: str,
    static_folder: str,
    timeout: float = TIMEOUT_SECONDS,
    memory_mb: int = MEMORY_MB,
    max_pages: int = MAX_PAGES,
    carnet_ua: bool = False,
    files: dict[str, str] | None = None,
) -> bytes:
    """Render `html` to PDF bytes in a bounded child process; TooManyPages past `max_pages`.
    `carnet_ua`: laid out with core/print_ua.css instead of WeasyPrint's user-agent stylesheet
    (faster; only for pages made of the elements it styles, see core.weasy.CarnetUaHTML).
    `files`: name -> text of files the page names with `file_url(name)` (SVG charts: WeasyPrint
    reads a standalone SVG far faster than the same markup inline in the HTML)."""
    if len(html.encode()) + sum(len(text.encode()) for text in (files or {}).values()) > MAX_HTML_BYTES:
        raise PdfError("page too large")
    data = run_bounded(
        "core.weasy:write_pdf",
        (html, static_folder, max_pages, carnet_ua, files),
        error=PdfError,
        timeout=timeout,
        memory_mb=memory_mb,
        passed=(TooManyPages,),
    )
    if data is None:
        raise PdfError("PDF too large")
    return data


def page(template: str, **context) -> str:
    """A print template's HTML (autoescaped, like every .html template of the app), its static
    files named under BASE_URL: what html_to_pdf takes."""
    assert current_app.jinja_env.autoescape is True or callable(current_app.jinja_env.autoescape)
    return render_template(template, pdf_static=lambda name: f"{BASE_URL}static/{name}", pdf_file=file_url, **context)


def file_url(name: str) -> str:
    """Where a page names one of the files handed over with it (html_to_pdf's `files`)."""
    return f"{BASE_URL}{FILES_PREFIX[1:]}{name}"


def static_folder() -> str:
    return current_app.static_folder or os.path.join(current_app.root_path, "static")


def render(template: str, *, max_pages: int = MAX_PAGES, **context) -> bytes:
    """A print template as PDF bytes."""
    return html_to_pdf(page(template, **context), static_folder(), max_pages=max_pages)

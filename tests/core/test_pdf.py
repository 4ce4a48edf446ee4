"""core.pdf: WeasyPrint may load the app's own static files and nothing else; rendering is
bounded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pypdfium2
import pytest

from core import pdf, priority, weasy

STATIC = str(Path(__file__).resolve().parents[2] / "static")


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.org/x.css",
        "https://example.org/static/css/app.css",
        "http://static.carnet.invalid/static/css/app.css",
        "https://static.carnet.invalid/static/../app.py",
        "https://static.carnet.invalid/static/%2e%2e/app.py",
        "https://static.carnet.invalid/app.py",
        "https://static.carnet.invalid/static/css/app.css?x=1",
        "data:text/css,body{}",
        "ftp://example.org/x",
    ],
)
def test_fetcher_refuses_anything_but_static_files(url):
    with pytest.raises(weasy.FetchRefused):
        weasy.fetcher(STATIC).fetch(url)


def test_fetcher_serves_a_static_file():
    response = weasy.fetcher(STATIC).fetch(pdf.BASE_URL + "static/icons/favicon.svg")
    assert response.content_type == "image/svg+xml" and b"<svg" in response.read()


def test_fetcher_serves_the_files_handed_over_with_the_page_only():
    files = {"chart-weight.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>', "x.html": "<p>x</p>"}
    response = weasy.fetcher(STATIC, files).fetch(pdf.file_url("chart-weight.svg"))
    assert response.content_type == "image/svg+xml" and response.read() == files["chart-weight.svg"].encode()
    for url in (
        pdf.file_url("chart-height.svg"),  # not handed over
        pdf.file_url("x.html"),  # handed over, not a type WeasyPrint may load
        pdf.file_url("chart-weight.svg") + "?x=1",
        "http://static.carnet.invalid/page/chart-weight.svg",
        pdf.BASE_URL + "static/page/chart-weight.svg",
    ):
        with pytest.raises(weasy.FetchRefused):
            weasy.fetcher(STATIC, files).fetch(url)
    with pytest.raises(weasy.FetchRefused):
        weasy.fetcher(STATIC).fetch(pdf.file_url("chart-weight.svg"))


def test_a_page_draws_the_svg_files_handed_over_with_it():
    """The charts of "Ma synthèse" reach WeasyPrint as files, drawn as the inline SVG was."""
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#b3261e"/></svg>'
    html = f'<img src="{pdf.file_url("c.svg")}" style="width: 50mm; height: 50mm">'
    inline = pypdfium2.PdfDocument(
        pdf.html_to_pdf(svg.replace("<svg", '<svg style="width: 50mm; height: 50mm"'), STATIC)
    )
    fetched = pypdfium2.PdfDocument(pdf.html_to_pdf(html, STATIC, files={"c.svg": svg}))
    missing = pypdfium2.PdfDocument(pdf.html_to_pdf(html, STATIC))
    pixels = [d[0].render(scale=1).to_pil() for d in (inline, fetched, missing)]
    assert pixels[1].getpixel((130, 130)) == (0xB3, 0x26, 0x1E)  # inside the page margin
    assert pixels[0].tobytes() == pixels[1].tobytes() != pixels[2].tobytes()
    with pytest.raises(pdf.PdfError):
        pdf.html_to_pdf(html, STATIC, files={"c.svg": "x" * pdf.MAX_HTML_BYTES})


def test_rendering_ignores_what_it_may_not_fetch(tmp_path):
    secret = tmp_path / "secret.css"
    secret.write_text("body { background: red }")
    html = f'<link rel="stylesheet" href="file://{secret}"><img src="http://127.0.0.1:9/x.png"><p>Bonjour</p>'
    data = pdf.html_to_pdf(html, STATIC)
    assert data.startswith(b"%PDF")


def test_bounds():
    with pytest.raises(pdf.PdfError):
        pdf.html_to_pdf("<p>x</p>" * (pdf.MAX_HTML_BYTES // 8 + 1), STATIC)
    with pytest.raises(pdf.PdfError):
        pdf.html_to_pdf("<p>x</p>", STATIC, memory_mb=40)  # the child cannot even start WeasyPrint


def test_the_workers_never_import_weasyprint(tmp_path):
    """WeasyPrint (1.4 s and ~40 MB to import) lives in the fork server's children only."""
    code = (
        "import sys; from app import create_app; "
        f"create_app({{'TESTING': True, 'DATABASE_URL': 'sqlite:///{tmp_path}/db.sqlite'}}, '{tmp_path}'); "
        "print('weasyprint' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_pages_are_bounded():
    html = '<p class="x">page</p>' * 5 + "<style>.x { break-after: page }</style>"
    with pytest.raises(pdf.TooManyPages) as raised:
        pdf.html_to_pdf(html, STATIC, max_pages=3)
    assert raised.value.pages == 5
    assert pdf.html_to_pdf(html, STATIC, max_pages=5).startswith(b"%PDF")


def test_the_print_stylesheets_are_served():
    for name in ("css/print-synthesis.css", "css/print-card.css"):
        response = weasy.fetcher(STATIC).fetch(pdf.BASE_URL + "static/" + name)
        assert response.content_type == "text/css" and b"@page" in response.read()


def test_the_fork_servers_children_ask_for_huge_pages():
    """docs/performance.md, 64: the fork server starts with glibc's huge-page tunable, so each
    child's fresh memory (a page drawn at 1,000 and 2,000 px) costs a fault per 2 MiB, not per
    4 KiB; the worker's own environment is left as it was."""
    tunables = pdf.run_bounded("os:getenv", ("GLIBC_TUNABLES",), error=pdf.PdfError, timeout=20, memory_mb=512)
    assert pdf.HUGE_PAGES in (tunables or "").split(":")
    assert pdf.HUGE_PAGES not in os.environ.get("GLIBC_TUNABLES", "")


def test_the_fork_servers_children_are_nicer_than_the_worker():
    """docs/performance.md, 90: a PDF drawn or laid out yields the cores to the requests."""
    niceness = pdf.run_bounded("os:nice", (0,), error=pdf.PdfError, timeout=20, memory_mb=512)
    assert niceness == min(19, os.nice(0) + priority.SLOW_WORK)


def test_the_fork_server_holds_the_drawing_modules_not_the_app():
    """docs/performance.md, 94: the fork server imports PDFium, Pillow, WeasyPrint and the drawing
    modules (core.files), never a blueprint's package, whose `__init__` brings every route of the app."""
    names = pdf.run_bounded(
        "builtins:eval", ("sorted(__import__('sys').modules)",), error=pdf.PdfError, timeout=20, memory_mb=512
    )
    packages = {name.partition(".")[0] for name in names}
    assert {"core.files.pages", "core.weasy", "pypdfium2", "PIL.Image", "weasyprint"} <= set(names)
    assert not {"app", "blueprints", "sqlalchemy", "flask_login", "flask_wtf", "webauthn"} & packages


def test_an_operators_malloc_tunables_are_kept(monkeypatch):
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
    with pdf._tunables(pdf.HUGE_PAGES):
        assert os.environ["GLIBC_TUNABLES"] == f"glibc.malloc.arena_max=2:{pdf.HUGE_PAGES}"
    assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2"
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=0")  # the operator's choice stands
    with pdf._tunables(pdf.HUGE_PAGES):
        assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.hugetlb=0"
    monkeypatch.delenv("GLIBC_TUNABLES")
    with pdf._tunables(pdf.HUGE_PAGES):
        assert os.environ["GLIBC_TUNABLES"] == pdf.HUGE_PAGES
    assert "GLIBC_TUNABLES" not in os.environ


LAUNCHER = """
import os
from core import pdf

with open(os.environ["LAUNCHES"], "a") as fh:  # once per process that runs this file
    fh.write(f"{os.getpid()}\\n")

if __name__ == "__main__":

    print(pdf.run_bounded("os:getpid", error=pdf.PdfError, timeout=60, memory_mb=512))
"""


@pytest.mark.parametrize("as_module", [True, False])
def test_a_child_runs_the_launchers_script_again_unless_it_was_started_as_a_module(tmp_path, as_module):
    """docs/performance.md, 86: multiprocessing runs the parent's main script again in each child
    of the fork server (started by the script `gunicorn`: 11 ms of gunicorn's imports for every
    page drawn); a package's `__main__` started with `-m` (`python -m gunicorn`) it leaves alone."""
    package = tmp_path / "launcher"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(LAUNCHER)
    root = Path(__file__).resolve().parents[2]
    launches = tmp_path / "launches"
    done = subprocess.run(
        [sys.executable, "-m", "launcher"] if as_module else [sys.executable, str(package / "__main__.py")],
        cwd=root,
        env={**os.environ, "LAUNCHES": str(launches), "PYTHONPATH": f"{tmp_path}{os.pathsep}{root}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    child = done.stdout.strip().splitlines()[-1]
    parent, *children = launches.read_text().split()
    assert child != parent
    assert children == ([] if as_module else [child])


def test_make_run_starts_gunicorn_as_a_module():
    """So the PDF children of `make run`'s workers do not import gunicorn again (above)."""
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    started = [line for line in makefile.splitlines() if "gunicorn --workers" in line]
    assert started and all("$(BIN)/python -m gunicorn " in line for line in started)

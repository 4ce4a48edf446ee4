"""The morning peak charges each PDF drawing's CPU to the request that asked for it, and reads
/proc only around drawings (benchmarks.server.Drawn): a request that draws nothing pays no
measuring the bare route does not pay."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.server import Children, Drawn
from core import pdf
from core.files import pages
from tests.documents.pdf_samples import multipage_pdf

STATIC = str(Path(__file__).resolve().parents[2] / "static")


class _Clock:
    def __init__(self) -> None:
        self.reads, self.now = 0, 0.0

    def seconds(self) -> float:
        self.reads += 1
        return self.now


def test_children_are_read_around_each_bounded_run_only():
    clock = _Clock()
    drawn = Drawn(clock)

    def run(cpu: float):
        clock.now += cpu
        if cpu < 0:
            raise RuntimeError("the child died")
        return "ok"

    counted = drawn.around(run)
    assert clock.reads == 0  # nothing drawn: nothing read
    assert counted(0.25) == "ok"
    assert clock.reads == 2 and drawn.seconds == pytest.approx(0.25)
    with pytest.raises(RuntimeError):
        counted(-0.05)  # a run that failed still used what it used
    assert clock.reads == 4 and drawn.seconds == pytest.approx(0.20)


def test_a_childs_cpu_is_counted_through_the_fork_server():
    drawn = Drawn(Children())
    run = drawn.around(pdf.run_bounded)
    key = run(
        "hashlib:pbkdf2_hmac", ("sha256", b"mot", b"sel", 1_500_000), error=pdf.PdfError, timeout=60, memory_mb=512
    )
    assert len(key) == 32
    assert drawn.seconds >= 0.15  # the child's own work (about 0.35 s), in ticks of 10 ms


def test_every_bounded_run_goes_through_the_attribute_the_benchmark_wraps(monkeypatch):
    """benchmarks.wsgi wraps `core.pdf.run_bounded` where it is looked up: a caller that imported
    the function by name would draw without its CPU being counted."""
    seen = []
    real = pdf.run_bounded

    def watched(work, *args, **kwargs):
        seen.append(getattr(work, "__name__", work))
        return real(work, *args, **kwargs)

    monkeypatch.setattr(pdf, "run_bounded", watched)
    assert pages.render(multipage_pdf(1), 1)[0] == "image/png"
    assert pdf.html_to_pdf("<p>Compte rendu</p>", STATIC).startswith(b"%PDF")
    assert seen == ["_work", "core.weasy:write_pdf"]

"""benchmarks.run imports only what parsing its arguments needs; each section imports its own
module when it runs. While a section runs in process, every child process that draws a PDF
imports the runner again (multiprocessing prepares the child's `__main__` from its module name):
with the morning peak's imports, that cost each child a quarter of a second, and the synthesis
benchmark's PDFs as much."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: What a section brings in, and a child that draws a PDF never needs.
HEAVY = {"benchmarks.peak", "benchmarks.synthesis", "benchmarks.export", "app", "sqlalchemy", "webauthn", "weasyprint"}


def test_the_runner_imports_no_section_before_it_runs():
    done = subprocess.run(
        [sys.executable, "-c", "import sys, benchmarks.run; print(' '.join(sorted(sys.modules)))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(done.stdout.split())
    assert "benchmarks.run" in loaded
    assert not loaded & HEAVY

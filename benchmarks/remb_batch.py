"""The operator's batch import (`flask reimbursements import FILE --batch`), measured for the
reimbursements section (benchmarks/reimbursements.py): a statement of BATCH_LINES lines across
BATCH_HOLDERS holders, their lines interleaved (each holder's next line comes after one line of
every other holder: the worst case for grouping), then a quarter of it, each in a fresh
process whose peak RSS is its own. The split is an external sort (imports/batch.py): the peak
must not grow with the file.

    .venv/bin/python -m benchmarks.remb_batch          # the two runs alone, a few minutes
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks import instance
from benchmarks.memory import proc_kb
from benchmarks.server import ROOT

BATCH_LINES = int(os.environ.get("BENCH_REMB_BATCH_LINES", 100_000))
BATCH_HOLDERS = int(os.environ.get("BENCH_REMB_BATCH_HOLDERS", 1_000))


def _nir(n: int) -> str:
    from core.identifiers import nir_key

    prefix = f"1850375{n:06d}"
    return prefix + f"{nir_key(prefix):02d}"


def write_batch(path: Path, lines: int, holders: int) -> int:
    """`lines` statement lines (the one-holder benchmark's generator), round-robin over holders."""
    from benchmarks.reimbursements import _statement

    single = path.with_suffix(".one.csv")
    written = _statement(single, lines)
    with single.open(encoding="utf-8") as src, path.open("w", encoding="utf-8", newline="") as out:
        out.write("nir;" + next(src))
        for n, line in enumerate(src):
            out.write(f"{_nir(n % holders)};{line}")
    single.unlink()
    return written


def child(csv_path: str, folder: str, holders: int) -> None:
    """In a fresh process: an instance with the holders, then the command on the file."""
    from blueprints.reimbursements.models import Reimbursement
    from core.db import db
    from core.people import Account, Patient

    app = instance.child_app(folder)
    with app.app_context():
        for n in range(holders):
            p = Patient(
                nir=_nir(n),
                birth_date=date(1985, 3, 1),
                given_names="Camille",
                family_name=f"Martin {n}",
                sex="M",
                email=f"h{n}@example.fr",
                status="active",
            )
            db.session.add(p)
            db.session.flush()
            db.session.add(Account(role="holder", email=p.email, patient_id=p.id))
        db.session.commit()
    before_mb = proc_kb("self", "VmRSS") / 1024
    t0 = time.perf_counter()
    out = app.test_cli_runner().invoke(args=["reimbursements", "import", csv_path, "--batch"])
    elapsed = time.perf_counter() - t0
    if out.exit_code != 0:
        raise SystemExit(out.output[-3000:])
    with app.app_context():
        stored = db.session.query(Reimbursement).count()
    result = {
        "seconds": elapsed,
        "stored": stored,
        "before_mb": before_mb,
        "peak_mb": proc_kb("self", "VmHWM") / 1024,
        "summary": out.output.strip().splitlines()[-1],
    }
    print(json.dumps(result))


def measure(lines: int, holders: int, keep: bool = False) -> dict:
    """Write the file, run the command in a subprocess, return its figures."""
    folder = Path(tempfile.mkdtemp(prefix="carnet-bench-remb-batch-"))
    try:
        csv_path = folder / "batch.csv"
        written = write_batch(csv_path, lines, holders)
        instance_dir = folder / "instance"
        instance_dir.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_") and k != "DATABASE_URL"}
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.remb_batch", str(csv_path), str(instance_dir), str(holders)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-3000:] or out.stdout[-3000:])
        res = json.loads(out.stdout.strip().splitlines()[-1])
        res.update(lines=written, holders=holders, size_mb=csv_path.stat().st_size / (1024 * 1024))
        return res
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 4:
        child(sys.argv[1], sys.argv[2], int(sys.argv[3]))
    else:
        for n in (BATCH_LINES, BATCH_LINES // 4):
            print(json.dumps(measure(n, BATCH_HOLDERS)))

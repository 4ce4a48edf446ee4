"""Bulk provisioning: a 1,000,000-line population file turned into pending spaces, with their
activation letters, on SQLite and on PostgreSQL, in one run.

    .venv/bin/python -m benchmarks.run provisioning
    BENCH_PROVISION_LINES=100000 .venv/bin/python -m benchmarks.run provisioning   # quicker look
    BENCH_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/carnet_bench  # PostgreSQL used
    BENCH_PROVISION_DATABASES=sqlite .venv/bin/python -m benchmarks.run provisioning  # one of them
    BENCH_PROVISION_MAIL=spool ...   # mails into the SMTP spool (production) instead of the outbox

1. Generates (seed 42) a CSV shaped like an insurer's file: adults with an email, a few with a
   postal address only, minors with their guardians (listed after them), and about 1 % of lines
   the command must refuse (bad NIR, no contact, duplicate). Postal letters are kept to about
   one in a thousand: they are printed a hundred to a PDF (blueprints.lifecycle.postal), the
   last ones at the end of the run.
2. For each database, a fresh process with an empty schema runs `flask patients provision`'s
   own code (blueprints.lifecycle.provision.Provisioner, batches of 500) over the file as a
   stream: every space row, account, activation code (keyed hash) and mail in the outbox is
   really written. Its RSS is sampled while it runs: the peak over the first tenth of the file
   against the peak over the whole file shows whether memory stays flat. At each tenth of the
   file the child writes a line on stderr (lines, seconds, lines/s, RSS): a run stopped before
   its end still gives its rate and memory curve.
3. The same file again: everything is already present (idempotence, and its cost).
Targets: >= 2,000 lines/s, peak RSS <= 250 MB, whole-file peak / first-tenth peak <= 1.2.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks import instance, population
from benchmarks.memory import proc_kb
from benchmarks.report import Row, SectionResult

TITLE = "Provisioning: 1,000,000-line population file into SQLite and PostgreSQL"
LINES = int(os.environ.get("BENCH_PROVISION_LINES", 1_000_000))
ROOT = Path(__file__).resolve().parent.parent
MAIL = os.environ.get("BENCH_PROVISION_MAIL", "outbox")  # outbox (development's default) | spool
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/carnet_bench")
GIVEN = ["Camille", "Léa", "Louis", "Jade", "Gabriel", "Emma", "Raphaël", "Inès", "Arthur", "Chloé"]
FAMILY = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"]


def _nir(sex: int, year: int, month: int, serial: int) -> str:
    body = f"{sex}{year % 100:02d}{month:02d}{(serial // 1_000_000) % 90 + 1:02d}{serial % 1_000_000:06d}"[:13]
    return body + f"{97 - int(body) % 97:02d}"


def generate(path: Path, n: int = LINES, seed: int = 42) -> dict:
    """Write the population file; returns what it holds."""
    rnd = random.Random(seed)
    counts = {"adults": 0, "minors": 0, "postal": 0, "refused": 0}
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("nir;birth_date;given_names;family_name;email;postal_address;guardian_nirs\n")
        serial, written, last_adult = 0, 0, None
        while written < n:
            serial += 1
            roll = rnd.random()
            if roll < 0.01:  # refused: a bad key, or no contact at all
                nir = _nir(1, 1980, 5, serial)
                nir = nir[:13] + ("00" if nir[13:] != "00" else "01")
                out.write(f"{nir};1980-05-01;Paul;Refus;paul{serial}@example.fr;;\n")
                counts["refused"] += 1
            elif roll < 0.2 and last_adult is not None:  # a child of the adult just before
                year = rnd.randint(2009, 2025)
                month = rnd.randint(1, 12)
                nir = _nir(rnd.choice((1, 2)), year, month, serial)
                out.write(
                    f"{nir};{year}-{month:02d}-{rnd.randint(1, 28):02d};{rnd.choice(GIVEN)};{last_adult[1]};"
                    f"{last_adult[2]};;{last_adult[0]}\n"
                )
                counts["minors"] += 1
            else:
                year, month = rnd.randint(1930, 2006), rnd.randint(1, 12)
                nir = _nir(rnd.choice((1, 2)), year, month, serial)
                family = rnd.choice(FAMILY)
                if rnd.random() < 0.001:
                    out.write(
                        f"{nir};{year}-{month:02d}-{rnd.randint(1, 28):02d};{rnd.choice(GIVEN)};{family};;"
                        f"{serial} rue des Lilas\\n75011 Paris;\n"
                    )
                    counts["postal"] += 1
                    last_adult = None
                else:
                    email = f"p{serial}@example.fr"
                    out.write(
                        f"{nir};{year}-{month:02d}-{rnd.randint(1, 28):02d};{rnd.choice(GIVEN)};{family};{email};;\n"
                    )
                    last_adult = (nir, family, email)
                counts["adults"] += 1
            written += 1
    return counts


class _Sampler:
    """VmRSS of this process every 100 ms, with how many lines were read by then; at each tenth
    of the file a line on stderr (lines, seconds, RSS), so a run stopped early still tells its
    rate and memory curve."""

    def __init__(self, progress, total: int = 0, label: str = ""):
        self.progress, self.samples, self._stop = progress, [], threading.Event()
        self.total, self.label, self.start, self.tenth = total, label, time.perf_counter(), 1
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self):
        while not self._stop.wait(0.1):
            lines, kb = self.progress(), proc_kb("self", "VmRSS")
            self.samples.append((lines, kb))
            if self.total and lines >= self.total * self.tenth / 10:
                seconds = time.perf_counter() - self.start
                print(
                    f"[{self.label}] {lines:,} lines ({self.tenth * 10} %) in {seconds:.0f} s, "
                    f"{lines / seconds:,.0f} lines/s, RSS {kb / 1024:.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )
                self.tenth = int(lines * 10 / self.total) + 1

    def stop(self):
        self._stop.set()
        self.thread.join()
        return self.samples


def child(csv_path: str, folder: str, url: str) -> None:
    """In a fresh process: an empty schema, then the file twice; JSON on stdout."""
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from blueprints.lifecycle.provision import Provisioner
    from core.db import db

    config = {"DATABASE_URL": url, "SECRET_KEY": "b" * 40, "CODE_PEPPER": "p" * 40, **instance.IN_PROCESS}
    if MAIL == "spool":  # production's path: the SMTP spool only (nothing is delivered during the run)
        config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_SECURITY="none", MAIL_OUTBOX=False)
    app = create_app(config, instance_path=folder)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
        db.create_all()
        runs = []
        with open(csv_path, encoding="utf-8") as fh:
            total = sum(1 for _line in fh) - 1
        for attempt in ("first run", "same file again"):
            prov = Provisioner(open(os.devnull, "w"), batch_size=500)
            sampler = _Sampler(lambda p=prov: p.report.lines, total, f"{db.engine.dialect.name}, {attempt}")
            t, cpu = time.perf_counter(), time.process_time()
            with open(csv_path, newline="", encoding="utf-8") as stream:
                report = prov.run(stream)
            seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
            samples = sampler.stop()
            tenth = [kb for lines, kb in samples if lines <= report.lines / 10] or [samples[0][1]]
            runs.append(
                {
                    "seconds": seconds,
                    "cpu_seconds": cpu,
                    "lines": report.lines,
                    "created": report.created,
                    "present": report.present,
                    "refused": report.refused_total,
                    "by_mail": report.letters_by_mail,
                    "pdfs": len(report.letter_files),
                    "rss_first_tenth_mb": max(tenth) / 1024,
                    "rss_at_mb": {f"{pct} %": _rss_at(samples, report.lines * pct / 100) for pct in (10, 50, 100)},
                    "by_post": report.letters_by_post,
                    "rss_peak_mb": max(kb for _l, kb in samples) / 1024 if samples else 0,
                }
            )
        db.engine.dispose()
    print(json.dumps({"runs": runs, "peak_rss_mb": proc_kb("self", "VmHWM") / 1024}))


def _rss_at(samples: list[tuple[int, int]], lines: float) -> float:
    """RSS (MB) of the first sample taken once `lines` lines were read."""
    return next((kb for n, kb in samples if n >= lines), samples[-1][1] if samples else 0) / 1024


def _measure(csv_path: Path, folder: Path, url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_") and k != "DATABASE_URL"}
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.provisioning", str(csv_path), str(folder), url],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if os.environ.get("BENCH_QUIET") else None,  # progress lines pass through
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError((out.stderr or "the child failed: see its output above")[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(opts) -> SectionResult:
    folder = Path(tempfile.mkdtemp(prefix="carnet-bench-provision-"))
    try:
        csv_path = folder / "population.csv"
        t = time.perf_counter()
        counts = generate(csv_path)
        gen_s = time.perf_counter() - t
        rows, lines, data = [], [], {"lines": LINES, "file": counts}
        wanted = os.environ.get("BENCH_PROVISION_DATABASES", "sqlite postgresql").split()
        for name, url in (("SQLite", f"sqlite:///{folder}/bench.db"), ("PostgreSQL", PG_URL)):
            if name.lower() not in wanted:
                continue
            instance_dir = folder / f"instance-{name.lower()}"
            instance_dir.mkdir()
            if name == "PostgreSQL":
                population.create_database(url)  # its schema is made afresh by the child
            res = _measure(csv_path, instance_dir, url)
            first, again = res["runs"]
            rate = first["lines"] / first["seconds"]
            flat = first["rss_peak_mb"] / first["rss_first_tenth_mb"]
            per_cpu = first["lines"] / first["cpu_seconds"]
            rows += [
                Row(
                    f"{name}: lines/s (spaces, codes, letters written)", rate, "/s", "{:,.0f}", ">= 2,000", rate >= 2000
                ),
                Row(
                    f"{name}: lines per CPU second of the process",
                    per_cpu,
                    "/s",
                    "{:,.0f}",
                    detail="what the machine's other work does not change (the database server's CPU not counted)",
                ),
                Row(f"{name}: peak RSS", res["peak_rss_mb"], "MB", "{:.0f}", "<= 250", res["peak_rss_mb"] <= 250),
                Row(f"{name}: RSS whole file / first tenth", flat, "x", "{:.2f}", "<= 1.2", flat <= 1.2),
                Row(
                    f"{name}: same file again, lines/s",
                    again["lines"] / again["seconds"],
                    "/s",
                    "{:,.0f}",
                    detail=f"{again['created']} created, {again['present']:,} already present",
                ),
            ]
            lines.append(
                f"{name}: {first['lines']:,} lines in {first['seconds']:.0f} s: {first['created']:,} created, "
                f"{first['refused']:,} refused, {first['by_mail']:,} mails, {first['by_post']:,} postal letters in "
                f"{first['pdfs']} PDF files; RSS at 10/50/100 %: "
                + " / ".join(f"{mb:.0f}" for mb in first["rss_at_mb"].values())
                + " MB"
            )
            data[name.lower()] = res
            shutil.rmtree(instance_dir / "outbox", ignore_errors=True)  # a million small files
            shutil.rmtree(instance_dir / "mail", ignore_errors=True)
        lines.append(
            f"file: {LINES:,} lines ({counts['adults']:,} adults of whom {counts['postal']:,} by post, "
            f"{counts['minors']:,} minors, {counts['refused']:,} to refuse), generated in {gen_s:.0f} s; "
            f"mails into the {MAIL}"
        )
        return SectionResult("provisioning", TITLE, rows, lines, data)
    finally:
        if not getattr(opts, "keep", False):
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    child(sys.argv[1], sys.argv[2], sys.argv[3])

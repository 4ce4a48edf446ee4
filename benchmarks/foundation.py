"""Foundation: how fast the logged-in dashboard is against the ceiling of a bare Flask route,
both under gunicorn with 2 sync workers on this machine, and what a phone downloads for a
first visit of the dashboard; and what Chromium really downloads for a first visit of the
login page with an empty cache (bytes on the wire, compression included)."""

from __future__ import annotations

import os
import shutil
import statistics

from benchmarks import assets as assets_mod, instance, wire
from benchmarks.report import Row, SectionResult
from benchmarks.server import Gunicorn

TITLE = "Foundation: dashboard throughput and first-visit weight"
RATIO_TARGET = 0.15  # no response cache: the page is built on every visit
FIRST_VISIT_TARGET_KB = 60.0
WIRE_TARGET_KB = 50.0
WORKERS = 2


def _measure(gen, server: Gunicorn, url: str, headers: dict, seconds: float) -> dict:
    cpu0 = server.cpu_seconds()
    r = gen.run(url, seconds, headers)
    cpu1 = server.cpu_seconds()
    cpu_ms = (cpu1 - cpu0) * 1000 / r.requests if cpu0 is not None and cpu1 is not None and r.requests else None
    return {
        "rps": round(r.rps, 1),
        "requests": r.requests,
        "not_200": r.bad,
        "p50_ms": None if r.p50_ms is None else round(r.p50_ms, 2),
        "server_cpu_ms_per_request": None if cpu_ms is None else round(cpu_ms, 3),
    }


def _median(runs: list[dict], key: str):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def run(opts) -> SectionResult:
    from blueprints.demo.seed import HOLDER_EMAIL, PASSWORD

    load_before = os.getloadavg()[0]
    path, holder_name = instance.prepare()
    gen = opts.generator
    notes: list[str] = []
    try:
        env = instance.server_env(path)
        log = path / "gunicorn.log"
        with (
            Gunicorn("benchmarks.wsgi:app", WORKERS, env, log, ready_path="/connexion") as carnet,
            Gunicorn("benchmarks.bare:app", WORKERS, env, log) as bare,
        ):
            browser = instance.login(carnet.base, path, HOLDER_EMAIL, PASSWORD)
            # the holder's phone: its session, and pages asked for compressed (the bare route's 2 bytes never are)
            phone = {"Cookie": f"{instance.COOKIE}={browser.cookies[instance.COOKIE]}", **instance.PHONE_FETCH}

            def check_dashboard() -> bytes:
                status, _, body = browser.request("GET", "/")
                if status != 200 or holder_name.encode() not in body or b'id="login-form"' in body:
                    raise RuntimeError(
                        f"dashboard check failed: {status}, holder name present: {holder_name.encode() in body}"
                    )
                return body

            page = check_dashboard()
            dash_url, bare_url = carnet.base + "/", bare.base + "/"
            # The floor of any logged-in request here: session record, account, headers, JSON.
            floor_url = carnet.base + "/session/etat"
            gen.run(dash_url, opts.warmup, phone)
            gen.run(bare_url, opts.warmup, {})
            dash_runs, bare_runs, floor_runs = [], [], []
            for _ in range(opts.runs):  # interleaved, so drift on the machine hits both alike
                dash_runs.append(_measure(gen, carnet, dash_url, phone, opts.seconds))
                bare_runs.append(_measure(gen, bare, bare_url, {}, opts.seconds))
                floor_runs.append(_measure(gen, carnet, floor_url, phone, opts.seconds / 2))
            check_dashboard()  # still logged in after the load: the figures are the real page

            def fetch(url: str) -> bytes:
                status, _, body = browser.request("GET", url)
                if status != 200:
                    raise RuntimeError(f"GET {url} answered {status}")
                return body

            files = assets_mod.first_visit(page, fetch)
            missing = wire.available()
            transfers = [] if missing else wire.first_visit(carnet.base, "/connexion")
            if missing:
                notes.append(f"first visit on the wire not measured: {missing}")
            load_after = os.getloadavg()[0]
    finally:
        if not opts.keep:
            shutil.rmtree(path, ignore_errors=True)
        else:
            notes.append(f"instance kept in {path}")

    dash = _median(dash_runs, "rps")
    ceiling = _median(bare_runs, "rps")
    # each dashboard run is paired with the bare run right after it: the median of the
    # pairs' ratios shrugs off load that other processes put on the machine meanwhile
    ratio = statistics.median(d["rps"] / b["rps"] for d, b in zip(dash_runs, bare_runs) if b["rps"])
    dash_cpu = _median(dash_runs, "server_cpu_ms_per_request")
    bare_cpu = _median(bare_runs, "server_cpu_ms_per_request")
    counted = [f for f in files if f.counted]
    total_raw = sum(f.raw for f in counted)
    total_gz = sum(f.gzip for f in counted)
    failures = sum(r["not_200"] for r in dash_runs + bare_runs + floor_runs)
    floor = _median(floor_runs, "rps")
    floor_ratio = statistics.median(f["rps"] / b["rps"] for f, b in zip(floor_runs, bare_runs) if b["rps"])

    rows = [
        Row(
            "dashboard (GET /, logged in)",
            dash,
            "req/s",
            "{:.0f}",
            detail="runs " + ", ".join(f"{r['rps']:.0f}" for r in dash_runs),
        ),
        Row(
            "bare Flask constant route",
            ceiling,
            "req/s",
            "{:.0f}",
            detail="runs " + ", ".join(f"{r['rps']:.0f}" for r in bare_runs),
        ),
        Row(
            "ratio",
            ratio,
            "",
            "{:.2f}",
            target=f">= {RATIO_TARGET}",
            ok=ratio >= RATIO_TARGET,
            detail="median of paired runs "
            + ", ".join(f"{d['rps'] / b['rps']:.2f}" for d, b in zip(dash_runs, bare_runs) if b["rps"]),
        ),
        Row(
            "logged-in floor (GET /session/etat)",
            floor,
            "req/s",
            "{:.0f}",
            detail=f"ratio to bare {floor_ratio:.2f}: session record + account + headers, no page",
        ),
        Row(
            "first visit (gzip)",
            total_gz / 1024,
            "KB",
            "{:.1f}",
            target=f"<= {FIRST_VISIT_TARGET_KB:.0f} KB",
            ok=total_gz / 1024 <= FIRST_VISIT_TARGET_KB,
            detail=f"raw {total_raw / 1024:.1f} KB",
        ),
    ]
    wire_total = sum(t.wire for t in transfers)
    if transfers:
        rows.append(
            Row(
                "first visit on the wire (Chromium)",
                wire_total / 1024,
                "KB",
                "{:.1f}",
                target=f"<= {WIRE_TARGET_KB:.0f} KB",
                ok=wire_total / 1024 <= WIRE_TARGET_KB,
                detail=f"login page, phone, empty cache: {len(transfers)} responses, headers included",
            )
        )
    if dash_cpu is not None and bare_cpu is not None:
        rows.insert(
            3,
            Row(
                "server CPU per request",
                dash_cpu,
                "ms",
                "{:.2f}",
                detail=f"bare route {bare_cpu:.2f} ms; CPU-only ratio {bare_cpu / dash_cpu:.2f}",
            ),
        )
    if failures:
        rows.append(Row("answers other than 200 under load", failures, "", "{:.0f}", ok=False))
    lines = [
        f"load: {gen.describe}, {opts.runs} runs x {opts.seconds:.0f} s each after {opts.warmup:.0f} s "
        f"warm-up, medians; gunicorn --workers {WORKERS} (sync), SQLite in a temporary instance",
        f"machine: {os.cpu_count()} cores, load average {load_before:.1f} before, {load_after:.1f} after"
        + (
            "  (busy: other processes shared the cores, compare the ratio, not req/s)"
            if max(load_before, load_after) > 1.0
            else ""
        ),
        "",
        "first visit of the dashboard (HTML + every CSS and JS it references, print CSS included):",
    ]
    for f in files:
        mark = "" if f.counted else "  (not counted)"
        note = f"  [{f.note}]" if f.note else ""
        lines.append(f"  {f.kind:5} {f.url:42} {f.raw / 1024:7.1f} KB raw {f.gzip / 1024:6.1f} KB gzip{note}{mark}")
    if transfers:
        lines += [
            "",
            "first visit of the login page in Chromium, empty cache (CDP encodedDataLength: headers + body as sent):",
        ]
        for t in transfers:
            lines.append(f"  {t.kind:11} {t.url:42} {t.wire / 1024:6.1f} KB  {t.encoding or 'not compressed'}")
    lines += notes
    data = {
        "generator": gen.describe,
        "seconds": opts.seconds,
        "runs": opts.runs,
        "warmup_seconds": opts.warmup,
        "workers": WORKERS,
        "cpu_count": os.cpu_count(),
        "load_average": {"before": round(load_before, 2), "after": round(load_after, 2)},
        "dashboard": {"median_rps": dash, "median_server_cpu_ms_per_request": dash_cpu, "runs": dash_runs},
        "logged_in_floor": {"median_rps": floor, "ratio_to_bare": floor_ratio, "runs": floor_runs},
        "bare_flask": {"median_rps": ceiling, "median_server_cpu_ms_per_request": bare_cpu, "runs": bare_runs},
        "ratio": round(ratio, 3),
        "ratio_target": RATIO_TARGET,
        "ratio_ok": ratio >= RATIO_TARGET,
        "first_visit": {
            "gzip_level": 6,
            "total_raw_bytes": total_raw,
            "total_gzip_bytes": total_gz,
            "target_kb": FIRST_VISIT_TARGET_KB,
            "ok": total_gz / 1024 <= FIRST_VISIT_TARGET_KB,
            "files": [
                {
                    "url": f.url,
                    "kind": f.kind,
                    "raw_bytes": f.raw,
                    "gzip_bytes": f.gzip,
                    "note": f.note,
                    "counted": f.counted,
                }
                for f in files
            ],
        },
        "first_visit_on_the_wire": {
            "page": "/connexion",
            "total_bytes": wire_total,
            "target_kb": WIRE_TARGET_KB,
            "ok": bool(transfers) and wire_total / 1024 <= WIRE_TARGET_KB,
            "responses": [
                {"url": t.url, "type": t.kind, "bytes": t.wire, "content_encoding": t.encoding} for t in transfers
            ],
        },
        "non_200_under_load": failures,
    }
    return SectionResult("foundation", TITLE, rows, lines, data)

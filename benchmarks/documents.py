"""Documents: server time and SQL queries of the list and of the search fragment for a holder
with thousands of documents, and what an upload costs the worker in memory and time.

    .venv/bin/python -m benchmarks.run documents          # about 40 s; also part of `make bench`
    .venv/bin/python -m benchmarks.run --runs 1 documents  # quicker: one repeat of each upload
    .venv/bin/python -m benchmarks.run --keep documents    # keep the instance folder

1. GET /documents (full page) and GET /documents?q=bilan with HX-Request (the results
   fragment), in process with the Flask test client on a temporary instance (Alembic + demo
   seed) and the session of a real login; 500 then 5,000 documents bulk-inserted with
   SQLAlchemy Core. Median and p95 of the WSGI call, and every statement sent to the engine.
2. Peak RSS growth of a fresh `gunicorn --workers 1` worker (VmHWM after - VmRSS before, from
   /proc, VmHWM reset before each upload) for a 19.5 MiB PDF (page 1: A4 scan at 300 dpi) and
   for a 12 MP phone photo sent through the camera field.
3. MB/s of the PDF upload (client-side POST to response, loopback) against shutil.copyfile +
   fsync of the same bytes on the same disk, interleaved.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import random
import re
import secrets
import shutil
import statistics
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from benchmarks import instance
from benchmarks.memory import proc_kb
from benchmarks.report import Row, SectionResult
from benchmarks.server import Gunicorn

TITLE = "Documents: list and search with 5,000 documents, 20 MB upload"
DOCS_SMALL = 500
DOCS_LARGE = 5_000
REQUESTS = 200
WARMUP_REQUESTS = 20
SEARCH_TERM = "bilan"
QUERIES_TARGET = 10
MEDIAN_MS_TARGET = 30.0
UPLOAD_MB = 19.5  # under UPLOAD_MAX_MB (20) with room for the multipart envelope
RSS_GROWTH_TARGET_MB = 32.0
PHOTO_PIXELS = (4000, 3000)  # a 12 MP phone camera
MB = 1024 * 1024

# --------------------------------------------------------------------------- realistic rows

_TITLES = {
    "SYNTHESE": ["Synthèse de santé", "Résumé de mon parcours de soins", "Volet de synthèse médicale"],
    "ORD_SOIN": [
        "Ordonnance",
        "Ordonnance de kinésithérapie",
        "Ordonnance de renouvellement",
        "Ordonnance lunettes",
        "Prescription de soins infirmiers",
        "Ordonnance antibiotiques",
    ],
    "RADIO_SC": [
        "Radiographie du genou droit",
        "Échographie abdominale",
        "IRM lombaire",
        "Scanner thoracique",
        "Mammographie de dépistage",
        "Radio des poumons",
        "Échographie thyroïdienne",
    ],
    "BIOLOGIE": [
        "Bilan sanguin",
        "Bilan lipidique",
        "NFS et plaquettes",
        "Bilan thyroïdien (TSH)",
        "HbA1c",
        "Ferritine et fer sérique",
        "Bilan hépatique",
        "Analyse d'urine (ECBU)",
    ],
    "CPT_REND": [
        "Compte rendu de consultation cardiologie",
        "Compte rendu opératoire",
        "Compte rendu d'hospitalisation",
        "Lettre de sortie",
        "Compte rendu dermatologie",
    ],
    "DEPISTAG": ["Dépistage cancer colorectal", "Frottis cervico-utérin", "Test de dépistage"],
    "CERT_MED": ["Certificat de non contre-indication au sport", "Certificat médical", "Arrêt de travail"],
    "DOC_ADM": ["Attestation de droits", "Carte de mutuelle", "Feuille de soins", "Facture clinique"],
    "DIR_ANT": ["Directives anticipées"],
    "SYNTH_PML": ["Synthèse médicale du médecin traitant"],
    "QUEST_SANTE": ["Questionnaire de santé", "Questionnaire préopératoire"],
    "AUTR_DOC": ["Carnet de vaccination", "Photo de l'ordonnance", "Courrier", "Document divers"],
}
_WEIGHTS = {
    "ORD_SOIN": 30,
    "BIOLOGIE": 20,
    "RADIO_SC": 10,
    "CPT_REND": 12,
    "DOC_ADM": 8,
    "CERT_MED": 5,
    "DEPISTAG": 3,
    "AUTR_DOC": 6,
    "SYNTHESE": 2,
    "SYNTH_PML": 2,
    "QUEST_SANTE": 1,
    "DIR_ANT": 1,
}
_AUTHORS = [
    "Dr Hélène Bernard",
    "Dr Marc Lefèvre",
    "Laboratoire Cerballiance",
    "Centre d'imagerie du Parc",
    "Hôpital Saint-Antoine",
    "Dr Sophie Garnier",
    "Pharmacie des Lilas",
    "Clinique du Louvre",
]
_NOTES = [
    "À montrer au médecin traitant.",
    "Valeurs normales sauf la ferritine, un peu basse.",
    "Refaire dans six mois.",
    "Remboursé par la mutuelle.",
    "Contrôle après le traitement.",
    "Le radiologue conseille un suivi annuel.",
    "Scanné depuis le téléphone.",
]


def _rows(patient_id: str, n: int, seed: int, holder_name: str) -> tuple[list[dict], list[dict]]:
    """n documents (and their blob key rows) spread over 20 years, as an active holder would have."""
    from blueprints.documents.models import fold
    from core import clock

    rnd = random.Random(seed)
    now = clock.utcnow()
    cats = list(_WEIGHTS)
    weights = [_WEIGHTS[c] for c in cats]
    keys, docs = [], []
    today = now.date()
    for _ in range(n):
        cat = rnd.choices(cats, weights)[0]
        title = rnd.choice(_TITLES[cat])
        act = today - timedelta(days=rnd.randrange(20 * 365))
        if rnd.random() < 0.5:
            title = f"{title} — {act.strftime('%d/%m/%Y')}"
        kind = rnd.choice(("pdf", "pdf", "pdf", "jpeg"))
        by_holder = rnd.random() < 0.6
        blob_id = secrets.token_hex(16)
        keys.append(
            {
                "blob_id": blob_id,
                "patient_id": patient_id,
                "wrapped_key": secrets.token_bytes(41),
                "sha256": secrets.token_hex(32),
                "created_at": now,
            }
        )
        docs.append(
            {
                "id": str(uuid.uuid4()),
                "patient_id": patient_id,
                "title": title,
                "category": cat,
                "act_date": act,
                "note": rnd.choice(_NOTES) if rnd.random() < 0.35 else None,
                "author_type": "holder" if by_holder else "professional",
                "author_name": holder_name if by_holder else rnd.choice(_AUTHORS),
                "source": "upload",
                "mime": "application/pdf" if kind == "pdf" else "image/jpeg",
                "kind": kind,
                "original_name": f"scan_{act.isoformat()}.{'pdf' if kind == 'pdf' else 'jpg'}",
                "size": rnd.randrange(40_000, 4_000_000),
                "sha256": secrets.token_hex(32),
                "blob_id": blob_id,
                "thumb_blob_id": None,
                "hidden": rnd.random() < 0.05,
                "created_at": now,
                "updated_at": now,
            }
        )
        d = docs[-1]  # Core inserts skip the model's hook: fold the search text the same way
        d["search_text"] = " ".join(fold(part) for part in (d["title"], d["author_name"], d["note"]) if part)
    return keys, docs


def _insert(app, patient_id: str, n: int, seed: int, holder_name: str) -> float:
    from blueprints.documents.models import Document
    from core.blobs import BlobKey

    keys, docs = _rows(patient_id, n, seed, holder_name)
    started = time.perf_counter()
    with app.extensions["carnet.engine"].begin() as conn:  # SQLAlchemy Core executemany
        conn.execute(BlobKey.__table__.insert(), keys)
        conn.execute(Document.__table__.insert(), docs)
    return time.perf_counter() - started


# --------------------------------------------------------------------------- in-process timing


class _Probe:
    """Times each WSGI call (body included) and records the statements it sends to the database."""

    def __init__(self, app):
        from sqlalchemy import event

        self.statements: list[str] | None = None
        self.seconds = 0.0
        inner = app.wsgi_app

        def timed(environ, start_response):
            self.statements = []
            t0 = time.perf_counter()
            result = inner(environ, start_response)
            try:
                body = list(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
            self.seconds = time.perf_counter() - t0
            return body

        app.wsgi_app = timed

        @event.listens_for(app.extensions["carnet.engine"], "before_cursor_execute")
        def _count(conn, cursor, statement, parameters, context, executemany):
            if self.statements is not None:
                self.statements.append(" ".join(statement.split()))


def _check_page(resp, label: str, fragment: bool) -> None:
    body = resp.get_data()
    if resp.status_code != 200 or b'id="doc-results"' not in body or b'id="login-form"' in body:
        raise RuntimeError(f"{label}: answered {resp.status_code}, results block present: {b'doc-results' in body}")
    if fragment == (b"<html" in body):
        raise RuntimeError(f"{label}: expected {'a fragment' if fragment else 'a full page'}")


def _measure_pages(client, probe: _Probe, targets: dict, requests: int, warmup: int) -> dict:
    """Interleaved requests on every target; per target: times (ms) and query counts."""
    for name, (url, headers) in targets.items():
        for _ in range(warmup):
            _check_page(client.get(url, headers=headers), name, "HX-Request" in headers)
    out = {name: {"ms": [], "queries": [], "sample": None} for name in targets}
    for _ in range(requests):
        for name, (url, headers) in targets.items():
            resp = client.get(url, headers=headers)
            if resp.status_code != 200:
                raise RuntimeError(f"{name}: answered {resp.status_code} under measurement")
            out[name]["ms"].append(probe.seconds * 1000)
            out[name]["queries"].append(len(probe.statements))
            if out[name]["sample"] is None or len(probe.statements) < len(out[name]["sample"]):
                out[name]["sample"] = list(probe.statements)
    _check_page(client.get(targets["list"][0], headers=targets["list"][1]), "list", False)
    return out


def _summary(m: dict) -> dict:
    ms = sorted(m["ms"])
    p95 = ms[min(len(ms) - 1, int(round(0.95 * len(ms))) - 1)] if ms else None
    q = m["queries"]
    return {
        "requests": len(ms),
        "median_ms": round(statistics.median(ms), 2),
        "p95_ms": round(p95, 2),
        "min_ms": round(ms[0], 2),
        "max_ms": round(ms[-1], 2),
        "queries_median": statistics.median(q),
        "queries_min": min(q),
        "queries_max": max(q),
        "statements": m["sample"],
    }


# --------------------------------------------------------------------------- upload


def _scan_jpeg(width: int, height: int, seed: int, quality: int = 92) -> bytes:
    """A decodable JPEG with the texture of a scan or a phone photo (gradient + grain)."""
    from PIL import Image

    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    grain = Image.effect_noise((width, height), 60).convert("RGB")
    out = io.BytesIO()
    Image.blend(base, grain, 0.5).save(out, "JPEG", quality=quality)
    return out.getvalue()


def make_pdf(path: Path, size: int, seed: int = 7, scan: tuple[int, int] = (2480, 3508)) -> str:
    """A valid PDF of exactly `size` bytes, built like a scanned document: page 1 is an A4 page
    scanned at 300 dpi (a DCT image PDFium decodes for the thumbnail), the bulk of the bytes sits
    in a further stream (random, incompressible). Returns its SHA-256."""
    rnd = random.Random(seed)
    width, height = scan
    scan = _scan_jpeg(width, height, seed)
    content = b"q 595 0 0 842 0 0 cm /Im1 Do Q"
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    fixed = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /XObject << /Im1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 "
        b"/Filter /DCTDecode /Length %d >>\nstream\n" % (width, height, len(scan)) + scan + b"\nendstream",
    ]

    def assemble(pad: int) -> bytes:
        objs = fixed + [b"<< /Type /EmbeddedFile /Length %d >>\nstream\n" % pad + b"\0" * pad + b"\nendstream"]
        out = bytearray(head)
        offsets = []
        for i, body in enumerate(objs, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
        for off in offsets:
            out += b"%010d 00000 n \n" % off
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
        return bytes(out)

    pad = size - len(assemble(0))
    if pad < 0:
        raise RuntimeError("the scanned page alone is larger than the wanted size")
    for _ in range(3):  # the digits of /Length and of the offsets change the overhead a little
        pad += size - len(assemble(pad))
    data = bytearray(assemble(pad))
    start = data.index(b"/EmbeddedFile")
    start = data.index(b"stream\n", start) + len(b"stream\n")
    data[start : start + pad] = rnd.randbytes(pad)
    if len(data) != size:
        raise RuntimeError(f"PDF is {len(data)} bytes, wanted {size}")
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0, same user)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _multipart(fields: dict, file_field: str, filename: str, mime: str, data: bytes) -> tuple[bytes, str]:
    boundary = "----carnetbench" + secrets.token_hex(8)
    parts = bytearray()
    for k, v in fields.items():
        parts += (f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n').encode()
    parts += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
        f"Content-Type: {mime}\r\n\r\n"
    ).encode()
    parts += data
    parts += f"\r\n--{boundary}--\r\n".encode()
    return bytes(parts), f"multipart/form-data; boundary={boundary}"


def _upload(server: Gunicorn, browser: instance.Browser, data: bytes, n: int, photo: bool = False) -> tuple[float, str]:
    """POST one file through the real add form (a PDF in "files", or a JPEG in "photo", as the
    camera button sends it); returns (seconds, new document URL)."""
    status, _, page = browser.request("GET", "/documents/ajouter")
    if status != 200:
        raise RuntimeError(f"GET /documents/ajouter answered {status}")
    token = instance._csrf(page)
    fields = {
        "csrf_token": token,
        "category": "ORD_SOIN" if photo else "RADIO_SC",
        "act_date": date.today().isoformat(),
        "title": f"{'Ordonnance' if photo else 'IRM lombaire'} {n}",
        "note": "Envoyé par le centre d'imagerie.",
    }
    if photo:
        body, ctype = _multipart(fields, "photo", f"IMG_{n:04d}.jpg", "image/jpeg", data)
    else:
        body, ctype = _multipart(fields, "files", f"irm-lombaire-{n}.pdf", "application/pdf", data)
    conn = http.client.HTTPConnection(browser.host, browser.port, timeout=120)
    headers = {
        "Content-Type": ctype,
        "Content-Length": str(len(body)),
        "Origin": server.base,
        "Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items()),
        "User-Agent": "Mozilla/5.0 (Linux; Android 14) carnet-bench",
    }
    t0 = time.perf_counter()
    conn.request("POST", "/documents/ajouter", body=body, headers=headers)
    resp = conn.getresponse()
    answer = resp.read()
    seconds = time.perf_counter() - t0
    location = resp.getheader("Location", "")
    conn.close()
    if resp.status not in (302, 303) or not re.search(r"/documents/[0-9a-f-]{36}$", location):
        raise RuntimeError(f"upload not accepted: {resp.status} {location!r} {answer[:300]!r}")
    return seconds, location


def _copy(src: Path, folder: Path) -> float:
    """shutil.copyfile + fsync of the file and of its folder: the durable plain copy."""
    dst = folder / f"copy-{secrets.token_hex(4)}"
    t0 = time.perf_counter()
    shutil.copyfile(src, dst)
    fd = os.open(dst, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    dfd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    seconds = time.perf_counter() - t0
    dst.unlink()
    return seconds


class _UploadWorker:
    """A fresh `gunicorn --workers 1` on the instance, the logged-in browser pointed at it, and
    the worker's memory read from /proc around each upload."""

    def __init__(self, env: dict, log: Path, browser: instance.Browser):
        self.server = Gunicorn("benchmarks.wsgi:app", 1, env, log, ready_path="/connexion")
        self.cookies = dict(browser.cookies)  # server-side session: valid on any server of the instance
        self.reset_ok = True

    def __enter__(self) -> _UploadWorker:
        self.server.__enter__()
        self.browser = instance.Browser(self.server.base)
        self.browser.cookies = dict(self.cookies)
        self.pid = self.server.worker_pids()[0]
        return self

    def __exit__(self, *exc) -> None:
        try:
            if exc[0] is None and self.pid not in self.server.worker_pids():
                raise RuntimeError("the gunicorn worker was replaced during the uploads")
        finally:
            self.server.__exit__(*exc)

    def upload(self, data: bytes, n: int, photo: bool = False) -> tuple[dict, str]:
        before = proc_kb(self.pid, "VmRSS")
        self.reset_ok = _reset_peak(self.pid) and self.reset_ok
        seconds, url = _upload(self.server, self.browser, data, n, photo)
        rss, hwm = proc_kb(self.pid, "VmRSS"), proc_kb(self.pid, "VmHWM")
        return {
            "bytes": len(data),
            "seconds": seconds,
            "mb_per_s": len(data) / MB / seconds,
            "rss_before_kb": before,
            "hwm_after_kb": hwm,
            "rss_after_kb": rss,
            "peak_growth_mb": (hwm - before) / 1024,
            "retained_mb": (rss - before) / 1024,
        }, url


# --------------------------------------------------------------------------- section


def run(opts) -> SectionResult:
    from sqlalchemy import func, select

    from app import create_app
    from blueprints.demo.seed import HOLDER_EMAIL, PASSWORD
    from blueprints.documents.models import Document
    from core.db import db
    from core.people import Account

    load_before = os.getloadavg()[0]
    path, holder_name = instance.prepare()
    notes: list[str] = []
    runs = max(1, opts.runs)
    try:
        env = instance.server_env(path)
        log = path / "gunicorn.log"
        with Gunicorn("benchmarks.wsgi:app", 1, env, log, ready_path="/connexion") as server:
            browser = instance.login(server.base, path, HOLDER_EMAIL, PASSWORD)

        # ---- 1. list and search, in process, with the session of that login
        app = create_app({"DEMO": True, **instance.IN_PROCESS}, instance_path=str(path))
        with app.app_context():
            patient_id = db.session.scalar(select(Account.patient_id).where(Account.email == HOLDER_EMAIL))
            db.session.remove()
        probe = _Probe(app)
        client = app.test_client()
        client.set_cookie(instance.COOKIE, browser.cookies[instance.COOKIE])
        targets = {
            "list": ("/documents", {}),
            "search": (f"/documents?q={SEARCH_TERM}", {"HX-Request": "true"}),
        }
        with app.app_context():  # the demo space starts with a few documents of its own
            existing = (
                db.session.scalar(select(func.count()).select_from(Document).where(Document.patient_id == patient_id))
                or 0
            )
            db.session.remove()
        insert_s = _insert(app, patient_id, DOCS_SMALL - existing, 1, holder_name)
        small = _measure_pages(client, probe, targets, max(20, REQUESTS // 4), 5)
        insert_s += _insert(app, patient_id, DOCS_LARGE - DOCS_SMALL, 2, holder_name)
        with app.app_context():
            total = db.session.scalar(
                select(func.count()).select_from(Document).where(Document.patient_id == patient_id)
            )
            matches = db.session.scalar(
                select(func.count())
                .select_from(Document)
                .where(Document.patient_id == patient_id, Document.title.ilike(f"%{SEARCH_TERM}%"))
            )
            db.session.remove()
        if total != DOCS_LARGE:
            raise RuntimeError(f"{total} documents in the space, expected {DOCS_LARGE}")
        large = _measure_pages(client, probe, targets, REQUESTS, WARMUP_REQUESTS)
        app.extensions["carnet.engine"].dispose()

        # ---- 2 and 3. uploads, each kind in a fresh worker (memory a worker keeps after an
        # earlier large upload would hide the next one's peak), against a plain copy
        size = int(UPLOAD_MB * MB)
        src = path / "upload-source.pdf"
        digest = make_pdf(src, size)
        data = src.read_bytes()
        with _UploadWorker(env, log, browser) as worker:
            warm_pdf = path / "warm-up.pdf"
            make_pdf(warm_pdf, 200_000, scan=(400, 566))
            worker.upload(warm_pdf.read_bytes(), 0)  # PDFium and Pillow loaded, as after any upload
            first, doc_url = worker.upload(data, 1)
            status, _, stored = worker.browser.request("GET", doc_url + "/telecharger")
            if status != 200 or hashlib.sha256(stored).hexdigest() != digest:
                raise RuntimeError("the uploaded document does not download byte for byte")
            del stored
            again, copies = [], []
            for i in range(runs):  # interleaved with the copies, so both see the same disk
                copies.append(_copy(src, path))
                again.append(worker.upload(data, i + 2)[0])
            reset_ok = worker.reset_ok
        photo = _scan_jpeg(*PHOTO_PIXELS, seed=3)
        with _UploadWorker(env, log, browser) as worker:
            worker.upload(_scan_jpeg(640, 480, seed=4), 0, photo=True)
            photo_first = worker.upload(photo, 1, photo=True)[0]
            photo_again = [worker.upload(photo, i + 2, photo=True)[0] for i in range(runs)]
            reset_ok = reset_ok and worker.reset_ok
        load_after = os.getloadavg()[0]
    finally:
        if not opts.keep:
            shutil.rmtree(path, ignore_errors=True)
        else:
            notes.append(f"instance kept in {path}")

    s_list, s_search = _summary(large["list"]), _summary(large["search"])
    small_list, small_search = _summary(small["list"]), _summary(small["search"])
    copy_mbps = [size / MB / c for c in copies]
    up_mbps = statistics.median(r["mb_per_s"] for r in again)
    cp_mbps = statistics.median(copy_mbps)
    peak = first["peak_growth_mb"]
    peak_photo = photo_first["peak_growth_mb"]
    photo_mb = len(photo) / MB
    photo_ms = statistics.median(r["seconds"] for r in [photo_first] + photo_again) * 1000

    def qrow(label, s, s_small):
        grows = s["queries_max"] > s_small["queries_max"] or s["queries_median"] > s_small["queries_median"]
        return Row(
            label,
            s["queries_median"],
            "",
            "{:.0f}",
            target=f"<= {QUERIES_TARGET}",
            ok=s["queries_median"] <= QUERIES_TARGET and not grows,
            detail=f"{DOCS_SMALL} docs: {s_small['queries_median']:.0f}, {DOCS_LARGE} docs: "
            f"{s['queries_median']:.0f}; max {s_small['queries_max']} / {s['queries_max']}",
        )

    rows = [
        Row(
            f"list page, {DOCS_LARGE} docs: median",
            s_list["median_ms"],
            "ms",
            "{:.1f}",
            target=f"<= {MEDIAN_MS_TARGET:.0f} ms",
            ok=s_list["median_ms"] <= MEDIAN_MS_TARGET,
            detail=f"p95 {s_list['p95_ms']:.1f} ms; {DOCS_SMALL} docs: median {small_list['median_ms']:.1f} ms, "
            f"p95 {small_list['p95_ms']:.1f} ms",
        ),
        qrow("list page: SQL queries", s_list, small_list),
        Row(
            f"search fragment, {DOCS_LARGE} docs: median",
            s_search["median_ms"],
            "ms",
            "{:.1f}",
            target=f"<= {MEDIAN_MS_TARGET:.0f} ms",
            ok=s_search["median_ms"] <= MEDIAN_MS_TARGET,
            detail=f"p95 {s_search['p95_ms']:.1f} ms; {DOCS_SMALL} docs: median {small_search['median_ms']:.1f} ms, "
            f"p95 {small_search['p95_ms']:.1f} ms",
        ),
        qrow("search fragment: SQL queries", s_search, small_search),
        Row(
            f"{size / MB:.1f} MiB PDF upload: worker peak RSS growth",
            peak,
            "MB",
            "{:.1f}",
            target=f"<= {RSS_GROWTH_TARGET_MB:.0f} MB",
            ok=peak <= RSS_GROWTH_TARGET_MB,
            detail=f"kept after: {first['retained_mb']:.1f} MB; next uploads grow "
            + ", ".join(f"{r['peak_growth_mb']:.1f}" for r in again)
            + " MB more",
        ),
        Row(
            f"{PHOTO_PIXELS[0] * PHOTO_PIXELS[1] / 1e6:.0f} MP photo ({photo_mb:.1f} MB JPEG): peak RSS growth",
            peak_photo,
            "MB",
            "{:.1f}",
            target=f"<= {RSS_GROWTH_TARGET_MB:.0f} MB",
            ok=peak_photo <= RSS_GROWTH_TARGET_MB,
            detail=f"{photo_ms:.0f} ms per upload; kept after: {photo_first['retained_mb']:.1f} MB",
        ),
        Row(
            "PDF upload throughput",
            up_mbps,
            "MB/s",
            "{:.0f}",
            detail="runs " + ", ".join(f"{r['mb_per_s']:.0f}" for r in again) + f"; first {first['mb_per_s']:.0f}",
        ),
        Row(
            "plain copy + fsync, same bytes",
            cp_mbps,
            "MB/s",
            "{:.0f}",
            detail="runs " + ", ".join(f"{v:.0f}" for v in copy_mbps),
        ),
        Row("upload / plain copy", up_mbps / cp_mbps, "", "{:.2f}"),
    ]
    lines = [
        f"list and search: in process (Flask test client, session from the real login), server time = the WSGI "
        f"call incl. body; {REQUESTS} requests each, interleaved, after {WARMUP_REQUESTS} warm-up; SQLite in a "
        f"temporary instance. List = GET /documents (full page); search = GET /documents?q={SEARCH_TERM} with "
        f"HX-Request (the #doc-results fragment; {matches} of {DOCS_LARGE} titles match).",
        f"{DOCS_LARGE} rows bulk-inserted with SQLAlchemy Core in {insert_s:.2f} s (no blobs, no thumbnails).",
        "SQL queries: every statement the engine sends (before_cursor_execute), BEGIN included; the session "
        "record is touched at most every SESSION_TOUCH_SECONDS, which adds statements to that one request.",
        f"uploads: multipart POST through the add form to a fresh gunicorn --workers 1 (sync) per file kind, "
        f"after one small upload of that kind; PDF = {size / MB:.1f} MiB valid PDF whose page 1 is an A4 scan "
        f"at 300 dpi, the rest random bytes; photo = the camera field. Peak growth = VmHWM after - VmRSS "
        f"before, from /proc/<worker>/status, VmHWM reset before each upload"
        + ("" if reset_ok else " (reset refused: peaks are since the worker started)")
        + "; time = client-side POST to response on loopback; the PDF downloads back identical (SHA-256).",
        f"machine: {os.cpu_count()} cores, load average {load_before:.1f} before, {load_after:.1f} after",
        "",
        "statements of one list request at 5,000 documents:",
        *[f"  {i + 1:2}. {s[:150]}" for i, s in enumerate(s_list["statements"])],
    ]
    lines += notes
    data = {
        "documents": DOCS_LARGE,
        "requests": REQUESTS,
        "warmup_requests": WARMUP_REQUESTS,
        "search_term": SEARCH_TERM,
        "search_title_matches": matches,
        "cpu_count": os.cpu_count(),
        "load_average": {"before": round(load_before, 2), "after": round(load_after, 2)},
        "list": {str(DOCS_SMALL): small_list, str(DOCS_LARGE): s_list},
        "search": {str(DOCS_SMALL): small_search, str(DOCS_LARGE): s_search},
        "targets": {"queries": QUERIES_TARGET, "median_ms": MEDIAN_MS_TARGET, "rss_growth_mb": RSS_GROWTH_TARGET_MB},
        "pdf_upload": {
            "bytes": size,
            "hwm_reset": reset_ok,
            "first": first,
            "again": again,
            "median_mb_per_s": round(up_mbps, 1),
            "peak_rss_growth_mb": round(peak, 2),
        },
        "photo_upload": {
            "bytes": len(photo),
            "pixels": list(PHOTO_PIXELS),
            "first": photo_first,
            "again": photo_again,
            "peak_rss_growth_mb": round(peak_photo, 2),
        },
        "plain_copy": {"runs_seconds": copies, "median_mb_per_s": round(cp_mbps, 1)},
        "upload_to_copy_ratio": round(up_mbps / cp_mbps, 3),
    }
    return SectionResult("documents", TITLE, rows, lines, data)

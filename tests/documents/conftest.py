"""Documents fixtures: a logged-in holder, sample files, an upload helper."""
from __future__ import annotations

import io
import os

import pytest
from PIL import ExifTags, Image

from tests.conftest import csrf_token


def png_bytes(size=(40, 30), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def pdf_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 280), (255, 255, 255)).save(out, "PDF")
    return out.getvalue()


TEXT = "Ordonnance du Dr Martin\nParacétamol 1 g, 3 fois par jour.\n".encode()


@pytest.fixture(autouse=True)
def _empty_blob_store(request):
    """The app lives for the whole session; its blob directory starts empty for each test."""
    if "app" not in request.fixturenames:
        yield
        return
    import shutil

    app = request.getfixturevalue("app")
    shutil.rmtree(os.path.join(app.instance_path, "blobs"), ignore_errors=True)
    app.extensions.pop("carnet.blobs", None)
    yield


@pytest.fixture
def holder(app, client, make_holder, login):
    """(client logged in as a fresh holder, account)."""
    account, _ = make_holder()
    login(client, account)
    return client, account


@pytest.fixture
def upload():
    def do(client, files, *, category="ORD_SOIN", title="", act_date="2026-03-12", note="", htmx=False,
           field="files", token=None):
        token = token if token is not None else csrf_token(client, "/documents")
        data = {"category": category, "title": title, "act_date": act_date, "note": note, "csrf_token": token,
                field: [(io.BytesIO(content), name) for content, name in files]}
        headers = {"HX-Request": "true"} if htmx else {}
        return client.post("/documents/ajouter", data=data, content_type="multipart/form-data", headers=headers)
    return do


def blob_files(app) -> list:
    import os

    root = os.path.join(app.instance_path, "blobs")
    found = []
    for dirpath, _dirs, names in os.walk(root):
        found += [os.path.join(dirpath, n) for n in names if n != ".backup.lock"]  # the store's lock file
    return found


def documents_of(app, patient_id=None) -> list:
    from sqlalchemy import select

    from blueprints.documents.models import Document
    from core.db import db

    with app.app_context():
        stmt = select(Document)
        if patient_id:
            stmt = stmt.where(Document.patient_id == patient_id)
        return list(db.session.scalars(stmt))


@pytest.fixture
def space(app, make_holder):
    """A request context with the holder's viewer, for service-level tests."""
    from core.access import viewer_for
    from core.db import db

    account, _ = make_holder()
    with app.test_request_context():
        yield viewer_for(db.session.merge(account))


def add_text(viewer, content=TEXT, name="ordonnance.txt", **kw):
    """Store one document through the service (a prescription in plain text by default)."""
    import io
    from datetime import date

    from blueprints.documents import services

    kw.setdefault("category", "ORD_SOIN")
    kw.setdefault("act_date", date(2026, 3, 12))
    return services.add_documents(viewer, [services.Upload(io.BytesIO(content), name)], **kw)[0]

"""Attachments: the documents' upload rules (type from the bytes, metadata stripped, encrypted),
downloads that never run, thumbnails drawn on the server, one tap into Documents, and a
professional attaching a document of the record."""

from __future__ import annotations

import io
import re

from PIL import Image

from blueprints.documents.models import Document
from blueprints.messaging.models import Attachment, Message
from tests.documents.file_samples import GPS_IFD, gps_exif, make_jpeg, make_pdf
from tests.helpers import blob_files, csrf_token, documents_of, rows, traces
from tests.messaging.helpers import grant, reply, thread_id_of, write_new
from tests.samples import TEXT


def _pair(app, people, login_as):
    holder, _other, pro, _stranger = people
    grant(app, holder, pro)
    holder_client, pro_client = app.test_client(), app.test_client()
    login_as(holder_client, holder)
    login_as(pro_client, pro)
    return holder, pro, holder_client, pro_client


def test_a_photo_from_the_phone_loses_its_location_and_downloads_inert(app, people, login_as):
    holder, pro, holder_client, pro_client = _pair(app, people, login_as)
    tid = thread_id_of(write_new(pro_client, holder.patient_id))
    photo = make_jpeg(size=(640, 480), exif=gps_exif(orientation=6))
    assert reply(holder_client, tid, "Voici la photo", files=[(io.BytesIO(photo), "IMG_2041.jpg")]).status_code == 303
    (a,) = rows(app, Attachment)
    assert a.kind == "jpeg" and a.thumb_blob_id

    got = pro_client.get(f"/messages/pieces/{a.id}")
    assert got.status_code == 200
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in got.headers["Content-Security-Policy"] and got.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(got.data)) as im:
        assert not im.getexif().get_ifd(GPS_IFD)
    assert b"PhoneMaker" not in got.data
    # stored encrypted: the bytes on disk are not the picture
    assert all(photo[:64] not in open(path, "rb").read() for path in blob_files(app))
    thumb = holder_client.get(f"/messages/pieces/{a.id}/vignette")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert any(t.action == "message_thread_read" and (t.detail or {}).get("how") == "download" for t in traces(app))


def test_files_that_lie_or_could_run_are_refused_and_nothing_is_kept(app, people, login_as):
    holder, pro, holder_client, pro_client = _pair(app, people, login_as)
    tid = thread_id_of(write_new(pro_client, holder.patient_id))
    before = (len(rows(app, Message)), len(blob_files(app)))
    for content, name in (
        (b"<html><script>alert(1)</script></html>", "resultat.png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image.svg"),
        (b"MZ\x90\x00" + b"\x00" * 200, "ordonnance.pdf"),
        (b"", "vide.txt"),
    ):
        r = reply(holder_client, tid, "pièce", files=[(io.BytesIO(content), name)])
        assert r.status_code == 422 and 'role="alert"' in r.get_data(as_text=True), name
    too_many = [(io.BytesIO(TEXT), f"note{n}.txt") for n in range(6)]
    assert reply(holder_client, tid, "trop", files=too_many).status_code == 422
    assert (len(rows(app, Message)), len(blob_files(app))) == before


def test_one_tap_saves_the_professionals_attachment_into_documents(app, people, login_as):
    holder, pro, holder_client, pro_client = _pair(app, people, login_as)
    r = write_new(pro_client, holder.patient_id, files=[(io.BytesIO(make_pdf()), "compte-rendu.pdf")])
    tid = thread_id_of(r)
    (a,) = rows(app, Attachment)
    page = holder_client.get(f"/messages/{tid}").get_data(as_text=True)
    assert f"/messages/pieces/{a.id}/enregistrer" in page
    # its category is chosen among the documents' own, « Autres » until told otherwise
    assert '<option value="AUTR_DOC" selected>Autres</option>' in page
    assert '<option value="CPT_REND">Comptes rendus</option>' in page
    token = csrf_token(holder_client, f"/messages/{tid}")
    saved = holder_client.post(
        f"/messages/pieces/{a.id}/enregistrer", data={"category": "CPT_REND", "csrf_token": token}
    )
    assert saved.status_code == 303
    (doc,) = documents_of(app, holder.patient_id)
    assert (doc.category, doc.author_type, doc.source, doc.kind) == ("CPT_REND", "professional", "message", "pdf")
    assert doc.author_name.startswith("Hélène Bernard") and doc.blob_id != a.blob_id  # a copy of its own
    assert "Dans mes documents" in holder_client.get(f"/messages/{tid}").get_data(as_text=True)
    # the professional cannot save into the holder's documents
    pro_token = csrf_token(pro_client, f"/messages/{tid}")
    r = pro_client.post(f"/messages/pieces/{a.id}/enregistrer", data={"category": "CPT_REND", "csrf_token": pro_token})
    assert r.status_code == 403 and len(rows(app, Document)) == 1


def test_a_professional_attaches_a_document_they_may_see(app, people, login_as, make_document):
    holder, pro, holder_client, pro_client = _pair(app, people, login_as)
    visible = make_document(holder, title="Bilan sanguin")
    hidden = make_document(holder, title="Note cachée", hidden=True)
    tid = thread_id_of(write_new(pro_client, holder.patient_id))
    page = pro_client.get(f"/messages/{tid}").get_data(as_text=True)
    assert "Bilan sanguin" in page and "Note cachée" not in page
    assert reply(pro_client, tid, "Le bilan", documents=[hidden.id]).status_code == 422
    assert reply(pro_client, tid, "Le bilan", documents=[visible.id]).status_code == 303
    (a,) = rows(app, Attachment)
    assert a.kind == "text" and a.sha256 == visible.sha256
    assert any(t.action == "document_opened" and t.target_id == visible.id for t in traces(app))


def test_another_person_never_reaches_an_attachment(app, people, login_as):
    holder, other, pro, stranger = people
    grant(app, holder, pro)
    pro_client = app.test_client()
    login_as(pro_client, pro)
    write_new(pro_client, holder.patient_id, files=[(io.BytesIO(TEXT), "note.txt")])
    (a,) = rows(app, Attachment)
    for account in (other, stranger):
        c = app.test_client()
        login_as(c, account)
        for path in (f"/messages/pieces/{a.id}", f"/messages/pieces/{a.id}/vignette"):
            assert c.get(path).status_code == 404
        token = csrf_token(c, "/messages")
        assert (
            c.post(
                f"/messages/pieces/{a.id}/enregistrer", data={"category": "AUTR_DOC", "csrf_token": token}
            ).status_code
            == 404
        )
    assert re.fullmatch(r"[0-9a-f-]{36}", a.id)

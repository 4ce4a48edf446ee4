"""Helpers of the messaging tests: granting, writing, replying, reading the unread count."""

from __future__ import annotations

import re

from blueprints.sharing import professionals
from core.db import db
from tests.factories import _holder_viewer
from tests.helpers import csrf_token


def grant(app, holder, pro):
    with app.test_request_context(method="POST"):
        found = professionals.grant(_holder_viewer(holder), pro.professional_id)
        db.session.commit()
        return found.id


def end_grant(app, holder, grant_id):
    with app.test_request_context(method="POST"):
        viewer = _holder_viewer(holder)
        professionals.end_grant(viewer, professionals.get_grant(viewer, grant_id))
        db.session.commit()


def write_new(client, to, subject="Résultats", body="Bonjour, voici vos résultats.", files=None):
    data = {"to": to, "subject": subject, "body": body, "csrf_token": csrf_token(client, "/messages")}
    if files:
        data["files"] = files
    return client.post("/messages/nouveau", data=data, content_type="multipart/form-data")


def thread_id_of(r) -> str:
    return re.search(r"/messages/([0-9a-f-]{36})", r.headers["Location"]).group(1)


def reply(client, thread_id, body, files=None, documents=None):
    data = {"body": body, "csrf_token": csrf_token(client, f"/messages/{thread_id}")}
    if files:
        data["files"] = files
    if documents:
        data["documents"] = documents
    return client.post(f"/messages/{thread_id}/repondre", data=data, content_type="multipart/form-data")


def unread(client) -> int:
    html = client.get("/messages/non-lus").get_data(as_text=True)
    return int(re.search(r'<span aria-hidden="true">(\d+)</span>', html).group(1))

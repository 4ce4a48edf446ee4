"""The consent receipt: a PDF of who was allowed what, why, until when and how to withdraw,
kept in the holder's documents (administrative papers) when they connect an app."""

from __future__ import annotations

import io
import logging
import re

from blueprints.apps import purposes
from blueprints.apps.models import App, Connection
from blueprints.documents import services as documents
from core import clock, pdf
from core.access import Viewer
from core.i18n import gettext as _

log = logging.getLogger(__name__)
CATEGORY = "DOC_ADM"


def make(viewer: Viewer, app: App, conn: Connection):
    """The receipt as a document of the holder's space, or None when the PDF could not be made
    (the connection stands; the app's page says the receipt is missing)."""
    allowed = [purposes.PURPOSES[k] for k in conn.purposes if k in purposes.PURPOSES]
    refused = [purposes.PURPOSES[k] for k in app.purposes if k in purposes.PURPOSES and k not in conn.purposes]
    try:
        data = pdf.render(
            "apps/print_receipt.html",
            app=app,
            connection=conn,
            holder=viewer.display_name,
            allowed=[{"label": str(p.label), "data": str(p.data)} for p in allowed],
            refused=[{"label": str(p.label)} for p in refused],
        )
    except pdf.PdfError:
        log.exception("consent receipt not made for connection %s", conn.id)
        return None
    slug = re.sub(r"[^a-z0-9]+", "-", app.name.lower()).strip("-") or "application"
    [doc] = documents.add_documents(
        viewer,
        [documents.Upload(io.BytesIO(data), f"recu-consentement-{slug}.pdf")],
        category=CATEGORY,
        act_date=clock.paris_today(),
        title=_("Consent receipt: %(name)s", name=app.name),
        source="receipt",
    )
    conn.receipt_document_id = doc.id
    return doc

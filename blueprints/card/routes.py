"""The emergency card: the page where the holder chooses to keep it on this device, and the
card itself (the one page the service worker may store)."""

from __future__ import annotations

from flask import abort

from blueprints.card import bp, services
from core import web


@bp.get("")
@web.gate("card")
def index(viewer):
    """What the card holds, what this device would keep, and the buttons to keep or remove it."""
    return web.render("card/index.html", card=services.card(viewer), kiosk=viewer.kiosk, cache_name=services.CACHE_NAME)


@bp.get("/fiche")
@web.gate("card")
def sheet(viewer):
    """The card alone, without scripts or session data: what the device stores and shows offline."""
    if viewer.kiosk:
        abort(403)  # a public kiosk keeps nothing
    return web.render("card/sheet.html", card=services.card(viewer))

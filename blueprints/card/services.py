"""The offline emergency card: what first responders need, from the holder's health profile.

It is the only page the service worker may keep (static/sw.js), and only on a personal device
whose holder asked for it; never documents, never on a kiosk."""

from __future__ import annotations

from blueprints.profile import choices, services as profile
from core import clock
from core.access import Viewer

CACHE_NAME = "carnet-emergency-card"  # static/sw.js and static/js/app.js use the same name
COOKIE = "carnet_card"  # "this device keeps the card": set and cleared by app.js, read at logout


def card(viewer: Viewer) -> dict:
    """Plain data for the card, with the moment it was drawn (shown as "updated on")."""
    s = profile.summary(viewer)
    row = profile.facts(viewer)
    directives = profile.directive_documents(viewer)
    return {
        "name": s["name"],
        "birth_date": s["birth_date"],
        "blood_group": s["blood_group"],
        "doctor": s["doctor"],
        "allergies": s["sections"]["allergies"],
        "treatments": s["sections"]["treatments"],
        "conditions": s["sections"]["conditions"],
        "contacts": s["sections"]["contacts"],
        "donation": choices.label(choices.DONATION, row.donation if row else None),
        "donation_note": row.donation_note if row else None,
        "directives": [d["title"] for d in directives],
        "drawn_at": clock.utcnow(),
    }

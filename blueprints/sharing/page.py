"""The sharing page: what it shows, and the way back to one of its parts (both route modules
answer with it)."""

from __future__ import annotations

from flask import url_for

from blueprints.sharing import notices, professionals, services
from blueprints.sharing.forms import BlockForm, EmergencyForm


def back(anchor: str = "") -> str:
    return url_for("sharing.index") + (f"#{anchor}" if anchor else "")


def page_context(viewer, block_form: BlockForm | None = None) -> dict:
    """Everything the sharing page shows, loaded here (templates never query)."""
    settings = professionals.emergency(viewer)
    blocks = professionals.blocks(viewer)
    return {
        "notices": notices.listing(viewer),
        "shares": services.listing(viewer),
        "grants": professionals.grants(viewer, blocks),
        "blocks": blocks,
        "block_form": block_form or BlockForm(),
        "emergency_form": EmergencyForm(formdata=None, obj=settings),
    }

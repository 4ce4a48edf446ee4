"""A short-lived cache of one session's rendered home screen.

The home screen is the page people come back to most, and everything it shows either
leaves a trace in the audit trail when it changes (documents, profile, measures, logins,
passkeys, shares, professional accesses, notifications) or moves with the clock. So a page
is reused only while, for the same session, language and kind of request: the space's
newest audit event and its notifications (how many, how many read, the newest) are the same,
no flash message is waiting, and the minute has not changed. What may lag, by less than a minute: another session of the holder that times out
on its own (the active-session count), and values a background import writes between its
start and end traces.

Kept in the worker's memory, at most MAX_PAGES pages, never shared between sessions.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache

from flask import make_response, request, session
from flask_babel import get_locale
from sqlalchemy import bindparam, func, select

from core import audit, clock
from core.db import db
from core.notify import Notification

MAX_PAGES = 256
_pages: OrderedDict = OrderedDict()
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _newest_statement():
    """Built once: the newest trace of a space (one seek on the (patient_id, id) index), and its
    notifications' state (a few rows on (patient_id, created_at)): reading one marks it read
    without leaving a trace."""
    patient = bindparam("patient_id")
    return select(
        select(func.max(audit.AuditEvent.id)).where(audit.AuditEvent.patient_id == patient).scalar_subquery(),
        select(func.count(), func.count(Notification.read_at), func.max(Notification.created_at)).where(
            Notification.patient_id == patient).subquery().c)


def _key(viewer) -> tuple | None:
    if session.get("_flashes") or viewer.session_id is None or viewer.patient_id is None:
        return None
    newest = tuple(db.session.connection().execute(_newest_statement(), {"patient_id": viewer.patient_id}).one())
    h = request.htmx
    return (request.full_path, viewer.session_id, str(get_locale()), newest,
            int(clock.utcnow().timestamp()) // 60, bool(h), bool(h and h.boosted), bool(h and h.history_restore_request))


def page(viewer, render):
    """The page `render()` makes, or the same page made less than a minute ago for this
    session if nothing it shows can have changed since (see the module's docstring)."""
    key = _key(viewer)
    if key is not None:
        with _lock:
            found = _pages.get(key)
            if found is not None:
                _pages.move_to_end(key)
        if found is not None:
            return make_response(found)
    resp = render()
    if key is not None and resp.status_code == 200 and not session.get("_flashes"):
        body = resp.get_data(as_text=True)
        with _lock:
            _pages[key] = body
            _pages.move_to_end(key)
            while len(_pages) > MAX_PAGES:
                _pages.popitem(last=False)
    return resp


def clear() -> None:
    with _lock:
        _pages.clear()

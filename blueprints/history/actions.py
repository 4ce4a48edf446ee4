"""What each trace means, in a sentence the holder understands.

Every action code any feature records maps to a sentence here; a code nobody mapped yet
still reads sensibly through the generic fallback. Sentences are built at request time
(gettext), so they follow the reader's language.
"""
from __future__ import annotations

from typing import Callable

from flask_babel import gettext as _, ngettext

from blueprints.measures.kinds import KINDS
from blueprints.measures.services import SOURCES
from blueprints.profile.sections import section_title

# Actions that tell of a failure or a refusal: shown with a warning mark, and listed
# under the "failed attempts and unknown people" filter.
FAILED = frozenset({
    "login_failed", "activation_failed", "reauthentication_failed", "access_denied",
    "share_code_failed", "emergency_access_refused",
})

LOGIN_METHODS = {
    "passkey": lambda: _("Login with a passkey"),
    "password+otp": lambda: _("Login with password and a code sent by email"),
    "activation": lambda: _("Login after activating the space"),
}
FAILED_METHODS = {
    "password": lambda: _("Failed login attempt (password)"),
    "otp": lambda: _("Failed login attempt (code sent by email)"),
    "passkey": lambda: _("Failed login attempt (passkey)"),
}


def _login(detail: dict, label: str) -> str:
    return LOGIN_METHODS.get(detail.get("method"), lambda: _("Login"))()


def _login_failed(detail: dict, label: str) -> str:
    return FAILED_METHODS.get(detail.get("method"), lambda: _("Failed login attempt"))()


def _renamed(detail: dict, label: str) -> str:
    if detail.get("from"):
        return _("Passkey renamed: “%(old)s” → “%(new)s”", old=detail["from"], new=label)
    return _("Passkey renamed: “%(label)s”", label=label)


def _sessions_ended(detail: dict, label: str) -> str:
    count = int(detail.get("count") or 0)
    if count:
        return ngettext("%(num)d other session ended", "%(num)d other sessions ended", count)
    return _("Other sessions ended")


def _shares_revoked_all(detail: dict) -> str:
    count = int(detail.get("count") or 0)
    return ngettext("%(num)d shared access ended at once", "%(num)d shared accesses ended at once", count)


def _record_viewed(detail: dict, label: str) -> str:
    """A professional's page view names the page (and the document or the kind), never data."""
    page = detail.get("page")
    if page == "document":
        return _("Document consulted: “%(label)s”", label=label) if label else _("Document consulted")
    if page in ("measure", "measure_chart"):  # the page of a kind, or its chart image read alone
        return _measure(detail, _("Measures consulted"), lambda k: _("Measures consulted: %(kind)s", kind=k))
    return {"documents": lambda: _("List of your documents consulted"),
            "summary": lambda: _("Health summary consulted"),
            "measures": lambda: _("Measures consulted"),
            "deposit": lambda: _("Form to add a document to your space opened"),
            }.get(page, lambda: _("Your space consulted"))()


def _measure(detail: dict, plain: str, with_kind: Callable[[str], str]) -> str:
    """Measure traces name the kind (weight, blood pressure), never the value."""
    kind = KINDS.get(detail.get("kind") or "")
    return with_kind(str(kind.label).lower()) if kind else plain


def _import_format(detail: dict) -> str:
    return str(SOURCES.get(detail.get("format"), "?"))


def _measures_imported(detail: dict) -> str:
    added = int(detail.get("added") or 0)
    return ngettext("Measures imported (%(format)s): %(num)d added", "Measures imported (%(format)s): %(num)d added",
                    added, format=_import_format(detail))


def _profile(detail: dict, plain: Callable[[], str], with_section: Callable[[str], str]) -> str:
    """Profile traces name the section, never the health data itself."""
    title = section_title(detail.get("section"))
    return with_section(title) if title else plain()


def _labelled(plain: Callable[[], str], with_label: Callable[[str], str]):
    """A sentence that names its target when the trace kept one."""
    return lambda detail, label: with_label(label) if label else plain()


def _doc(plain, with_label):
    return _labelled(plain, with_label)


SENTENCES: dict[str, Callable[[dict, str], str]] = {
    # Authentication and the life of the space
    "login": _login,
    "login_failed": _login_failed,
    "logout": lambda d, t: _("Logout"),
    "activation_code_used": lambda d, t: _("Activation code used"),
    "activation_failed": lambda d, t: _("Failed activation attempt"),
    "space_activated": lambda d, t: _("Space activated"),
    "activation_letter_requested": lambda d, t: _("New activation letter requested"),
    "login_unlocked": lambda d, t: _("Password login unlocked with the link sent by mail"),
    "reauthenticated": lambda d, t: _("Identity confirmed before a sensitive action"),
    "reauthentication_failed": lambda d, t: _("Identity confirmation failed"),
    "password_changed": lambda d, t: _("Password changed"),
    "passkey_added": _labelled(lambda: _("Passkey added"), lambda x: _("Passkey added: “%(label)s”", label=x)),
    "passkey_removed": _labelled(lambda: _("Passkey removed"), lambda x: _("Passkey removed: “%(label)s”", label=x)),
    "passkey_renamed": _renamed,
    "session_ended": lambda d, t: _("A session was ended"),
    "sessions_ended": _sessions_ended,
    "access_denied": lambda d, t: _("Access refused to a page"),
    "history_exported": lambda d, t: _("Access history downloaded"),
    # Documents
    "document_added": _doc(lambda: _("Document added"), lambda x: _("Document added: “%(label)s”", label=x)),
    "document_uploaded": _doc(lambda: _("Document added"), lambda x: _("Document added: “%(label)s”", label=x)),
    "document_opened": lambda d, t: (SENTENCES["document_downloaded"] if d.get("how") == "download"
                                     else SENTENCES["document_viewed"])(d, t),
    "document_viewed": _doc(lambda: _("Document opened"), lambda x: _("Document opened: “%(label)s”", label=x)),
    "document_read": _doc(lambda: _("Document opened"), lambda x: _("Document opened: “%(label)s”", label=x)),
    "document_downloaded": _doc(lambda: _("Document downloaded"),
                                lambda x: _("Document downloaded: “%(label)s”", label=x)),
    "document_printed": _doc(lambda: _("Document printed"), lambda x: _("Document printed: “%(label)s”", label=x)),
    "document_updated": _doc(lambda: _("Document updated"), lambda x: _("Document updated: “%(label)s”", label=x)),
    "document_hidden": _doc(lambda: _("Document hidden from professionals"),
                            lambda x: _("Document hidden from professionals: “%(label)s”", label=x)),
    "document_shown": _doc(lambda: _("Document visible to professionals again"),
                           lambda x: _("Document visible to professionals again: “%(label)s”", label=x)),
    "document_unhidden": _doc(lambda: _("Document visible to professionals again"),
                              lambda x: _("Document visible to professionals again: “%(label)s”", label=x)),
    "document_deleted": _doc(lambda: _("Document deleted"), lambda x: _("Document deleted: “%(label)s”", label=x)),
    "documents_exported": lambda d, t: _("Documents downloaded"),
    # Professionals, shares, apps, emergency
    "share_created": _labelled(lambda: _("Access shared with a professional"),
                               lambda x: _("Access shared: “%(label)s”", label=x)),
    "share_printed": _labelled(lambda: _("Share code printed"),
                               lambda x: _("Share code printed: “%(label)s”", label=x)),
    "share_revoked": _labelled(lambda: _("Shared access revoked"),
                               lambda x: _("Shared access revoked: “%(label)s”", label=x)),
    "shares_revoked_all": lambda d, t: _shares_revoked_all(d),
    "grant_created": _labelled(lambda: _("Permanent access given to a professional"),
                               lambda x: _("Permanent access given: %(label)s", label=x)),
    "grant_ended": _labelled(lambda: _("Permanent access ended"),
                             lambda x: _("Permanent access ended: %(label)s", label=x)),
    "professional_blocked": _labelled(lambda: _("Professional blocked"),
                                      lambda x: _("Professional blocked: %(label)s", label=x)),
    "professional_unblocked": _labelled(lambda: _("Professional unblocked"),
                                        lambda x: _("Professional unblocked: %(label)s", label=x)),
    "emergency_settings_updated": lambda d, t: _("Emergency access settings changed"),
    "notification_preferences_updated": lambda d, t: _("Choices of how to be told changed"),
    "access_flagged": _labelled(lambda: _("Access reported as unexpected"),
                                lambda x: _("Access reported as unexpected: %(label)s", label=x)),
    "share_used": lambda d, t: _("Shared access used by a professional"),
    "share_code_failed": lambda d, t: _("Wrong share code entered"),
    "emergency_access": lambda d, t: _("Emergency access to your space"),
    "emergency_access_refused": lambda d, t: _("Emergency access refused"),
    "share_opened": lambda d, t: (_("Shared access opened by a professional with the link")
                                  if d.get("via") == "link" else _("Shared access opened by a professional with the code")),
    "share_session_ended": lambda d, t: _("A professional ended their access"),
    "record_viewed": lambda d, t: _record_viewed(d, t),
    "document_deposited": _doc(lambda: _("Document added by a professional"),
                               lambda x: _("Document added by a professional: “%(label)s”", label=x)),
    "app_authorized": _labelled(lambda: _("Application connected"),
                                lambda x: _("Application connected: “%(label)s”", label=x)),
    "app_revoked": _labelled(lambda: _("Application disconnected"),
                             lambda x: _("Application disconnected: “%(label)s”", label=x)),
    "profile_updated": lambda d, t: _profile(d, lambda: _("Profile updated"),
                                             lambda x: _("Health profile updated: %(section)s", section=x)),
    "profile_item_added": lambda d, t: _profile(d, lambda: _("Added to the health profile"),
                                                lambda x: _("Added to the health profile: %(section)s", section=x)),
    "profile_item_removed": lambda d, t: _profile(d, lambda: _("Removed from the health profile"),
                                                  lambda x: _("Removed from the health profile: %(section)s",
                                                              section=x)),
    "export": lambda d, t: _("Data downloaded"),
    "measure_added": lambda d, t: _measure(d, _("Measure added"), lambda k: _("Measure added: %(kind)s", kind=k)),
    "measure_corrected": lambda d, t: _measure(d, _("Measure corrected"),
                                               lambda k: _("Measure corrected: %(kind)s", kind=k)),
    "measure_deleted": lambda d, t: _measure(d, _("Measure deleted"), lambda k: _("Measure deleted: %(kind)s", kind=k)),
    "measures_exported": lambda d, t: _("All measures downloaded (CSV)"),
    "measures_import_started": lambda d, t: _("Import of measures started (%(format)s)", format=_import_format(d)),
    "measures_imported": lambda d, t: _measures_imported(d),
}

# Generic verbs some features record with a target (see ARCHITECTURE: "read", document).
GENERIC = {
    "read": (lambda: _("Consulted"), lambda x: _("Consulted: “%(label)s”", label=x)),
    "create": (lambda: _("Added"), lambda x: _("Added: “%(label)s”", label=x)),
    "update": (lambda: _("Changed"), lambda x: _("Changed: “%(label)s”", label=x)),
    "delete": (lambda: _("Deleted"), lambda x: _("Deleted: “%(label)s”", label=x)),
}
GENERIC_DOCUMENT = {"read": "document_opened", "create": "document_added", "update": "document_updated",
                    "delete": "document_deleted"}


def sentence(action: str, target_type: str | None = None, target_label: str | None = None,
             detail: dict | None = None) -> str:
    """The French-first sentence for one trace; never fails, whatever the code."""
    detail = detail if isinstance(detail, dict) else {}
    label = (target_label or "").strip()
    if action in GENERIC and target_type == "documents":
        action = GENERIC_DOCUMENT[action]
    if action in SENTENCES:
        return SENTENCES[action](detail, label)
    if action in GENERIC:
        plain, with_label = GENERIC[action]
        return with_label(label) if label else plain()
    what = (action or "").replace("_", " ").strip() or "?"
    if label:
        return _("Other activity (%(code)s): “%(label)s”", code=what, label=label)
    return _("Other activity (%(code)s)", code=what)


def is_failure(action: str) -> bool:
    return action in FAILED or action.endswith("_failed") or action.endswith("_refused")


ICONS = {
    "login": "log-in", "logout": "log-out", "login_failed": "triangle-alert", "password_changed": "lock",
    "passkey_added": "key-round", "passkey_removed": "key-round", "passkey_renamed": "key-round",
    "session_ended": "log-out", "sessions_ended": "log-out", "history_exported": "download",
    "space_activated": "circle-check", "activation_code_used": "mail", "login_unlocked": "lock",
    "activation_letter_requested": "mail", "reauthenticated": "shield-check",
    "document_added": "upload", "document_opened": "eye", "document_updated": "pencil",
    "profile_updated": "heart-pulse", "profile_item_added": "heart-pulse", "profile_item_removed": "heart-pulse",
    "document_hidden": "eye-off", "document_shown": "eye", "document_deleted": "trash-2",
    "measure_added": "activity", "measure_corrected": "pencil", "measure_deleted": "trash-2",
    "measures_exported": "download", "measures_import_started": "file-up", "measures_imported": "file-up",
    "record_viewed": "eye", "document_deposited": "upload", "share_opened": "stethoscope",
    "share_created": "qr-code", "share_printed": "printer", "share_revoked": "x", "shares_revoked_all": "x", "grant_created": "stethoscope",
    "grant_ended": "x", "professional_blocked": "lock", "professional_unblocked": "lock",
    "emergency_settings_updated": "settings", "notification_preferences_updated": "bell",
    "access_flagged": "triangle-alert",
}


def icon(action: str, target_type: str | None = None) -> str:
    if is_failure(action):
        return "triangle-alert"
    if action in ICONS:
        return ICONS[action]
    if action.startswith("document") or target_type == "documents":
        return "file-text"
    if action.startswith("share"):
        return "share-2"
    if action.startswith("emergency"):
        return "heart-pulse"
    return "activity"

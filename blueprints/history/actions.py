"""What each trace means, in a sentence the holder understands.

Every action code any feature records (core.audit.Action) maps to a sentence here, and only
those; a trace under a code no longer recorded still reads sensibly through the fallback.
Sentences are built at request time (gettext), so they follow the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable

from blueprints.measures.kinds import KINDS
from blueprints.measures.services import SOURCES
from blueprints.profile.sections import section_title
from core.audit import Action
from core.i18n import gettext as _, ngettext

# Actions that tell of a failure or a refusal: shown with a warning mark, and listed
# under the "failed attempts and unknown people" filter.
FAILED = frozenset(
    {
        Action.LOGIN_FAILED,
        Action.ACTIVATION_FAILED,
        Action.REAUTHENTICATION_FAILED,
        Action.ACCESS_DENIED,
        Action.SHARE_CODE_FAILED,
        Action.EMERGENCY_ACCESS_REFUSED,
    }
)

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
    if detail.get("method") == "kiosk-qr":
        return _("Login at the public kiosk “%(kiosk)s”, approved from your phone", kiosk=detail.get("kiosk") or "?")
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
    return {
        "documents": lambda: _("List of your documents consulted"),
        "summary": lambda: _("Health summary consulted"),
        "measures": lambda: _("Measures consulted"),
        "deposit": lambda: _("Form to add a document to your space opened"),
        "agenda": lambda: _("Appointments with you consulted"),
    }.get(page, lambda: _("Your space consulted"))()


def _measure(detail: dict, plain: str, with_kind: Callable[[str], str]) -> str:
    """Measure traces name the kind (weight, blood pressure), never the value."""
    kind = KINDS.get(detail.get("kind") or "")
    return with_kind(str(kind.label).lower()) if kind else plain


def _import_format(detail: dict) -> str:
    return str(SOURCES.get(detail.get("format"), "?"))


def _measures_imported(detail: dict) -> str:
    added = int(detail.get("added") or 0)
    return ngettext(
        "Measures imported (%(format)s): %(num)d added",
        "Measures imported (%(format)s): %(num)d added",
        added,
        format=_import_format(detail),
    )


def _statement_format(detail: dict) -> str:
    return str({"releve": _("statement file"), "eob": _("FHIR file")}.get(detail.get("format"), "?"))


def _reimbursements_imported(detail: dict) -> str:
    added = int(detail.get("added") or 0)
    return ngettext(
        "Reimbursements imported (%(format)s): %(num)d line added",
        "Reimbursements imported (%(format)s): %(num)d lines added",
        added,
        format=_statement_format(detail),
    )


def _reimbursements_exported(detail: dict) -> str:
    start, end = detail.get("start") or "?", detail.get("end") or "?"
    if detail.get("format") == "pdf":
        return _("Reimbursement statement downloaded (PDF, %(start)s to %(end)s)", start=start, end=end)
    return _("Reimbursements downloaded (CSV, %(start)s to %(end)s)", start=start, end=end)


def _profile(detail: dict, plain: Callable[[], str], with_section: Callable[[str], str]) -> str:
    """Profile traces name the section, never the health data itself."""
    title = section_title(detail.get("section"))
    return with_section(title) if title else plain()


def _labelled(plain: Callable[[], str], with_label: Callable[[str], str]):
    """A sentence that names its target when the trace kept one."""
    return lambda detail, label: with_label(label) if label else plain()


def _doc(plain, with_label):
    return _labelled(plain, with_label)


_OPENED = _doc(lambda: _("Document opened"), lambda x: _("Document opened: “%(label)s”", label=x))
_DOWNLOADED = _doc(lambda: _("Document downloaded"), lambda x: _("Document downloaded: “%(label)s”", label=x))


# What an app read or wrote, named for the holder ("vos mesures de poids"), never the values.
APP_RESOURCES = {
    "Patient": lambda: _("your identity"),
    "Observation": lambda: _("your measures"),
    "DocumentReference": lambda: _("your documents"),
    "Binary": lambda: _("the file of a document"),
    "AllergyIntolerance": lambda: _("your allergies"),
    "MedicationStatement": lambda: _("your treatments"),
    "Condition": lambda: _("your medical history"),
    "Immunization": lambda: _("your vaccinations"),
    "AuditEvent": lambda: _("the history of your space"),
    "Consent": lambda: _("what you allowed it"),
    "Appointment": lambda: _("your appointments"),
    "ExplanationOfBenefit": lambda: _("your reimbursements"),
}


def _app_what(detail: dict) -> str:
    kind = KINDS.get(detail.get("kind") or "")
    if detail.get("resource") == "Observation" and kind:
        return _("your %(kind)s measures", kind=str(kind.label).lower())
    return APP_RESOURCES.get(detail.get("resource"), lambda: _("your data"))()


def _app_read(detail: dict, label: str) -> str:
    return _("The app %(app)s read %(what)s", app=detail.get("app") or "?", what=_app_what(detail))


def _app_wrote(detail: dict, label: str) -> str:
    if detail.get("resource") == "DocumentReference":
        if label:
            return _("The app %(app)s added a document: “%(label)s”", app=detail.get("app") or "?", label=label)
        return _("The app %(app)s added a document", app=detail.get("app") or "?")
    return _("The app %(app)s added to %(what)s", app=detail.get("app") or "?", what=_app_what(detail))


SENTENCES: dict[Action, Callable[[dict, str], str]] = {
    # Authentication and the life of the space
    Action.LOGIN: _login,
    Action.LOGIN_FAILED: _login_failed,
    Action.LOGOUT: lambda d, t: _("Logout"),
    Action.ACTIVATION_CODE_USED: lambda d, t: _("Activation code used"),
    Action.ACTIVATION_FAILED: lambda d, t: _("Failed activation attempt"),
    Action.SPACE_ACTIVATED: lambda d, t: _("Space activated"),
    Action.ACTIVATION_LETTER_REQUESTED: lambda d, t: _("New activation letter requested"),
    Action.LOGIN_UNLOCKED: lambda d, t: _("Password login unlocked with the link sent by mail"),
    Action.KIOSK_APPROVED: lambda d, t: _(
        "You opened your space on the public kiosk “%(kiosk)s” from your phone", kiosk=d.get("kiosk") or "?"
    ),
    Action.REAUTHENTICATED: lambda d, t: _("Identity confirmed before a sensitive action"),
    Action.REAUTHENTICATION_FAILED: lambda d, t: _("Identity confirmation failed"),
    Action.PASSWORD_CHANGED: lambda d, t: _("Password changed"),
    Action.PASSKEY_ADDED: _labelled(lambda: _("Passkey added"), lambda x: _("Passkey added: “%(label)s”", label=x)),
    Action.PASSKEY_REMOVED: _labelled(
        lambda: _("Passkey removed"), lambda x: _("Passkey removed: “%(label)s”", label=x)
    ),
    Action.PASSKEY_RENAMED: _renamed,
    Action.SESSION_ENDED: lambda d, t: _("A session was ended"),
    Action.SESSIONS_ENDED: _sessions_ended,
    Action.ACCESS_DENIED: lambda d, t: _("Access refused to a page"),
    Action.HISTORY_EXPORTED: lambda d, t: _("Access history downloaded"),
    # Documents
    Action.DOCUMENT_ADDED: _doc(lambda: _("Document added"), lambda x: _("Document added: “%(label)s”", label=x)),
    Action.DOCUMENT_OPENED: lambda d, t: (_DOWNLOADED if d.get("how") == "download" else _OPENED)(d, t),
    Action.DOCUMENT_DOWNLOADED: _doc(
        lambda: _("Document downloaded"), lambda x: _("Document downloaded: “%(label)s”", label=x)
    ),
    Action.DOCUMENT_UPDATED: _doc(lambda: _("Document updated"), lambda x: _("Document updated: “%(label)s”", label=x)),
    Action.DOCUMENT_HIDDEN: _doc(
        lambda: _("Document hidden from professionals"),
        lambda x: _("Document hidden from professionals: “%(label)s”", label=x),
    ),
    Action.DOCUMENT_SHOWN: _doc(
        lambda: _("Document visible to professionals again"),
        lambda x: _("Document visible to professionals again: “%(label)s”", label=x),
    ),
    Action.DOCUMENT_DELETED: _doc(lambda: _("Document deleted"), lambda x: _("Document deleted: “%(label)s”", label=x)),
    # Professionals, shares, apps, emergency
    Action.SHARE_CREATED: _labelled(
        lambda: _("Access shared with a professional"), lambda x: _("Access shared: “%(label)s”", label=x)
    ),
    Action.SHARE_PRINTED: _labelled(
        lambda: _("Share code printed"), lambda x: _("Share code printed: “%(label)s”", label=x)
    ),
    Action.SHARE_REVOKED: _labelled(
        lambda: _("Shared access revoked"), lambda x: _("Shared access revoked: “%(label)s”", label=x)
    ),
    Action.SHARES_REVOKED_ALL: lambda d, t: _shares_revoked_all(d),
    Action.GRANT_CREATED: _labelled(
        lambda: _("Permanent access given to a professional"), lambda x: _("Permanent access given: %(label)s", label=x)
    ),
    Action.GRANT_ENDED: _labelled(
        lambda: _("Permanent access ended"), lambda x: _("Permanent access ended: %(label)s", label=x)
    ),
    Action.PROFESSIONAL_BLOCKED: _labelled(
        lambda: _("Professional blocked"), lambda x: _("Professional blocked: %(label)s", label=x)
    ),
    Action.PROFESSIONAL_UNBLOCKED: _labelled(
        lambda: _("Professional unblocked"), lambda x: _("Professional unblocked: %(label)s", label=x)
    ),
    Action.EMERGENCY_SETTINGS_UPDATED: lambda d, t: _("Emergency access settings changed"),
    Action.NOTIFICATION_PREFERENCES_UPDATED: lambda d, t: _("Choices of how to be told changed"),
    Action.ACCESS_FLAGGED: _labelled(
        lambda: _("Access reported as unexpected"), lambda x: _("Access reported as unexpected: %(label)s", label=x)
    ),
    Action.SHARE_CODE_FAILED: lambda d, t: _("Wrong share code entered"),
    Action.EMERGENCY_ACCESS: lambda d, t: _("Emergency access to your space"),
    Action.EMERGENCY_ACCESS_REFUSED: lambda d, t: _("Emergency access refused"),
    Action.SHARE_OPENED: lambda d, t: (
        _("Shared access opened by a professional with the link")
        if d.get("via") == "link"
        else _("Shared access opened by a professional with the code")
    ),
    Action.SHARE_SESSION_ENDED: lambda d, t: _("A professional ended their access"),
    Action.RECORD_VIEWED: lambda d, t: _record_viewed(d, t),
    Action.DOCUMENT_DEPOSITED: _doc(
        lambda: _("Document added by a professional"),
        lambda x: _("Document added by a professional: “%(label)s”", label=x),
    ),
    Action.PROFILE_UPDATED: lambda d, t: _profile(
        d, lambda: _("Profile updated"), lambda x: _("Health profile updated: %(section)s", section=x)
    ),
    Action.PROFILE_ITEM_ADDED: lambda d, t: _profile(
        d, lambda: _("Added to the health profile"), lambda x: _("Added to the health profile: %(section)s", section=x)
    ),
    Action.PROFILE_ITEM_REMOVED: lambda d, t: _profile(
        d,
        lambda: _("Removed from the health profile"),
        lambda x: _("Removed from the health profile: %(section)s", section=x),
    ),
    Action.MEASURE_ADDED: lambda d, t: _measure(d, _("Measure added"), lambda k: _("Measure added: %(kind)s", kind=k)),
    Action.MEASURE_CORRECTED: lambda d, t: _measure(
        d, _("Measure corrected"), lambda k: _("Measure corrected: %(kind)s", kind=k)
    ),
    Action.MEASURE_DELETED: lambda d, t: _measure(
        d, _("Measure deleted"), lambda k: _("Measure deleted: %(kind)s", kind=k)
    ),
    Action.MEASURES_EXPORTED: lambda d, t: _("All measures downloaded (CSV)"),
    Action.MEASURES_IMPORT_STARTED: lambda d, t: _("Import of measures started (%(format)s)", format=_import_format(d)),
    Action.MEASURES_IMPORTED: lambda d, t: _measures_imported(d),
    # Agenda: traces name whom and when, never the reason
    Action.APPOINTMENT_ADDED: _labelled(
        lambda: _("Appointment added"), lambda x: _("Appointment added: %(label)s", label=x)
    ),
    Action.APPOINTMENT_UPDATED: _labelled(
        lambda: _("Appointment changed"), lambda x: _("Appointment changed: %(label)s", label=x)
    ),
    Action.APPOINTMENT_DELETED: _labelled(
        lambda: _("Appointment removed"), lambda x: _("Appointment removed: %(label)s", label=x)
    ),
    Action.APPOINTMENT_PROPOSED: lambda d, t: _("Appointment proposed to you"),
    Action.APPOINTMENT_ACCEPTED: _labelled(
        lambda: _("Appointment accepted"), lambda x: _("Appointment accepted: %(label)s", label=x)
    ),
    Action.APPOINTMENT_DECLINED: _labelled(
        lambda: _("Appointment declined"), lambda x: _("Appointment declined: %(label)s", label=x)
    ),
    Action.APPOINTMENT_COUNTERED: _labelled(
        lambda: _("Another time asked for an appointment"),
        lambda x: _("Another time asked for the appointment with %(label)s", label=x),
    ),
    Action.APPOINTMENT_CONFIRMED: lambda d, t: _("The time you asked for was accepted"),
    Action.APPOINTMENT_REPROPOSED: lambda d, t: _("Another time proposed to you for an appointment"),
    Action.APPOINTMENT_CANCELLED: lambda d, t: (
        _("Appointment cancelled by you: %(label)s", label=t)
        if d.get("by") == "holder" and t
        else _("Appointment cancelled")
    ),
    Action.PREVENTION_MARKED: lambda d, t: {
        "done": lambda: _("Prevention calendar: an item marked done"),
        "dismissed": lambda: _("Prevention calendar: an item dismissed"),
    }.get(d.get("status"), lambda: _("Prevention calendar: an item brought back"))(),
    Action.PREVENTION_SETTINGS_UPDATED: lambda d, t: (
        _("Prevention calendar turned on") if d.get("enabled") else _("Prevention calendar turned off")
    ),
    Action.CALENDAR_FEED_CREATED: lambda d, t: _("Calendar subscription link created"),
    Action.CALENDAR_FEED_UPDATED: lambda d, t: _("Calendar subscription changed"),
    Action.CALENDAR_FEED_REVOKED: lambda d, t: _("Calendar subscription link ended"),
    Action.MESSAGE_SENT: lambda d, t: _("Message sent: “%(label)s”", label=t) if t else _("Message sent"),
    Action.MESSAGE_THREAD_READ: lambda d, t: (
        _("Conversation read by a professional: “%(label)s”", label=t)
        if t
        else _("Conversation read by a professional")
    ),
    Action.MESSAGE_THREAD_CLOSED: lambda d, t: (
        _("Conversation closed: “%(label)s”", label=t) if t else _("Conversation closed")
    ),
    Action.MESSAGES_REFUSED: lambda d, t: (
        _("New conversations refused from %(name)s", name=t) if t else _("New conversations refused")
    ),
    Action.MESSAGES_ALLOWED: lambda d, t: (
        _("New conversations accepted again from %(name)s", name=t) if t else _("New conversations accepted again")
    ),
    Action.REIMBURSEMENTS_IMPORT_STARTED: lambda d, t: _(
        "Import of reimbursements started (%(format)s)", format=_statement_format(d)
    ),
    Action.REIMBURSEMENTS_IMPORTED: lambda d, t: _reimbursements_imported(d),
    Action.REIMBURSEMENTS_EXPORTED: lambda d, t: _reimbursements_exported(d),
    Action.SUMMARY_PRINTED: lambda d, t: (
        _("Emergency card printed (PDF)") if d.get("format") == "card" else _("Health summary printed (PDF)")
    ),
    Action.SUMMARY_KEPT: _doc(
        lambda: _("Health summary kept in your documents"),
        lambda x: _("Health summary kept in your documents: “%(label)s”", label=x),
    ),
    Action.APP_CONNECTED: _labelled(lambda: _("App connected"), lambda x: _("App connected: %(label)s", label=x)),
    Action.APP_DISCONNECTED: _labelled(
        lambda: _("App disconnected"), lambda x: _("App disconnected: %(label)s", label=x)
    ),
    Action.APP_PURPOSES_CHANGED: _labelled(
        lambda: _("Uses allowed to an app changed"), lambda x: _("Uses allowed to an app changed: %(label)s", label=x)
    ),
    Action.APP_READ: _app_read,
    Action.APP_WROTE: _app_wrote,
    # The life of the space (blueprints/lifecycle)
    Action.SPACES_PROVISIONED: lambda d, t: _("Spaces created from the health insurance population file"),
    Action.SPACE_OPPOSED: lambda d, t: _("Objection to the space recorded: the space and its content were deleted"),
    Action.OPPOSITION_FAILED: lambda d, t: _("Failed attempt to object to a space"),
    Action.SPACE_OPENED_BY_DEFAULT: lambda d, t: _(
        "No objection within 6 weeks: the space is open to documents from professionals"
    ),
    Action.SPACE_CLOSED: lambda d, t: _("Space closed: every access ended"),
    Action.SPACE_REOPENED: lambda d, t: _("Closed space reopened: a new activation letter was sent"),
    Action.SPACE_DELETION_REQUESTED: lambda d, t: _("Deletion of the closed space requested"),
    Action.SPACE_DELETED: lambda d, t: _("Space and its content deleted"),
    Action.SPACE_HANDED_OVER: lambda d, t: _(
        "Coming of age: the space is now its holder's own; legal guardians no longer have access"
    ),
    Action.EXPORT_PREPARED: lambda d, t: (
        _("Copy of all the data prepared (zip, downloadable 7 days)")
        if d.get("status") == "done"
        else _("Copy of all the data: preparation failed")
    ),
    Action.EXPORT_DOWNLOADED: lambda d, t: _("Copy of all the data downloaded (zip)"),
    Action.SPACE_IMPORTED: lambda d, t: _(
        "Data imported from a Carnet export (%(documents)d documents, %(measures)d measures)",
        documents=int(d.get("documents") or 0),
        measures=int(d.get("measures") or 0),
    ),
    # Helpers (blueprints/helpers)
    Action.HELPER_INVITED: _labelled(lambda: _("Helper invited"), lambda x: _("Helper invited: %(label)s", label=x)),
    Action.HELPER_ACCEPTED: lambda d, t: _("Invitation to help you accepted"),
    Action.HELPER_DECLINED: lambda d, t: _("Invitation to help you declined"),
    Action.HELPER_SCOPE_CHANGED: _labelled(
        lambda: _("What a helper may do changed"), lambda x: _("What a helper may do changed: %(label)s", label=x)
    ),
    Action.HELPER_ENDED: _labelled(
        lambda: _("Helper's access ended"), lambda x: _("Helper's access ended: %(label)s", label=x)
    ),
    Action.GUARDIAN_ADDED: lambda d, t: _guardian(d, t, added=True),
    Action.GUARDIAN_REMOVED: lambda d, t: _guardian(d, t, added=False),
}


def _guardian(detail: dict, label: str, added: bool) -> str:
    """A guardian added or removed, and on whose word: the insurer's file or a paper request."""
    name = label or _("a person")
    if detail.get("source") == "paper":
        if added:
            return _("Legal guardian added on a request on paper: %(name)s", name=name)
        return _("Legal guardian removed on a request on paper: %(name)s", name=name)
    if added:
        return _("Legal guardian added by the health insurance population file: %(name)s", name=name)
    return _("Legal guardian removed by the health insurance population file: %(name)s", name=name)


def sentence(
    action: str, target_type: str | None = None, target_label: str | None = None, detail: dict | None = None
) -> str:
    """The French-first sentence for one trace; never fails, whatever the code."""
    detail = detail if isinstance(detail, dict) else {}
    label = (target_label or "").strip()
    if action in SENTENCES:
        return SENTENCES[action](detail, label)
    what = (action or "").replace("_", " ").strip() or "?"
    if label:
        return _("Other activity (%(code)s): “%(label)s”", code=what, label=label)
    return _("Other activity (%(code)s)", code=what)


def is_failure(action: str) -> bool:
    return action in FAILED or action.endswith("_failed") or action.endswith("_refused")


ICONS = {
    Action.LOGIN: "log-in",
    Action.LOGOUT: "log-out",
    Action.LOGIN_FAILED: "triangle-alert",
    Action.PASSWORD_CHANGED: "lock",
    Action.PASSKEY_ADDED: "key-round",
    Action.PASSKEY_REMOVED: "key-round",
    Action.PASSKEY_RENAMED: "key-round",
    Action.SESSION_ENDED: "log-out",
    Action.SESSIONS_ENDED: "log-out",
    Action.HISTORY_EXPORTED: "download",
    Action.SPACE_ACTIVATED: "circle-check",
    Action.LOGIN_UNLOCKED: "lock",
    Action.KIOSK_APPROVED: "qr-code",
    Action.ACTIVATION_LETTER_REQUESTED: "mail",
    Action.DOCUMENT_ADDED: "upload",
    Action.DOCUMENT_OPENED: "eye",
    Action.PROFILE_UPDATED: "heart-pulse",
    Action.PROFILE_ITEM_ADDED: "heart-pulse",
    Action.PROFILE_ITEM_REMOVED: "heart-pulse",
    Action.DOCUMENT_HIDDEN: "eye-off",
    Action.DOCUMENT_SHOWN: "eye",
    Action.DOCUMENT_DELETED: "trash-2",
    Action.MEASURE_ADDED: "activity",
    Action.MEASURE_CORRECTED: "pencil",
    Action.MEASURE_DELETED: "trash-2",
    Action.MEASURES_EXPORTED: "download",
    Action.SUMMARY_PRINTED: "printer",
    Action.SUMMARY_KEPT: "file-text",
    Action.MEASURES_IMPORTED: "file-up",
    Action.REIMBURSEMENTS_IMPORTED: "file-up",
    Action.REIMBURSEMENTS_EXPORTED: "download",
    Action.RECORD_VIEWED: "eye",
    Action.SHARE_OPENED: "stethoscope",
    Action.SHARE_CREATED: "qr-code",
    Action.SHARE_PRINTED: "printer",
    Action.SHARE_REVOKED: "x",
    Action.SHARES_REVOKED_ALL: "x",
    Action.GRANT_CREATED: "stethoscope",
    Action.GRANT_ENDED: "x",
    Action.PROFESSIONAL_BLOCKED: "lock",
    Action.PROFESSIONAL_UNBLOCKED: "lock",
    Action.EMERGENCY_SETTINGS_UPDATED: "settings",
    Action.NOTIFICATION_PREFERENCES_UPDATED: "bell",
    Action.ACCESS_FLAGGED: "triangle-alert",
    Action.APPOINTMENT_ADDED: "calendar",
    Action.APPOINTMENT_UPDATED: "calendar",
    Action.APPOINTMENT_DELETED: "calendar",
    Action.APPOINTMENT_PROPOSED: "calendar",
    Action.APPOINTMENT_ACCEPTED: "calendar",
    Action.APPOINTMENT_DECLINED: "calendar",
    Action.APPOINTMENT_COUNTERED: "calendar",
    Action.APPOINTMENT_CONFIRMED: "calendar",
    Action.APPOINTMENT_REPROPOSED: "calendar",
    Action.APPOINTMENT_CANCELLED: "calendar",
    Action.PREVENTION_MARKED: "syringe",
    Action.PREVENTION_SETTINGS_UPDATED: "settings",
    Action.CALENDAR_FEED_CREATED: "calendar",
    Action.CALENDAR_FEED_UPDATED: "calendar",
    Action.CALENDAR_FEED_REVOKED: "x",
    Action.MESSAGE_SENT: "message-square",
    Action.MESSAGE_THREAD_READ: "message-square",
    Action.MESSAGE_THREAD_CLOSED: "message-square",
    Action.MESSAGES_REFUSED: "lock",
    Action.MESSAGES_ALLOWED: "message-square",
    Action.APP_CONNECTED: "smartphone",
    Action.APP_DISCONNECTED: "x",
    Action.APP_READ: "eye",
    Action.APP_PURPOSES_CHANGED: "settings",
    Action.APP_WROTE: "upload",
    Action.SPACE_CLOSED: "lock",
    Action.HELPER_INVITED: "users",
    Action.HELPER_ACCEPTED: "users",
    Action.HELPER_DECLINED: "users",
    Action.HELPER_SCOPE_CHANGED: "users",
    Action.HELPER_ENDED: "users",
    Action.SPACE_REOPENED: "circle-check",
    Action.SPACE_OPENED_BY_DEFAULT: "circle-check",
    Action.SPACE_DELETED: "trash-2",
    Action.SPACE_OPPOSED: "trash-2",
    Action.EXPORT_PREPARED: "download",
    Action.EXPORT_DOWNLOADED: "download",
    Action.SPACE_IMPORTED: "upload",
    Action.GUARDIAN_ADDED: "users",
    Action.GUARDIAN_REMOVED: "users",
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

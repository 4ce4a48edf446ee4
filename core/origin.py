"""Where a request comes from, in words a person recognises (the device of a session, the
origin of a trace). Apart from core.web so the audit trail can use it: web -> access -> audit."""

from __future__ import annotations

from functools import lru_cache

import ua_parser
from flask import g, has_request_context, request, session

from core.i18n import gettext as _

# Phones and tablets, by what ua-parser names (the rules user-agents applied on the same data).
HANDHELD_OS = frozenset(
    {
        "iOS",
        "Android",
        "Firefox OS",
        "BlackBerry OS",
        "KaiOS",
        "Windows Phone",
        "Windows Phone OS",
        "Symbian OS",
        "Bada",
        "Windows CE",
        "Windows Mobile",
        "Maemo",
    }
)
HANDHELD_DEVICES = frozenset(
    {
        "iPhone",
        "iPod",
        "iPad",
        "iOS-Device",
        "Generic Smartphone",
        "Generic Feature Phone",
        "Generic Tablet",
        "PlayStation Vita",
        "BlackBerry Playbook",
        "Kindle",
        "Kindle Fire",
        "Kindle Fire HD",
        "Galaxy Tab",
        "Xoom",
        "Dell Streak",
    }
)
HANDHELD_BROWSERS = frozenset(
    {"IE Mobile", "Opera Mobile", "Opera Mini", "Chrome Mobile", "Chrome Mobile WebView", "Chrome Mobile iOS"}
)


@lru_cache(maxsize=512)
def _device(ua_string: str) -> ua_parser.Result:
    return ua_parser.parse(ua_string)


def device_label(ua_string: str) -> str:
    """ "Firefox sur Windows": what a person recognises in their list of sessions."""
    ua = _device(ua_string or "")
    browser = ua.user_agent.family if ua.user_agent and ua.user_agent.family != "Other" else ""
    system = ua.os.family if ua.os and ua.os.family != "Other" else ""
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or _("Unknown device")


def device_is_handheld(ua_string: str) -> bool:
    ua = _device(ua_string or "")
    return bool(
        (ua.os and ua.os.family in HANDHELD_OS)
        or (ua.device and ua.device.family in HANDHELD_DEVICES)
        or (ua.user_agent and ua.user_agent.family in HANDHELD_BROWSERS)
    )


def request_origin() -> dict:
    """Where a trace comes from: IP, device, kiosk."""
    if not has_request_context():
        return {"ip": None, "device": "cli", "kiosk": None}
    record = getattr(session, "record", None)
    return {
        "ip": request.remote_addr,
        "device": device_label(request.user_agent.string or "")[:120],
        "kiosk": bool(record is not None and record.kiosk) or g.get("kiosk") is not None,
    }

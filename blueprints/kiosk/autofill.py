"""At a kiosk the browser keeps no secret: every page a kiosk session receives is rewritten so
that no field is remembered or offered back to the next person. Done once, on the way out,
for every HTML answer (pages and htmx fragments alike), so that no template can forget it:

- every field and form gets autocomplete="off" (a password field "new-password", the value
  Chromium reads as "do not offer to save this one"); whatever the template asked is replaced;
- no <datalist> (suggestions the page would carry) and no `list` attribute pointing to one;
- an e-mail or password field is never prefilled (no value attribute).

What stays the kiosk operator's work (README, "Public kiosks"): the browser's own settings
(password manager and autofill off, a guest or ephemeral profile)."""

from __future__ import annotations

import re

# A start tag with its attributes, quoted values read whole (a ">" inside quotes is no end).
_ATTRS = r"""((?:\s+[^\s=>/"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)"""
_FIELD = re.compile(r"<(input|select|textarea|form)\b" + _ATTRS + r"\s*(/?)>", re.IGNORECASE)
_ATTR = re.compile(r"""\s+([^\s=>/"']+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>"']+))?""")
_DATALIST = re.compile(r"<datalist\b.*?</datalist\s*>", re.IGNORECASE | re.DOTALL)
DROPPED = {"autocomplete", "list"}
SECRET_NAMES = {"email", "username", "login", "password"}


def _value(raw: str | None) -> str:
    return raw[1:-1] if raw and raw[0] in "\"'" else (raw or "")


def _field(match: re.Match) -> str:
    tag, attrs, close = match.group(1).lower(), match.group(2) or "", match.group(3)
    pairs = [(m.group(1), m.group(2)) for m in _ATTR.finditer(attrs)]
    names = {name.lower(): _value(raw) for name, raw in pairs}
    kind = names.get("type", "text").lower()
    if tag == "input" and kind == "hidden":
        return match.group(0)  # never shown, never offered back (and "off" is not valid there)
    secret = kind in ("email", "password") or names.get("name", "").lower() in SECRET_NAMES
    kept = [
        (name, raw)
        for name, raw in pairs
        if name.lower() not in DROPPED and not (tag == "input" and secret and name.lower() == "value")
    ]
    autocomplete = "new-password" if kind == "password" else "off"
    out = "".join(f" {name}" if raw is None else f" {name}={raw}" for name, raw in kept)
    return f'<{match.group(1)}{out} autocomplete="{autocomplete}"{" /" if close else ""}>'


def no_autofill(html: str) -> str:
    """The page as a kiosk may show it (see the module's docstring)."""
    return _FIELD.sub(_field, _DATALIST.sub("", html))

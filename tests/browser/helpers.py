"""Browser helpers: Chromium's settings, the screen sizes, a page's problems, holders, the
outbox and the password login every journey shares (fixtures: conftest.py)."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tests.browser import axe
from tests.helpers import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
KIOSK = {"viewport": {"width": 1280, "height": 1024}}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"

# Virtual authenticator of the Chrome DevTools protocol: a platform passkey provider that
# verifies the user (as a fingerprint would) and answers without anyone touching it.
AUTHENTICATOR = {
    "options": {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
}


class PageProblems:
    """JavaScript errors, Content Security Policy violations and critical or serious axe-core
    findings seen by the pages of the contexts it watches.

    Chromium reports a violation in the console ("Refused to … because it violates the
    following Content Security Policy directive"); an init script also turns each
    `securitypolicyviolation` event into a console error, so nothing slips through."""

    CSP_MARK = "Content Security Policy"

    def __init__(self):
        self.messages: list[str] = []
        self.axe: list[axe.AxeRuns] = []

    def attach(self, context) -> None:
        self.axe.append(axe.watch(context))
        context.add_init_script(
            "document.addEventListener('securitypolicyviolation', function (e) {"
            " console.error('Content Security Policy violation: ' + e.violatedDirective + ' '"
            " + e.blockedURI + ' at ' + e.sourceFile + ':' + e.lineNumber); }, true);"
        )
        context.on("console", self._console)
        context.on("weberror", lambda err: self.messages.append(f"JS error: {err.error}"))

    def _console(self, msg) -> None:
        if msg.type == "error" or self.CSP_MARK in msg.text:
            self.messages.append(f"console {msg.type}: {msg.text} ({msg.location.get('url')})")

    def problems(self) -> list[str]:
        for runs in self.axe:
            runs.drain()
        return list(self.messages) + [m for runs in self.axe for m in runs.blocking]

    def screens(self) -> list[str]:
        """Every screen axe has checked so far (address, what led there, viewport)."""
        return [s for runs in self.axe for s in runs.screens]


CONTEXT_OPTIONS = {"locale": "fr-FR", "timezone_id": "Europe/Paris"}


def new_context(browser, base_url: str, viewport=PHONE, problems: PageProblems | None = None):
    context = browser.new_context(base_url=base_url, **CONTEXT_OPTIONS, **viewport)
    context.set_default_timeout(10_000)
    if problems is not None:
        problems.attach(context)
    return context


def settled(page) -> None:
    """Wait until htmx has settled what it swapped. htmx makes swapped content live (its
    hx-post, hx-get, boost) when it settles, 20 ms after the swap: a form sent before that goes
    as a plain post, which works but reloads the page, so a journey that answers a swapped form
    at once (a refused field retyped, say) waits for this first."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def add_virtual_authenticator(context, page) -> tuple[object, str]:
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", AUTHENTICATOR)
    return cdp, added["authenticatorId"]


# --- people and mail --------------------------------------------------------------------------


@dataclass
class Holder:
    email: str
    nir: str
    birth_date: date
    first_name: str
    family_name: str
    activation_code: str
    password: str = PASSWORD


_counter = {"n": 0}
_lock = threading.Lock()


def login_code_for(live_app, email: str, previous: str | None = None) -> str:
    """The 6-digit code of the newest login mail to `email` (never the `previous` one)."""
    from core import notify

    with live_app.app_context():
        mail = notify.latest_to(email)
    assert mail is not None, f"no mail to {email}"
    match = re.search(r"\b(\d{6})\b", mail.subject)
    assert match, f"no code in {mail.subject!r}"
    assert match.group(1) != previous, "no new login mail"
    return match.group(1)


def password_login(page, live_app, holder: Holder, on_code_page=None) -> None:
    """/connexion → email + password → /connexion/code → code from the outbox → dashboard."""
    from playwright.sync_api import expect

    page.goto("/connexion")
    form = page.locator("#login-form")
    form.locator("input[name=email]").fill(holder.email)
    form.locator("input[name=password]").fill(holder.password)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/connexion/code$"))
    code_input = page.locator("#code-form input[name=code]")
    expect(code_input).to_be_visible()
    if on_code_page is not None:
        on_code_page(page)
    code_input.fill(login_code_for(live_app, holder.email))
    page.locator("#code-form button[type=submit]").click()
    expect_dashboard(page, holder)


def expect_dashboard(page, holder: Holder) -> None:
    from playwright.sync_api import expect

    expect(page).to_have_url(re.compile(r"^http://localhost:\d+/$"))
    expect(page.locator("main h1")).to_have_text(greeting(holder))


def greeting(holder: Holder) -> re.Pattern:
    """The dashboard title. French is the product language; the English source string is
    accepted too while the French catalog is being completed."""
    return re.compile(rf"^\s*(Bonjour|Hello) {re.escape(holder.first_name)}\s*$")

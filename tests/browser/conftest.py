"""Browser fixtures: the real app served on http://localhost:PORT from a background thread,
Debian's Chromium driven by Playwright, a fresh browser context per test, and helpers for
the steps every journey shares (creating a holder, reading the outbox, logging in).

Pages are always opened on "localhost", never on an IP address: WebAuthn refuses IP hosts.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, valid_nir

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"

# Virtual authenticator of the Chrome DevTools protocol: a platform passkey provider that
# verifies the user (as a fingerprint would) and answers without anyone touching it.
AUTHENTICATOR = {"options": {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                             "hasUserVerification": True, "isUserVerified": True,
                             "automaticPresenceSimulation": True}}


# --- the live server --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The real app, with its own SQLite file and instance folder, served on localhost."""
    from werkzeug.serving import make_server

    from app import create_app
    from core.db import db

    root = tmp_path_factory.mktemp("carnet-browser")
    application = create_app({
        "ENV_NAME": "test", "DEMO": True,
        "DATABASE_URL": f"sqlite:///{root / 'browser.db'}",
        "SECRET_KEY": "browser-secret-key-" + "x" * 32, "CODE_PEPPER": "browser-pepper-" + "y" * 32,
        "WEBAUTHN_RP_ID": "localhost", "SERVER_NAME": None,
    }, instance_path=str(root / "instance"))
    with application.app_context():
        db.create_all()
    # Port 0: the system picks a free port; the WebAuthn origin follows it.
    server = make_server("localhost", 0, application, threaded=True)
    port = server.server_port
    application.config["WEBAUTHN_ORIGIN"] = f"http://localhost:{port}"
    application.config["LIVE_URL"] = f"http://localhost:{port}"
    thread = threading.Thread(target=server.serve_forever, name="carnet-live-server", daemon=True)
    thread.start()
    yield application
    server.shutdown()
    thread.join(timeout=10)
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def base_url(live_app) -> str:
    return live_app.config["LIVE_URL"]


# --- the browser ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright):
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


class PageProblems:
    """JavaScript errors and Content Security Policy violations seen by the pages of a context.

    Chromium reports a violation in the console ("Refused to … because it violates the
    following Content Security Policy directive"); an init script also turns each
    `securitypolicyviolation` event into a console error, so nothing slips through."""

    CSP_MARK = "Content Security Policy"

    def __init__(self):
        self.messages: list[str] = []

    def attach(self, context) -> None:
        context.add_init_script(
            "document.addEventListener('securitypolicyviolation', function (e) {"
            " console.error('Content Security Policy violation: ' + e.violatedDirective + ' '"
            " + e.blockedURI + ' at ' + e.sourceFile + ':' + e.lineNumber); }, true);")
        context.on("console", self._console)
        context.on("weberror", lambda err: self.messages.append(f"JS error: {err.error}"))

    def _console(self, msg) -> None:
        if msg.type == "error" or self.CSP_MARK in msg.text:
            self.messages.append(f"console {msg.type}: {msg.text} ({msg.location.get('url')})")

    def problems(self) -> list[str]:
        return list(self.messages)


CONTEXT_OPTIONS = {"locale": "fr-FR", "timezone_id": "Europe/Paris"}


def new_context(browser, base_url: str, viewport=PHONE, problems: PageProblems | None = None):
    context = browser.new_context(base_url=base_url, **CONTEXT_OPTIONS, **viewport)
    context.set_default_timeout(10_000)
    if problems is not None:
        problems.attach(context)
    return context


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def context(browser, base_url, problems):
    """A fresh phone-sized context per test; closed after it."""
    ctx = new_context(browser, base_url, PHONE, problems)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def profile_context(playwright, base_url, problems, tmp_path):
    """A context with a profile on disk, as a person's own browser has. Contexts made by
    new_context() are off the record, where Chromium never offers to install an app."""
    ctx = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
        base_url=base_url, **CONTEXT_OPTIONS, **PHONE)
    ctx.set_default_timeout(10_000)
    problems.attach(ctx)
    yield ctx
    ctx.close()


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


@pytest.fixture
def new_holder(live_app):
    """new_holder(pending=False) → Holder. Each one has its own name, email and NIR, so tests
    never see each other's data in the shared database."""
    from sqlalchemy import select

    from blueprints.auth import services
    from core.db import db
    from core.people import Account

    def factory(pending: bool = False, first_name: str = "Apolline") -> Holder:
        with _lock:
            _counter["n"] += 1
            n = _counter["n"]
        holder = Holder(email=f"patient{n}@example.fr", nir=valid_nir(f"2870375{300000 + n:06d}"),
                        birth_date=date(1987, 3, 14), first_name=first_name,
                        family_name=f"Durand-{chr(ord('A') + n % 26)}", activation_code="")
        with live_app.test_request_context():
            patient, code = services.create_pending_space(
                nir=holder.nir, email=holder.email, birth_date=holder.birth_date,
                given_names=holder.first_name, family_name=holder.family_name)
            if not pending:
                account = db.session.scalar(select(Account).where(Account.patient_id == patient.id))
                services.finish_activation(account, PASSWORD)
            db.session.commit()
        holder.activation_code = code
        return holder
    return factory


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

"""Browser fixtures: the real app served on http://localhost:PORT from a background thread,
Debian's Chromium driven by Playwright, a fresh browser context per test, new holders (the
steps every journey shares, reading the outbox and logging in, are in helpers.py).

Pages are always opened on "localhost", never on an IP address: WebAuthn refuses IP hosts.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest

from tests.browser.helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CONTEXT_OPTIONS,
    PHONE,
    Holder,
    PageProblems,
    _counter,
    _lock,
    new_context,
)
from tests.helpers import CHEAP_ARGON2, PASSWORD, valid_nir

# --- the live server --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The real app, with its own SQLite file and instance folder, served on localhost."""
    from werkzeug.serving import make_server

    from app import create_app
    from core.db import db

    root = tmp_path_factory.mktemp("carnet-browser")
    application = create_app(
        {
            "ENV_NAME": "test",
            "DEMO": True,
            "DATABASE_URL": f"sqlite:///{root / 'browser.db'}",
            "SECRET_KEY": "browser-secret-key-" + "x" * 32,
            "CODE_PEPPER": "browser-pepper-" + "y" * 32,
            "WEBAUTHN_RP_ID": "localhost",
            "SERVER_NAME": None,
            "CHECK_WRITE_INTENT": True,
            **CHEAP_ARGON2,
        },
        instance_path=str(root / "instance"),
    )
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
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        base_url=base_url,
        **CONTEXT_OPTIONS,
        **PHONE,
    )
    ctx.set_default_timeout(10_000)
    problems.attach(ctx)
    yield ctx
    ctx.close()


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
        holder = Holder(
            email=f"patient{n}@example.fr",
            nir=valid_nir(f"2870375{300000 + n:06d}"),
            birth_date=date(1987, 3, 14),
            first_name=first_name,
            family_name=f"Durand-{chr(ord('A') + n % 26)}",
            activation_code="",
        )
        with live_app.test_request_context(method="POST"):
            patient, code = services.create_pending_space(
                nir=holder.nir,
                email=holder.email,
                birth_date=holder.birth_date,
                given_names=holder.first_name,
                family_name=holder.family_name,
            )
            if not pending:
                account = db.session.scalar(select(Account).where(Account.patient_id == patient.id))
                services.finish_activation(account, PASSWORD)
            db.session.commit()
        holder.activation_code = code
        return holder

    return factory


@pytest.fixture(autouse=True)
def _patient_expectations():
    """The machine may be busy (CI shares two cores): an expectation waits for what the step
    caused (a navigation, a swap) up to 20 s instead of Playwright's 5; a step that is done
    sooner goes on at once."""
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)

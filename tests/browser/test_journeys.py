"""Real journeys of a holder on a phone, in Chromium: activation, passkeys, password + code,
ending a session from another device. Every journey also fails on a JavaScript error or a
Content Security Policy violation seen by its pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    PHONE,
    PageProblems,
    add_virtual_authenticator,
    expect_dashboard,
    new_context,
    password_login,
)

pytestmark = pytest.mark.browser

CLEAR_SITE_DATA = ('"cache"', '"cookies"', '"storage"')


def log_out(page):
    """Press the logout button of the top bar; returns the answer to the logout POST."""
    with page.expect_response(lambda r: r.url.endswith("/deconnexion") and r.request.method == "POST") as answer:
        page.locator("header .logout-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/connexion$"))
    page.wait_for_load_state()  # the login page's scripts have run: its passkey button answers a press
    return answer.value


def assert_clears_site_data(response) -> None:
    header = response.all_headers().get("clear-site-data", "")
    for directive in CLEAR_SITE_DATA:
        assert directive in header, f"logout must answer Clear-Site-Data with {directive}: {header!r}"


# The login page also offers passkeys in the email field's autofill (a conditional request),
# which the virtual authenticator answers at once, as if the person had picked the passkey
# there. To press the button instead, the browser says it has no such autofill, except on a
# page whose address asks for it (?autofill=1, a parameter the app ignores).
NO_PASSKEY_AUTOFILL = """
if (window.PublicKeyCredential && new URLSearchParams(location.search).get("autofill") !== "1") {
  PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
}
"""


def session_cookie(context) -> str | None:
    return next((c["value"] for c in context.cookies() if c["name"] == "carnet_session"), None)


def test_activate_add_passkey_then_log_in_with_it(page, context, new_holder, problems):
    holder = new_holder(pending=True)
    context.add_init_script(NO_PASSKEY_AUTOFILL)

    # The activation letter: NIR, date of birth, code.
    page.goto("/activation")
    form = page.locator("#activate-form")
    form.locator("input[name=nir]").fill(holder.nir)
    form.locator("input[name=birth_date]").fill(holder.birth_date.isoformat())
    form.locator("input[name=code]").fill(holder.activation_code)
    form.locator("button[type=submit]").click()

    # Choose a password: the space opens and invites to add a passkey.
    expect(page).to_have_url(re.compile(r"/activation/mot-de-passe$"))
    form = page.locator("#password-form")
    form.locator("input[name=password]").fill(holder.password)
    form.locator("input[name=confirm]").fill(holder.password)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/compte/cles-d-acces$"))
    expect(page.locator("#passkeys .empty-state")).to_be_visible()

    # Add a passkey, the phone's fingerprint being the virtual authenticator.
    cdp, authenticator = add_virtual_authenticator(context, page)
    page.locator("#passkey-name").fill("Mon téléphone")
    page.locator("[data-passkey-register] [data-passkey-button]").click()
    expect(page.locator("#passkeys .list-title")).to_have_text(["Mon téléphone"])
    expect(page.locator("[data-passkey-register] [data-passkey-error]")).to_be_hidden()
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(stored) == 1 and stored[0]["isResidentCredential"], "a discoverable passkey is expected"

    # Log out: the answer tells the browser to forget everything about the site, and the
    # login page it lands on starts a new anonymous session (its CSRF token).
    before = session_cookie(context)
    assert_clears_site_data(log_out(page))
    assert session_cookie(context) != before

    # Log in again with a single touch on "Log in with a passkey".
    with page.expect_response(lambda r: r.url.endswith("/connexion/passkey") and r.request.method == "POST") as answer:
        page.locator("[data-passkey-login] [data-passkey-button]").click()
    assert answer.value.status == 200
    expect_dashboard(page, holder)

    # Log out from the dashboard, then press Back: the dashboard must not come back.
    assert_clears_site_data(log_out(page))
    page.go_back()
    expect(page).to_have_url(re.compile(r"/connexion(\?.*)?$"))
    expect(page.locator("main")).not_to_contain_text(holder.first_name)
    content = page.content()
    assert holder.nir not in content and holder.email not in content

    # The passkey offered in the email field's autofill logs in as well.
    with page.expect_response(lambda r: r.url.endswith("/connexion/passkey") and r.request.method == "POST") as answer:
        page.goto("/connexion?autofill=1")
    assert answer.value.status == 200
    expect_dashboard(page, holder)

    assert problems.problems() == []


def test_password_and_one_time_code(page, live_app, new_holder, problems):
    holder = new_holder()
    password_login(page, live_app, holder)
    # The dashboard shows the holder's own space.
    expect(page.locator("main")).to_contain_text(holder.family_name)
    assert problems.problems() == []


def test_end_another_session_from_the_security_screen(browser, base_url, live_app, new_holder):
    holder = new_holder()
    seen_a, seen_b = PageProblems(), PageProblems()
    context_a = new_context(browser, base_url, PHONE, seen_a)
    context_b = new_context(browser, base_url, PHONE, seen_b)
    try:
        page_a, page_b = context_a.new_page(), context_b.new_page()
        password_login(page_a, live_app, holder)
        password_login(page_b, live_app, holder)

        page_a.goto("/compte")
        rows = page_a.locator("#sessions .list-row")
        expect(rows).to_have_count(2)
        other = rows.filter(has=page_a.locator("form"))
        expect(other).to_have_count(1)
        other.locator("button[type=submit]").click()
        expect(rows).to_have_count(1)
        expect(page_a.locator("#sessions .notice-success")).to_be_visible()

        # Device B is logged out at its next request.
        page_b.reload()
        expect(page_b).to_have_url(re.compile(r"/connexion(\?.*)?$"))
        expect(page_b.locator("main")).not_to_contain_text(holder.first_name)

        # Device A is still in.
        page_a.goto("/")
        expect_dashboard(page_a, holder)
        assert seen_a.problems() == [] and seen_b.problems() == []
    finally:
        context_a.close()
        context_b.close()


def test_problem_watcher_sees_csp_violations(page, problems):
    """The CSP check of the journeys is not vacuous: an inline script is refused and seen."""
    page.goto("/connexion")
    with page.expect_console_message(lambda m: PageProblems.CSP_MARK in m.text):
        page.evaluate("""() => {
            const s = document.createElement('script');
            s.textContent = 'window.__inline = true';
            document.body.appendChild(s);
        }""")
    assert page.evaluate("window.__inline === undefined"), "the CSP must refuse inline scripts"
    assert any(PageProblems.CSP_MARK in m for m in problems.problems())

"""The step-up confirmation (/compte/confirmer) brings the person back to the action that asked
for it, and only ever to a page of this site."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from core import clock, web
from core.db import db
from core.people import Credential
from tests.helpers import PASSWORD, csrf_token


def _next_of(location: str) -> str:
    parts = urlsplit(location)
    assert parts.path == "/compte/confirmer", location
    return parse_qs(parts.query)["next"][0]


def _stale(client, account, login_as):
    login_as(client, account)
    token = csrf_token(client, "/compte")
    clock.advance(timedelta(minutes=6))
    return token


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "\\/evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
        None,
        "/ok\x00",
    ],
)
def test_safe_next_refuses_anything_but_a_local_path(target):
    assert web.safe_next(target, "/compte") == "/compte"


@pytest.mark.parametrize("target", ["/profil/identite/modifier", "/partage/nouveau?x=1", "/compte/cles-d-acces#k"])
def test_safe_next_keeps_local_paths(target):
    assert web.safe_next(target, "/compte") == target


def test_editing_a_sensitive_block_comes_back_to_its_form(app, client, make_holder, login_as):
    account, _ = make_holder()
    token = _stale(client, account, login_as)
    # The "Edit" button asks for the form as an htmx fragment.
    r = client.get(
        "/profil/identite/modifier",
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/profil/administratif"},
    )
    assert r.status_code == 204
    back = _next_of(r.headers["HX-Redirect"])
    assert back == "/profil/identite/modifier"
    page = client.get(r.headers["HX-Redirect"])
    assert page.status_code == 200
    assert 'action="/compte/confirmer?next=/profil/identite/modifier"' in page.get_data(as_text=True)
    # The password confirmation (htmx form) sends the browser to the form itself.
    ok = client.post(
        f"/compte/confirmer?next={back}",
        data={"password": PASSWORD, "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert ok.status_code == 204 and ok.headers["HX-Redirect"] == "/profil/identite/modifier"
    form = client.get("/profil/identite/modifier")
    assert form.status_code == 200 and "<form" in form.get_data(as_text=True)


def test_a_refused_post_comes_back_to_the_page_it_was_sent_from(app, client, make_holder, login_as):
    account, _ = make_holder()
    with app.app_context():
        cred = Credential(account_id=account.id, credential_id=b"k1", public_key=b"k", name="Tél")
        db.session.add(cred)
        db.session.commit()
        cid = cred.id
    token = _stale(client, account, login_as)
    here = {"HX-Request": "true", "X-CSRFToken": token}
    r = client.post(
        f"/compte/cles-d-acces/{cid}/supprimer",
        headers={**here, "HX-Current-URL": "http://localhost/compte/cles-d-acces"},
    )
    assert _next_of(r.headers["HX-Redirect"]) == "/compte/cles-d-acces"
    # Another site's address in the header is not followed: the section's own page instead.
    r = client.post(
        f"/compte/cles-d-acces/{cid}/supprimer",
        headers={**here, "HX-Current-URL": "https://evil.example/compte/cles-d-acces"},
    )
    assert _next_of(r.headers["HX-Redirect"]) == "/compte"
    # The passkey ceremony's fetch (JSON) says where it was started too.
    r = client.post(
        "/compte/cles-d-acces/options",
        headers={
            "X-CSRFToken": token,
            "Accept": "application/json",
            "HX-Current-URL": "http://localhost/compte/cles-d-acces",
        },
    )
    assert r.status_code == 401 and _next_of(r.json["redirect"]) == "/compte/cles-d-acces"


@pytest.mark.parametrize("boosted", [False, True])
def test_confirmation_never_leaves_the_site(app, client, make_holder, login_as, boosted):
    account, _ = make_holder()
    token = _stale(client, account, login_as)
    headers = {"HX-Request": "true", "HX-Boosted": "true"} if boosted else {}
    r = client.post(
        "/compte/confirmer?next=//evil.example/x", data={"password": PASSWORD, "csrf_token": token}, headers=headers
    )
    assert r.status_code == 303 and r.headers["Location"] == "/compte"
    page = client.get("/compte/confirmer?next=https://evil.example/").get_data(as_text=True)
    assert 'action="/compte/confirmer?next=/compte"' in page


def test_the_passkey_confirmation_carries_next_too(app, client, make_holder, login_as):
    account, _ = make_holder()
    with app.app_context():
        db.session.add(Credential(account_id=account.id, credential_id=b"k2", public_key=b"k", name="Tél"))
        db.session.commit()
    _stale(client, account, login_as)
    page = client.get("/compte/confirmer?next=/partage/nouveau").get_data(as_text=True)
    assert 'data-verify-url="/compte/confirmer/cle?next=/partage/nouveau"' in page
    assert 'action="/compte/confirmer?next=/partage/nouveau"' in page

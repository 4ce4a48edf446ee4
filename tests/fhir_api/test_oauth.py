"""SMART App Launch end to end over the test client: the consent screen, the code with PKCE
(S256 only), the token with the patient in context, rotated refresh tokens, revocation and
introspection, and every way a flow must fail (wrong verifier, reused code, redirect URI that
does not match exactly, scopes beyond what the holder allowed)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import date, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pypdfium2 as pdfium
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from blueprints.apps import services as apps
from blueprints.apps.models import Token
from blueprints.documents.models import Document
from core import clock
from tests.factories import DEMO_REDIRECT
from tests.helpers import csrf_token, rows, traces

SCOPE = "launch/patient openid fhirUser offline_access patient/Patient.rs patient/Observation.rs patient/Observation.c"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def authorize_url(client_id: str, challenge: str, **over) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": DEMO_REDIRECT,
        "scope": SCOPE,
        "state": "etat-42",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "aud": "http://localhost/fhir",
    }
    params.update(over)
    return "/applications/autoriser?" + urlencode({k: v for k, v in params.items() if v is not None})


def consent(client, url: str, purposes=("measures_write", "measures_read"), decision="allow"):
    token = csrf_token(client, url)
    data = {"csrf_token": token, "purpose": list(purposes), "duration": "1y", "decision": decision}
    return client.post(url, data=data)


def code_from(r) -> str:
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    where = urlsplit(r.headers["Location"])
    assert f"{where.scheme}://{where.netloc}{where.path}" == DEMO_REDIRECT
    query = parse_qs(where.query)
    assert query["state"] == ["etat-42"]
    return query["code"][0]


def exchange(client, client_id: str, code: str, verifier: str, **over):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": DEMO_REDIRECT,
        "client_id": client_id,
        "code_verifier": verifier,
    }
    data.update(over)
    return client.post("/oauth/token", data={k: v for k, v in data.items() if v is not None})


@pytest.fixture
def connected(holder, make_app):
    """(client logged in as the holder, account, app, verifier, code) after the holder allowed."""
    client, account = holder
    the_app, _ = make_app()
    verifier, challenge = pkce()
    code = code_from(consent(client, authorize_url(the_app.client_id, challenge)))
    return client, account, the_app, verifier, code


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_discovery(client):
    conf = client.get("/.well-known/smart-configuration").json
    assert conf["code_challenge_methods_supported"] == ["S256"]
    assert "permission-v2" in conf["capabilities"] and "launch-standalone" in conf["capabilities"]
    assert conf["token_endpoint"].endswith("/oauth/token")


def test_the_consent_screen_names_the_app_and_its_uses(holder, make_app):
    client, _account = holder
    the_app, _ = make_app()
    _verifier, challenge = pkce()
    page = client.get(authorize_url(the_app.client_id, challenge)).get_data(as_text=True)
    assert "Balance Test" in page and "Éditeur Test" in page
    assert 'name="purpose" value="measures_write"' in page and 'value="measures_read" checked' in page


def test_standalone_launch_then_token_refresh_revoke(app, connected):
    client, account, the_app, verifier, code = connected
    r = exchange(client, the_app.client_id, code, verifier)
    assert r.status_code == 200, r.json
    tok = r.json
    assert tok["token_type"] == "Bearer" and tok["patient"] == account.patient_id
    assert set(tok["scope"].split()) == set(SCOPE.split())
    api = app.test_client()  # an app: no cookie
    assert api.get("/fhir/Observation", headers=bearer(tok["access_token"])).status_code == 200
    # Only hashes are stored.
    stored = rows(app, Token)
    assert tok["access_token"] not in {t.access_hash for t in stored}
    # Refresh: a new pair; the old refresh token works once only, and its reuse ends everything.
    r2 = api.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tok["refresh_token"], "client_id": the_app.client_id},
    )
    assert r2.status_code == 200, r2.json
    new = r2.json
    assert new["refresh_token"] != tok["refresh_token"] and new["patient"] == account.patient_id
    assert api.get("/fhir/Patient", headers=bearer(new["access_token"])).status_code == 200
    again = api.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tok["refresh_token"], "client_id": the_app.client_id},
    )
    assert again.status_code == 400 and again.json["error"] == "invalid_grant"
    assert api.get("/fhir/Patient", headers=bearer(new["access_token"])).status_code == 401


def test_introspection_and_revocation(app, connected):
    client, account, the_app, verifier, code = connected
    tok = exchange(client, the_app.client_id, code, verifier).json
    api = app.test_client()
    info = api.post("/oauth/introspect", data={"token": tok["access_token"], "client_id": the_app.client_id}).json
    assert (
        info["active"] is True and info["patient"] == account.patient_id and "patient/Observation.rs" in info["scope"]
    )
    assert (
        api.post("/oauth/revoke", data={"token": tok["access_token"], "client_id": the_app.client_id}).status_code
        == 200
    )
    assert api.get("/fhir/Observation", headers=bearer(tok["access_token"])).status_code == 401
    info = api.post("/oauth/introspect", data={"token": tok["access_token"], "client_id": the_app.client_id}).json
    assert info == {"active": False}


def test_a_wrong_verifier_is_refused(connected):
    client, _account, the_app, _verifier, code = connected
    r = exchange(client, the_app.client_id, code, pkce()[0])
    assert r.status_code == 400 and r.json["error"] == "invalid_grant"


def test_a_code_used_twice_is_refused_and_its_tokens_revoked(app, connected):
    client, _account, the_app, verifier, code = connected
    first = exchange(client, the_app.client_id, code, verifier).json
    second = exchange(client, the_app.client_id, code, verifier)
    assert second.status_code == 400 and second.json["error"] == "invalid_grant"
    assert app.test_client().get("/fhir/Patient", headers=bearer(first["access_token"])).status_code == 401


def test_redirect_uris_match_exactly(holder, make_app):
    client, _account = holder
    the_app, _ = make_app()
    verifier, challenge = pkce()
    for uri in (
        DEMO_REDIRECT + "/",
        DEMO_REDIRECT + "?x=1",
        "http://localhost:8765/callback2",
        "https://evil.example/cb",
    ):
        r = client.get(authorize_url(the_app.client_id, challenge, redirect_uri=uri))
        assert r.status_code == 400 and "Location" not in r.headers, uri
    code = code_from(consent(client, authorize_url(the_app.client_id, challenge)))
    r = exchange(client, the_app.client_id, code, verifier, redirect_uri=DEMO_REDIRECT + "/")
    assert r.status_code == 400 and r.json["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "over",
    [
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},
        {"code_challenge": None, "code_challenge_method": None},
        {"aud": "https://autre.example/fhir"},
        {"response_type": "token"},
    ],
)
def test_requests_without_s256_pkce_or_for_another_server_are_refused(holder, make_app, over):
    client, _account = holder
    the_app, _ = make_app()
    _verifier, challenge = pkce()
    r = client.get(authorize_url(the_app.client_id, challenge, **over))
    assert r.status_code in (302, 400)
    if r.status_code == 302:  # an error told to the app, never a code
        assert "code=" not in r.headers["Location"] and "error=" in r.headers["Location"]


def test_the_token_gets_only_the_purposes_allowed(app, holder, make_app, make_measure):
    client, account = holder
    the_app, _ = make_app()
    make_measure(account)
    verifier, challenge = pkce()
    code = code_from(consent(client, authorize_url(the_app.client_id, challenge), purposes=("measures_write",)))
    tok = exchange(client, the_app.client_id, code, verifier).json
    assert "patient/Observation.rs" not in tok["scope"].split() and "patient/Observation.c" in tok["scope"].split()
    api = app.test_client()
    assert api.get("/fhir/Observation", headers=bearer(tok["access_token"])).status_code == 403
    # Asking a refresh for more than was granted is refused.
    r = api.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tok["refresh_token"],
            "client_id": the_app.client_id,
            "scope": "patient/Observation.rs",
        },
    )
    assert r.status_code == 400 and r.json["error"] == "invalid_scope"


def test_scopes_the_app_was_not_referenced_for_never_reach_a_token(app, holder, make_app):
    client, _account = holder
    the_app, _ = make_app(purposes=("measures_write",))
    verifier, challenge = pkce()
    url = authorize_url(the_app.client_id, challenge, scope=SCOPE + " patient/DocumentReference.rs patient/*.rs")
    code = code_from(consent(client, url, purposes=("measures_write", "documents_read")))
    tok = exchange(client, the_app.client_id, code, verifier).json
    assert not {"patient/DocumentReference.rs", "patient/*.rs", "patient/Observation.rs"} & set(tok["scope"].split())


def test_refusing_tells_the_app_and_connects_nothing(app, holder, make_app):
    client, _account = holder
    the_app, _ = make_app()
    _verifier, challenge = pkce()
    r = consent(client, authorize_url(the_app.client_id, challenge), decision="refuse")
    assert r.status_code == 302 and "error=access_denied" in r.headers["Location"]
    assert traces(app, "app_connected") == []


def test_connecting_needs_a_fresh_login(app, client, make_holder, make_app, login_as):
    account, _ = make_holder()
    login_as(client, account, fresh=False)
    the_app, _ = make_app()
    _verifier, challenge = pkce()
    r = consent(client, authorize_url(the_app.client_id, challenge))
    assert r.status_code in (302, 303) and urlsplit(r.headers["Location"]).path == "/compte/confirmer"
    assert traces(app, "app_connected") == []


def test_confidential_clients_authenticate(app, holder, make_app):
    client, account = holder
    the_app, secret = make_app(confidential=True)
    verifier, challenge = pkce()
    code = code_from(consent(client, authorize_url(the_app.client_id, challenge)))
    anonymous = exchange(client, the_app.client_id, code, verifier)
    assert anonymous.status_code == 401 and anonymous.json["error"] == "invalid_client"
    basic = base64.b64encode(f"{the_app.client_id}:{secret}".encode()).decode()
    r = app.test_client().post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": DEMO_REDIRECT,
            "code_verifier": verifier,
        },
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 200 and r.json["patient"] == account.patient_id


def test_disconnecting_revokes_at_once(app, connected):
    client, _account, the_app, verifier, code = connected
    tok = exchange(client, the_app.client_id, code, verifier).json
    api = app.test_client()
    assert api.get("/fhir/Patient", headers=bearer(tok["access_token"])).status_code == 200
    token = csrf_token(client, f"/applications/{the_app.id}")
    r = client.post(f"/applications/{the_app.id}/deconnecter", data={"csrf_token": token})
    assert r.status_code in (302, 303)
    assert api.get("/fhir/Patient", headers=bearer(tok["access_token"])).status_code == 401
    refresh = api.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tok["refresh_token"], "client_id": the_app.client_id},
    )
    assert refresh.status_code == 400
    assert [t.action for t in traces(app) if t.action.startswith("app_")][-1] == "app_disconnected"


def test_changing_uses_narrows_the_live_token_at_once(app, connected, make_measure):
    client, account, the_app, verifier, code = connected
    tok = exchange(client, the_app.client_id, code, verifier).json
    make_measure(account)
    api = app.test_client()
    assert api.get("/fhir/Observation", headers=bearer(tok["access_token"])).status_code == 200
    token = csrf_token(client, f"/applications/{the_app.id}")
    r = client.post(f"/applications/{the_app.id}/usages", data={"csrf_token": token, "purpose": ["measures_write"]})
    assert r.status_code in (302, 303)
    assert api.get("/fhir/Observation", headers=bearer(tok["access_token"])).status_code == 403
    r = client.post(
        f"/applications/{the_app.id}/usages", data={"csrf_token": token, "purpose": ["measures_write", "measures_read"]}
    )
    assert api.get("/fhir/Observation", headers=bearer(tok["access_token"])).status_code == 200
    assert [t.action for t in traces(app, "app_purposes_changed")] == ["app_purposes_changed"] * 2
    page = client.get(f"/applications/{the_app.id}").get_data(as_text=True)
    assert "a lu vos mesures de poids" in page.replace("’", "'")


def test_openid_fhiruser_gives_a_signed_id_token_naming_the_holder(app, connected):
    client, account, the_app, verifier, code = connected
    tok = exchange(client, the_app.client_id, code, verifier).json
    keys = KeySet.import_key_set(client.get("/oauth/jwks").json)
    claims = jwt.decode(tok["id_token"], keys).claims
    assert claims["sub"] == account.patient_id and claims["aud"] == [the_app.client_id]
    assert claims["fhirUser"] == f"http://localhost/fhir/Patient/{account.patient_id}"
    assert claims["iss"] == "http://localhost/fhir"


def test_a_consent_receipt_is_kept_in_the_holders_documents(app, connected):
    client, account, the_app, _verifier, _code = connected
    [doc] = rows(app, Document)
    assert (doc.patient_id, doc.category, doc.source, doc.mime) == (
        account.patient_id,
        "DOC_ADM",
        "receipt",
        "application/pdf",
    )
    assert "Balance Test" in doc.title
    page = client.get(f"/applications/{the_app.id}").get_data(as_text=True)
    assert f"/documents/{doc.id}" in page
    data = client.get(f"/documents/{doc.id}/telecharger").data
    text = "".join(p.get_textpage().get_text_range() for p in pdfium.PdfDocument(data))
    for words in ("Balance Test", "Éditeur Test", "Ajouter les mesures prises par votre appareil", "Déconnecter"):
        assert words in text, words


def test_someone_not_logged_in_is_sent_to_log_in_then_back(client, make_app):
    the_app, _ = make_app()
    _verifier, challenge = pkce()
    url = authorize_url(the_app.client_id, challenge)
    r = client.get(url)
    assert r.status_code == 302
    where = urlsplit(r.headers["Location"])
    assert where.path == "/connexion" and parse_qs(where.query)["next"] == [url]


def test_a_connection_ends_with_its_duration(app, connected):
    client, _account, the_app, verifier, code = connected
    tok = exchange(client, the_app.client_id, code, verifier).json
    api = app.test_client()
    assert api.get("/fhir/Patient", headers=bearer(tok["access_token"])).status_code == 200
    try:
        clock.advance(timedelta(days=366))
        assert api.get("/fhir/Patient", headers=bearer(tok["access_token"])).status_code == 401
        refresh = api.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": tok["refresh_token"], "client_id": the_app.client_id},
        )
        assert refresh.status_code == 400
    finally:
        clock.reset()


def test_a_logo_is_a_file_of_carnet_only(app):
    with app.test_request_context(method="POST"):
        for logo in ("https://tracker.example/logo.png", "/etc/passwd", "../secret.png", "data:image/png;base64,AA"):
            with pytest.raises(ValueError):
                apps.register(
                    name="X",
                    publisher="Y",
                    description="",
                    purpose_keys=["measures_read"],
                    redirect_uris=[DEMO_REDIRECT],
                    referenced_on=date(2026, 1, 1),
                    logo=logo,
                )

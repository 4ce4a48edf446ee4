"""CSRF, cross-site refusal, security headers, no-store, htmx configuration."""

import json
import pathlib
import re

import pytest

from app import create_app
from core.config import ConfigError
from core.web import safe_next
from tests.helpers import PASSWORD, csrf_token


def test_post_without_csrf_token_is_refused(client, make_holder):
    account, _ = make_holder()
    client.get("/connexion")
    r = client.post("/connexion", data={"email": account.email, "password": PASSWORD})
    assert r.status_code == 400


def test_csrf_token_accepted_from_htmx_header(client, make_holder):
    account, _ = make_holder()
    token = csrf_token(client)
    r = client.post(
        "/connexion",
        data={"email": account.email, "password": PASSWORD},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert r.status_code == 204 and r.headers["HX-Redirect"].endswith("/connexion/code")


def test_cross_site_state_change_refused(client, make_holder):
    account, _ = make_holder()
    token = csrf_token(client)
    r = client.post(
        "/connexion",
        data={"email": account.email, "password": PASSWORD, "csrf_token": token},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert r.status_code == 403


def test_security_headers_on_pages(client):
    r = client.get("/connexion")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in r.headers["Vary"]


def test_authenticated_pages_are_no_store(client, make_holder, login):
    account, _ = make_holder()
    login(client, account)
    for path in ("/", "/compte", "/compte/cles-d-acces"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store", path


def test_session_cookie_flags(app, client):
    client.get("/connexion")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie.http_only and cookie.same_site == "Lax"


def test_htmx_configuration_and_no_inline_script(client):
    html = client.get("/connexion").get_data(as_text=True)
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'", html).group(1))
    assert config["historyCacheSize"] == 0 and config["allowEval"] is False
    assert config["allowScriptTags"] is False and config["selfRequestsOnly"] is True
    assert config["includeIndicatorStyles"] is False
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script found"
    assert "hx-on" not in html and " style=" not in html
    assert 'hx-headers=\'{"X-CSRFToken"' in html


def test_vendored_htmx_is_version_2(app):

    files = list(pathlib.Path(app.static_folder, "vendor").glob("htmx-*.min.js"))
    assert len(files) == 1 and files[0].name.startswith("htmx-2.")


def test_open_redirect_refused(client, make_holder, login):

    for bad in ("https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)"):
        assert safe_next(bad) == "/"
    assert safe_next("/compte") == "/compte"


def test_production_refuses_weak_secrets(tmp_path, monkeypatch):

    for key in list(__import__("os").environ):
        if key.startswith("CARNET_"):
            monkeypatch.delenv(key)
    with pytest.raises(ConfigError):
        create_app({"ENV_NAME": "production"}, instance_path=str(tmp_path))
    with pytest.raises(ConfigError):
        create_app(
            {
                "ENV_NAME": "production",
                "SECRET_KEY": "change-me",
                "CODE_PEPPER": "x" * 40,
                "WEBAUTHN_ORIGIN": "https://carnet.example",
            },
            instance_path=str(tmp_path),
        )
    ok = create_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": "s" * 48,
            "CODE_PEPPER": "p" * 48,
            "WEBAUTHN_ORIGIN": "https://carnet.example",
            "DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
            "AUDIT_KEY": "a" * 43,
        },
        instance_path=str(tmp_path),
    )
    assert ok.config["SESSION_COOKIE_SECURE"] and ok.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert not (tmp_path / "secret_key").exists()


def test_dev_secrets_generated_into_instance(tmp_path):

    a = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/d.db"}, instance_path=str(tmp_path))
    b = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/d.db"}, instance_path=str(tmp_path))
    assert a.config["SECRET_KEY"] == b.config["SECRET_KEY"] and len(a.config["SECRET_KEY"]) >= 48
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"

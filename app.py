"""Carnet: a patient-owned health space. create_app() wires config → extensions →
blueprints → CLI → error handlers."""

from __future__ import annotations

import importlib

from flask import Flask, has_request_context, session
from flask_babel import Babel
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

from core import cli, compression, config, db as dbmod, formatting, sessions, templating, web
from core.sessions import DatabaseSessionInterface, SessionLoginManager

babel = Babel()
csrf = CSRFProtect()
htmx = Htmx()
login_manager = SessionLoginManager()

BLUEPRINTS = (
    "auth",
    "dashboard",
    "account",
    "documents",
    "history",
    "profile",
    "measures",
    "pro",
    "sharing",
    "kiosk",
    "agenda",
    "messaging",
    "reimbursements",
    "card",
    "apps",
    "fhir",
    "lifecycle",
    "export",
    "helpers",
    "demo",
)


def _select_locale() -> str:
    if not has_request_context():
        return "fr"
    lang = session.get("lang")
    if lang in web.LANGUAGES:
        return lang
    if current_user.is_authenticated and current_user.locale in web.LANGUAGES:
        return current_user.locale
    return "fr"


def create_app(overrides: dict | None = None, instance_path: str | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    config.load(app, overrides)
    app.session_interface = DatabaseSessionInterface()

    dbmod.db.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, default_timezone="Europe/Paris")
    login_manager.init_app(app)
    login_manager.session_protection = None  # sessions are server-side records
    login_manager.user_loader(sessions.load_user)
    login_manager.login_view = "auth.login"

    compression.init_app(app)  # first: its after_request hook then runs last, on the final answer
    app.jinja_env.autoescape = True
    app.jinja_env.add_extension("jinja2.ext.do")
    web.init_app(app)
    formatting.init_app(app)
    templating.init_app(app)

    for name in BLUEPRINTS:
        module = importlib.import_module(f"blueprints.{name}")  # the package imports its route modules
        app.register_blueprint(module.bp)

    cli.init_app(app)
    dbmod.import_models()
    return app

"""Carnet: a patient-owned health space. create_app() wires config → extensions →
blueprints → CLI → error handlers."""

from __future__ import annotations

import importlib

from flask import Flask, Response
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

from core import cli, compression, config, db as dbmod, formatting, sessions, templating, web
from core.i18n import check_where_babel_keeps_its_locale, select_locale
from core.multipart import CarnetRequest
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


class Answer(Response):
    """Flask's Response, told its default type when it is given no headers: werkzeug otherwise
    looks for a Content-Type in the empty headers, and a missing name builds (and raises) an
    HTTP exception on every page."""

    def __init__(self, response=None, status=None, headers=None, mimetype=None, content_type=None, **kwargs):
        if headers is None and mimetype is None and content_type is None:
            mimetype = self.default_mimetype
        super().__init__(response, status, headers, mimetype, content_type, **kwargs)


class Carnet(Flask):
    """Flask, asking once per function whether it is a coroutine: Flask asks again on every
    call (inspect.iscoroutinefunction, a dozen hooks a request); Flask says to override this."""

    response_class = Answer
    jinja_environment = templating.Pages

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync_funcs: dict = {}

    def ensure_sync(self, func):
        found = self._sync_funcs.get(func)
        if found is None:
            found = super().ensure_sync(func)
            if len(self._sync_funcs) < 4096:  # bound methods made per call would only fill it
                self._sync_funcs[func] = found
        return found


def create_app(overrides: dict | None = None, instance_path: str | None = None) -> Flask:
    app = Carnet(__name__, instance_relative_config=True, instance_path=instance_path)
    config.load(app, overrides)
    app.session_interface = DatabaseSessionInterface()

    dbmod.db.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    app.request_class = CarnetRequest  # htmx-flask's request, its uploads kept byte for byte
    babel.init_app(app, locale_selector=select_locale, default_timezone="Europe/Paris")
    check_where_babel_keeps_its_locale(app)
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

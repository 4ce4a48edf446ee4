"""Errors as OperationOutcome, in French with the English beside it (the FHIR translation
extension), whatever the language of the caller: an app shows its user the words it can."""

from __future__ import annotations

import json

from flask import Response
from flask_babel import force_locale

from core.i18n import lazy_gettext as _l

FHIR_JSON = "application/fhir+json"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"

MESSAGES = {
    400: ("invalid", _l("The request could not be understood.")),
    401: ("login", _l("A valid access token is needed: connect the app to the space again.")),
    403: ("forbidden", _l("The holder did not allow this app to do this.")),
    404: ("not-found", _l("This resource does not exist, or this app may not see it.")),
    405: ("not-supported", _l("This operation is not supported on this resource.")),
    406: ("not-supported", _l("Only FHIR JSON is served.")),
    409: ("duplicate", _l("This resource is already in the space.")),
    413: ("too-costly", _l("This content is too large.")),
    415: ("not-supported", _l("Send FHIR JSON (application/fhir+json).")),
    422: ("processable", _l("This resource cannot be accepted.")),
    429: ("throttled", _l("Too many requests. Wait a moment, then try again.")),
    500: ("exception", _l("Something went wrong on the server. Nothing was changed.")),
}


def _both(message) -> tuple[str, str]:
    with force_locale("fr"):
        fr = str(message)
    with force_locale("en"):
        en = str(message)
    return fr, en


def outcome(status: int, message=None, code: str | None = None, expression: str | None = None) -> dict:
    default_code, default_message = MESSAGES.get(status, MESSAGES[500])
    fr, en = _both(message if message is not None else default_message)
    issue = {
        "severity": "error",
        "code": code or default_code,
        "details": {
            "text": fr,
            "_text": {
                "extension": [
                    {
                        "url": TRANSLATION,
                        "extension": [
                            {"url": "lang", "valueCode": "en"},
                            {"url": "content", "valueString": en},
                        ],
                    }
                ]
            },
        },
        "diagnostics": en,
    }
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def fhir_response(resource: dict, status: int = 200, headers: dict | None = None) -> Response:
    body = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, mimetype=FHIR_JSON, headers=headers or {})


def error(status: int, message=None, code: str | None = None, expression: str | None = None) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="carnet"'} if status == 401 else None
    return fhir_response(outcome(status, message, code, expression), status, headers)


def on_http_error(status: int, exc) -> Response:
    """core.web's error handler for every answer under /fhir."""
    message = getattr(exc, "fhir_message", None)
    return error(status, message)


class Invalid(ValueError):
    """A request or a resource the API refuses, with the words to say why."""

    def __init__(self, message, status: int = 400, code: str | None = None, expression: str | None = None):
        super().__init__(str(message))
        self.message, self.status, self.code, self.expression = message, status, code, expression

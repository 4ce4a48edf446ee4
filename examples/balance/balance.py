"""Balance de démonstration: a tiny connected scale, as a third party would write it against
Carnet's SMART on FHIR API. It is a separate client (it shares no code with Carnet): standalone
launch with PKCE, then it posts weights and reads them back.

    CARNET_URL=http://localhost:5000 BALANCE_CLIENT_ID=... flask --app examples/balance/balance.py run -p 8765

Register it first: flask --app app apps register --name "Balance de démonstration" \
    --publisher "Carnet (démonstration)" --purpose measures_write --purpose measures_read \
    --redirect-uri http://localhost:8765/callback
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

from flask import Flask, abort, redirect, render_template_string, request, session, url_for

SCOPE = "launch/patient offline_access patient/Patient.rs patient/Observation.rs patient/Observation.c"

PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>Balance de démonstration</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}
button{font:inherit;padding:.6rem 1rem;min-height:44px}li{padding:.25rem 0}.error{color:#a00}</style></head>
<body><h1>Balance de démonstration</h1>
{% if message %}<p id="message" role="status">{{ message }}</p>{% endif %}
{% if error %}<p id="error" class="error" role="alert">{{ error }}</p>{% endif %}
{% if not connected %}
  <p>Cette balance envoie vos pesées dans votre espace Carnet.</p>
  <form method="post" action="{{ url_for('connect') }}"><button>Connecter à Carnet</button></form>
{% else %}
  <p id="patient">Connectée à l'espace {{ patient }}.</p>
  <form method="post" action="{{ url_for('weigh') }}"><button>Envoyer trois pesées</button></form>
  <form method="post" action="{{ url_for('read') }}"><button>Relire mes poids</button></form>
  {% if weights is not none %}
  <h2>Poids lus dans Carnet</h2>
  <ul id="weights">{% for w in weights %}<li>{{ w }}</li>{% else %}<li>Aucun poids.</li>{% endfor %}</ul>
  {% endif %}
{% endif %}
</body></html>"""


def create_app(carnet_url: str | None = None, client_id: str | None = None) -> Flask:
    app = Flask(__name__)
    app.secret_key = os.environ.get("BALANCE_SECRET") or secrets.token_hex(32)
    app.config["SESSION_COOKIE_NAME"] = "balance"  # Carnet may share the host (another port)
    app.config["CARNET_URL"] = (carnet_url or os.environ.get("CARNET_URL", "http://localhost:5000")).rstrip("/")
    app.config["CLIENT_ID"] = client_id or os.environ.get("BALANCE_CLIENT_ID", "")
    tokens: dict[str, dict] = {}  # this process's sessions -> tokens (a real app keeps them server side too)

    def discover() -> dict:
        with urllib.request.urlopen(app.config["CARNET_URL"] + "/.well-known/smart-configuration") as r:
            return json.load(r)

    def fhir(method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        token = tokens.get(session.get("sid", ""), {}).get("access_token", "")
        req = urllib.request.Request(
            app.config["CARNET_URL"] + "/fhir/" + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/fhir+json",
                "Accept": "application/fhir+json",
            },
        )
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    def show(**context):
        sid = session.get("sid", "")
        context.setdefault("weights", None)
        return render_template_string(
            PAGE, connected=sid in tokens, patient=tokens.get(sid, {}).get("patient"), **context
        )

    @app.get("/")
    def index():
        return show(message=request.args.get("message"))

    @app.post("/connect")
    def connect():
        conf = discover()
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        state = secrets.token_urlsafe(16)
        session.update(verifier=verifier, state=state, sid=session.get("sid") or secrets.token_urlsafe(16))
        params = {
            "response_type": "code",
            "client_id": app.config["CLIENT_ID"],
            "redirect_uri": url_for("callback", _external=True),
            "scope": SCOPE,
            "state": state,
            "aud": conf["issuer"],
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return redirect(conf["authorization_endpoint"] + "?" + urllib.parse.urlencode(params))

    @app.get("/callback")
    def callback():
        if request.args.get("state") != session.get("state"):
            abort(400)
        if "error" in request.args:
            return show(error="Connexion refusée.")
        data = urllib.parse.urlencode(
            {
                "grant_type": "authorization_code",
                "code": request.args["code"],
                "redirect_uri": url_for("callback", _external=True),
                "client_id": app.config["CLIENT_ID"],
                "code_verifier": session.pop("verifier"),
            }
        ).encode()
        with urllib.request.urlopen(urllib.request.Request(discover()["token_endpoint"], data=data)) as r:
            tokens[session["sid"]] = json.load(r)
        return redirect(url_for("index", message="Balance connectée."))

    @app.post("/weigh")
    def weigh():
        """Three weighings, one a day, the last one this morning."""
        now = datetime.now(timezone(timedelta(hours=1))).replace(hour=7, minute=30, second=0, microsecond=0)
        sent = 0
        for days, kg in ((2, 71.8), (1, 71.5), (0, 71.2)):
            obs = {
                "resourceType": "Observation",
                "status": "final",
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                "code": "vital-signs",
                            }
                        ]
                    }
                ],
                "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
                "effectiveDateTime": (now - timedelta(days=days)).isoformat(),
                "valueQuantity": {"value": kg, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
                "device": {"display": "Balance de démonstration"},
            }
            status, _body = fhir("POST", "Observation", obs)
            if status not in (200, 201):
                return show(error=f"Carnet a refusé la pesée ({status}).")
            sent += 1
        return show(message=f"{sent} pesées envoyées.")

    @app.post("/read")
    def read():
        status, bundle = fhir("GET", "Observation?code=http://loinc.org|29463-7&_count=10")
        if status != 200:
            text = (bundle.get("issue") or [{}])[0].get("details", {}).get("text", "")
            return show(error=f"Carnet refuse l'accès ({status}) : {text}")
        weights = [
            f"{e['resource']['valueQuantity']['value']} kg — {e['resource']['effectiveDateTime'][:10]}"
            for e in bundle.get("entry", [])
        ]
        return show(weights=weights)

    return app

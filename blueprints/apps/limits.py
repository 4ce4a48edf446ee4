"""How often /oauth/token answers: per client and per address, in fixed one-minute windows
counted in the database (core/throttle.hit, exact across workers). A request over either limit
gets 429 with an OAuth error body and Retry-After, the seconds left in the window.

The limits are far above normal use: an app refreshes one holder's token about once an hour
(tokens last oauth.ACCESS_SECONDS), so OAUTH_TOKEN_PER_CLIENT_MINUTE bounds all the holders of
one app together, and OAUTH_TOKEN_PER_ADDRESS_MINUTE one device or one app server. What they
stop is guessing: codes, refresh tokens and client secrets tried in bulk."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, jsonify, request

from core import throttle

WINDOW = timedelta(minutes=1)


def client_of() -> str:
    """The client the request names: HTTP Basic (confidential clients) or the form's client_id."""
    if request.authorization is not None and request.authorization.username:
        return request.authorization.username
    return request.form.get("client_id", "")


def wait_seconds() -> int | None:
    """Count this request against its client and its address; the seconds to wait when either
    went over its limit, None otherwise."""
    cfg = current_app.config
    over = throttle.hit("token-address", request.remote_addr or "", WINDOW) > cfg["OAUTH_TOKEN_PER_ADDRESS_MINUTE"]
    client = client_of()
    if client and throttle.hit("token-client", client, WINDOW) > cfg["OAUTH_TOKEN_PER_CLIENT_MINUTE"]:
        over = True
    return throttle.seconds_left(WINDOW) if over else None


def too_many(seconds: int):
    """RFC 6749's error body (temporarily_unavailable: the server cannot answer for now)."""
    resp = jsonify(
        error="temporarily_unavailable",
        error_description=f"Too many token requests: retry in {seconds} seconds.",
    )
    resp.status_code = 429
    resp.headers["Retry-After"] = str(seconds)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Pragma"] = "no-cache"
    return resp

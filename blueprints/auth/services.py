"""Spaces are created before people use them; activation, passwords and one-time codes.

Every answer that could tell whether an account exists looks the same, and costs the same
(a password hash is always checked, against a dummy when there is no account).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from argon2 import PasswordHasher
from flask import current_app, g, session, url_for
from flask_babel import force_locale
from sqlalchemy import select, update

from blueprints.auth import argon2id
from blueprints.auth.models import ActivationCode, OneTimeCode
from core import access, audit, clock, codes, formatting, notify, sessions, throttle, web
from core.db import db, write_intent
from core.i18n import gettext as _, ngettext
from core.identifiers import clean_nir, valid_nir, valid_rpps
from core.people import PROFESSIONS, Account, Patient, Professional, account_by_email, normalise_email

MIN_PASSWORD = 12
_hashers: dict[tuple[int, int, int], tuple[PasswordHasher, str]] = {}


class SpaceError(ValueError):
    """Bad input to a space or account creation (CLI)."""


# --- creation (CLI, demo) -------------------------------------------------------------


def create_pending_space(
    *,
    nir: str,
    email: str,
    birth_date: date,
    given_names: str,
    family_name: str,
    sex: str | None = None,
    birth_place_code: str | None = None,
) -> tuple[Patient, str]:
    """Pre-create a space and post its activation letter. Returns the patient and the code."""
    nir = clean_nir(nir)
    if not valid_nir(nir):
        raise SpaceError("invalid NIR (13 characters + 2-digit key)")
    if db.session.scalar(select(Patient.id).where(Patient.nir == nir)):
        raise SpaceError("a space already exists for this NIR")
    if account_by_email(email):
        raise SpaceError("this email address is already used")
    patient = Patient(
        nir=nir,
        birth_date=birth_date,
        given_names=given_names.strip(),
        family_name=family_name.strip(),
        sex=sex or ("M" if nir[0] in "137" else "F"),
        birth_place_code=birth_place_code,
        email=normalise_email(email),
        status="pending",
    )
    db.session.add(patient)
    db.session.flush()
    db.session.add(Account(role="holder", email=patient.email, patient_id=patient.id))
    code = issue_activation_code(patient)
    return patient, code


def issue_activation_code(patient: Patient) -> str:
    code = codes.activation_code()
    days = current_app.config["ACTIVATION_CODE_DAYS"]
    expires = clock.utcnow() + timedelta(days=days)
    db.session.add(
        ActivationCode(patient_id=patient.id, code_hash=codes.keyed_hash(code, "activation"), expires_at=expires)
    )
    db.session.flush()
    notify.send_mail(
        patient.email,
        _("Your Carnet health space: activation code"),
        _(
            "Hello %(name)s,\n\n"
            "A Carnet health space has been created for you. To open it, go to the activation page and "
            "enter your social security number, your date of birth and this code:\n\n"
            "    %(code)s\n\n"
            "This code can be used once and is valid until %(until)s.\n"
            "If you do not want this space, you may object before that date: simply do not activate it "
            "and write to us.\n",
            name=patient.display_name,
            code=code,
            until=formatting.day(expires),
        ),
    )
    return code


def create_professional(
    *, rpps: str, email: str, given_name: str, family_name: str, profession: str, specialty: str | None, password: str
) -> Account:
    problem = password_problem(password)
    if problem:
        raise SpaceError(problem)
    password_hash = hash_password(password)  # before the first query: never inside a write transaction
    rpps = (rpps or "").strip()
    if not valid_rpps(rpps):
        raise SpaceError("RPPS must be 11 digits")
    if profession not in PROFESSIONS:
        raise SpaceError(f"profession must be one of: {', '.join(PROFESSIONS)}")
    if db.session.scalar(select(Professional.id).where(Professional.rpps == rpps)):
        raise SpaceError("a professional with this RPPS already exists")
    if account_by_email(email):
        raise SpaceError("this email address is already used")
    pro = Professional(
        rpps=rpps,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        profession=profession,
        specialty=specialty,
    )
    db.session.add(pro)
    db.session.flush()
    account = Account(
        role="professional",
        email=normalise_email(email),
        professional_id=pro.id,
        password_hash=password_hash,
        password_changed_at=clock.utcnow(),
    )
    db.session.add(account)
    db.session.flush()
    return account


# --- activation ------------------------------------------------------------------------


@dataclass
class Outcome:
    ok: bool
    message: str | None = None
    limited: bool = False
    account: Account | None = None
    patient_id: str | None = None  # a space known only by a postal address: its account comes at activation


def activate(nir: str, birth_date: date, code: str, ip: str) -> Outcome:
    """Check the letter's code. Wrong, expired, used, unknown: one message for all.

    Only a try whose NIR and birth date both match a space waiting for activation counts
    against that space's codes: someone who knows only the NIR cannot burn the letter (their
    tries count per connection)."""
    wrong = Outcome(
        False,
        _(
            "These details do not match a space waiting for activation, or the code "
            "is no longer valid. Check your letter and try again."
        )
        + " "
        + _("If your code no longer works, ask for a new letter (link below)."),
    )
    if throttle.exceeded("activation-ip", ip, current_app.config["ACTIVATION_ATTEMPTS_PER_IP_HOUR"]):
        return Outcome(False, _("Too many attempts from this connection. Try again in an hour."), limited=True)
    nir = clean_nir(nir)
    patient = db.session.scalar(select(Patient).where(Patient.nir == nir)) if valid_nir(nir) else None
    candidates = []
    if patient is not None and _awaits_activation(patient) and patient.birth_date == birth_date:
        candidates = list(
            db.session.scalars(
                select(ActivationCode).where(ActivationCode.patient_id == patient.id, ActivationCode.used_at.is_(None))
            )
        )
    max_tries = current_app.config["ACTIVATION_MAX_TRIES"]
    now = clock.utcnow()
    matched = None
    for ac in candidates:
        if codes.matches(code, ac.code_hash, "activation"):
            matched = ac
    if matched is None or matched.expires_at < now or matched.attempts >= max_tries:
        throttle.fail("activation-ip", ip)
        for ac in candidates:  # every live code of this space counts the try
            db.session.execute(
                update(ActivationCode).where(ActivationCode.id == ac.id).values(attempts=ActivationCode.attempts + 1)
            )
        return wrong
    account = db.session.scalar(select(Account).where(Account.patient_id == patient.id))
    if account is None and _minor(patient.birth_date):
        return wrong  # a child's space is managed from its guardians' accounts, not activated
    matched.used_at = now
    return Outcome(True, account=account, patient_id=patient.id)


def _minor(born: date) -> bool:
    return clock.age(born) < access.MAJORITY_YEARS


def create_holder_account(patient_id: str, email: str) -> Account | None:
    """The account of a space whose letter went by post, with the email its holder gives when
    activating; None when that email is already used."""
    if account_by_email(email):
        return None
    patient = db.session.get(Patient, patient_id)
    patient.email = normalise_email(email)
    account = Account(role="holder", email=patient.email, patient_id=patient_id)
    db.session.add(account)
    db.session.flush()
    return account


def _awaits_activation(patient: Patient) -> bool:
    """Never activated: pending, or opened by default after 6 weeks without objection."""
    return patient.activated_at is None and patient.status in ("pending", "active")


def request_new_letter(nir: str, birth_date: date, ip: str) -> Outcome:
    """A new activation letter for a space waiting for activation whose NIR and birth date
    match: its older codes stop working. One answer whether or not such a space exists;
    limited per connection and per space."""
    cfg = current_app.config
    done = Outcome(
        True,
        _(
            "If these details match a space waiting for activation, a new letter with a new "
            "code has just been sent to the address known for this space. Older codes no "
            "longer work."
        ),
    )
    if throttle.exceeded("letter-ip", ip, cfg["LETTER_REQUESTS_PER_IP_HOUR"]):
        return Outcome(False, _("Too many requests from this connection. Try again in an hour."), limited=True)
    throttle.fail("letter-ip", ip)
    nir = clean_nir(nir)
    patient = db.session.scalar(select(Patient).where(Patient.nir == nir)) if valid_nir(nir) else None
    if patient is None or not _awaits_activation(patient) or patient.birth_date != birth_date:
        return done
    if throttle.exceeded("letter-space", patient.id, cfg["LETTERS_PER_SPACE_DAY"], timedelta(days=1)):
        return done  # the same answer: the letters already sent are on their way
    throttle.fail("letter-space", patient.id)
    db.session.execute(
        update(ActivationCode)
        .where(ActivationCode.patient_id == patient.id, ActivationCode.used_at.is_(None))
        .values(used_at=clock.utcnow())
    )
    issue_activation_code(patient)
    return done


def account(account_id: str | None) -> Account | None:
    """The account a login or an activation in progress is for (its id kept in the session)."""
    return db.session.get(Account, account_id) if account_id else None


def password_problem(password: str, email: str | None = None) -> str | None:
    if len(password or "") < MIN_PASSWORD:
        return _("Choose a password of at least %(n)s characters.", n=MIN_PASSWORD)
    if len(password) > 128:
        return _("Choose a password of at most 128 characters.")
    if email and password.strip().lower() == email.strip().lower():
        return _("Your password must not be your email address.")
    return None


def _built() -> tuple[PasswordHasher, str]:
    """The argon2id hasher with the app's ARGON2_* parameters, and a dummy hash made with it
    (the test app lowers them: its passwords guard nothing)."""
    cfg = current_app.config
    params = (cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_KIB"], cfg["ARGON2_PARALLELISM"])
    if params not in _hashers:
        built = PasswordHasher(time_cost=params[0], memory_cost=params[1], parallelism=params[2])
        _hashers[params] = built, argon2id.hash_new(built, "dummy password never used")
    return _hashers[params]


def hasher() -> PasswordHasher:
    return _built()[0]


def hash_password(password: str) -> str:
    """argon2id: slow on purpose, so never called inside a write transaction."""
    return argon2id.hash_new(hasher(), password)


def set_password(account: Account, password: str | None = None, *, hashed: str | None = None) -> None:
    """Store a new password; views hash it first (hash_password) and pass `hashed`."""
    account.password_hash = hashed or hash_password(password)
    account.password_changed_at = clock.utcnow()


def finish_activation(account: Account, password: str | None = None, *, hashed: str | None = None) -> None:
    set_password(account, password, hashed=hashed)
    patient = account.patient
    patient.status = "active"
    patient.activated_at = clock.utcnow()


# --- password + one-time code ----------------------------------------------------------


def password_matches(account: Account | None, password: str) -> bool:
    """Always runs one argon2 verification, so timing does not tell if the account exists."""
    stored = account.password_hash if account is not None and account.password_hash else _built()[1]
    ok = verify_hash(stored, password or "")
    return ok and account is not None and account.password_hash is not None and account.active


def verify_hash(stored: str, password: str) -> bool:
    """An Argon2 hash checked with the parameters it names, on the process's working memory:
    the password step is the costliest request of a morning (docs/performance.md, 51 and 87)."""
    return argon2id.verify(stored, password or "")


def _wait_text(wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    if minutes <= 90:
        return ngettext("%(num)d minute", "%(num)d minutes", minutes)
    return ngettext("%(num)d hour", "%(num)d hours", math.ceil(minutes / 60))


def login_wait(key: str) -> timedelta | None:
    """How long before this account (a normalised email, known or not) may try a password
    again: a delay that doubles after LOGIN_BACKOFF_AFTER failures in 24 hours, and the
    hourly ceiling of failures. None when it may try now."""
    cfg = current_app.config
    now = clock.utcnow()
    waits = []
    failures, last = throttle.recent("login-account", key, timedelta(days=1))
    free = cfg["LOGIN_BACKOFF_AFTER"]
    if failures >= free and last is not None:
        delay = timedelta(minutes=min(2 ** min(failures - free, 16), cfg["LOGIN_BACKOFF_MAX_MINUTES"]))
        if last + delay > now:
            waits.append(last + delay - now)
    hourly = throttle.retry_after("login-account", key, cfg["FAILED_LOGINS_PER_ACCOUNT_HOUR"])
    if hourly:
        waits.append(hourly)
    return max(waits) if waits else None


def paused_message(wait: timedelta) -> str:
    return _(
        "Too many attempts on this account. Try again in %(wait)s, or log in with a passkey. If this "
        "account exists, its holder was sent an email with a link that unlocks logging in on their device.",
        wait=_wait_text(wait),
    )


def codes_paused(account: Account) -> timedelta | None:
    """Logging in with a password is paused after too many wrong emailed codes (24 hours)."""
    return throttle.retry_after(
        "otp-account", account.id, current_app.config["OTP_FAILURES_PER_ACCOUNT_DAY"], timedelta(days=1)
    )


def check_password_login(email: str, password: str, ip: str, unlocked_for: str | None = None) -> Outcome:
    """Read first (limits, account), hash without any write lock, then write what happened.

    `unlocked_for` is the account id whose holder opened the unlock link on this device:
    the account's own limits do not apply to it (the per-connection ones still do)."""
    key = normalise_email(email)
    cfg = current_app.config
    if throttle.exceeded("login-ip", ip, cfg["FAILED_LOGINS_PER_IP_HOUR"]):
        return Outcome(
            False, _("Too many attempts from this connection. Wait an hour before trying again."), limited=True
        )
    account = account_by_email(key)
    unlocked = account is not None and unlocked_for == account.id
    wait = None if unlocked else login_wait(key)
    if wait:
        return Outcome(False, paused_message(wait), limited=True)
    ok = password_matches(account, password)  # slow: in the read transaction, no lock held
    write_intent()
    if not ok:
        throttle.fail("login-account", key)
        throttle.fail("login-ip", ip)
        failures, _last = throttle.recent("login-account", key, timedelta(days=1))  # known or not: same work
        if failures >= cfg["LOGIN_BACKOFF_AFTER"] and account is not None and account.active:
            tell_holder_paused(account, "password")
        return Outcome(False, _("Email address or password incorrect."), account=account)
    paused = None if unlocked else codes_paused(account)
    if paused:
        return Outcome(
            False,
            _(
                "Too many wrong codes were entered for this account: logging in with a password "
                "is paused for %(wait)s. Log in with a passkey, or open the link sent to you by "
                "email on this device.",
                wait=_wait_text(paused),
            ),
            limited=True,
            account=account,
        )
    return Outcome(True, account=account)


def tell_holder_paused(account: Account, why: str) -> None:
    """Mail the holder (at most once an hour) that password logins are paused, with a link
    that unlocks them on the device where it is opened."""
    if throttle.hit("pause-mail", account.id) != 1:
        return
    link = issue_unlock_link(account)
    with force_locale(account.locale or "fr"):
        reason = (
            _("Many wrong passwords were typed for your account.")
            if why == "password"
            else _(
                "Many wrong login codes were typed for your account: someone may know your password. "
                "Change it as soon as you are logged in."
            )
        )
        notify.send_mail(
            account.email,
            _("Carnet: logging in to your account is paused"),
            _(
                "Hello,\n\n%(reason)s\n\n"
                "To protect your space, logging in with your password is paused for a while. You can still log in "
                "with your passkey at any time.\n\n"
                "If it was you, open this link on the device you log in with: it unlocks logging in with your "
                "password there for %(minutes)s minutes.\n\n    %(link)s\n\n"
                "The link is valid for %(hours)s hours and can be used once. If it was not you, you need do nothing: "
                "nobody can open your space without the code we email you.\n",
                reason=reason,
                link=link,
                minutes=current_app.config["UNLOCK_MINUTES"],
                hours=current_app.config["UNLOCK_LINK_HOURS"],
            ),
        )


def issue_unlock_link(account: Account) -> str:
    token = secrets.token_hex(32)
    db.session.add(
        OneTimeCode(
            account_id=account.id,
            purpose="unlock",
            code_hash=codes.keyed_hash(token, "unlock"),
            expires_at=clock.utcnow() + timedelta(hours=current_app.config["UNLOCK_LINK_HOURS"]),
        )
    )
    db.session.flush()
    return current_app.config["WEBAUTHN_ORIGIN"].rstrip("/") + url_for("auth.unlock", token=token)


def use_unlock_link(token: str) -> Account | None:
    """The account an unused, unexpired unlock link belongs to (the link is then used up)."""
    if not token or len(token) > 100:
        return None
    write_intent()
    otp = db.session.scalar(
        select(OneTimeCode).where(
            OneTimeCode.purpose == "unlock", OneTimeCode.code_hash == codes.keyed_hash(token, "unlock")
        )
    )
    now = clock.utcnow()
    if otp is None or otp.used_at is not None or otp.expires_at < now:
        return None
    otp.used_at = now
    account = db.session.get(Account, otp.account_id)
    return account if account is not None and account.active else None


def clear_failures(account: Account) -> None:
    """The holder proved who they are (a full login): their account's counters start again."""
    throttle.clear(("login-account", account.email), ("otp-account", account.id))


def send_login_code(account: Account) -> OneTimeCode | None:
    """A 6-digit code, valid 10 minutes, 5 tries; older live codes of the account stop working.
    None when the account was sent too many codes this hour (see codes_wait())."""
    if codes_wait(account):
        return None
    write_intent()
    now = clock.utcnow()
    throttle.fail("otp-sent", account.id)
    db.session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.account_id == account.id, OneTimeCode.purpose == "login", OneTimeCode.used_at.is_(None))
        .values(used_at=now)
    )
    code = codes.digits(6)
    otp = OneTimeCode(
        account_id=account.id,
        code_hash=codes.keyed_hash(code, "otp"),
        expires_at=now + timedelta(minutes=current_app.config["OTP_MINUTES"]),
    )
    db.session.add(otp)
    db.session.flush()
    notify.send_mail(
        account.email,
        _("Your Carnet login code: %(code)s", code=code),
        _(
            "Your one-time login code is %(code)s.\n\nIt is valid for %(minutes)s minutes. "
            "If you did not try to log in, change your password: someone knows it.\n",
            code=code,
            minutes=current_app.config["OTP_MINUTES"],
        ),
    )
    return otp


def codes_wait(account: Account) -> timedelta | None:
    return throttle.retry_after("otp-sent", account.id, current_app.config["OTP_SENDS_PER_ACCOUNT_HOUR"])


def codes_capped_message(account: Account) -> str:
    return _(
        "Several codes were already sent to you this hour. Try again in %(wait)s, or log in with a passkey.",
        wait=_wait_text(codes_wait(account) or timedelta(minutes=1)),
    )


def check_login_code(otp_id: str | None, code: str, ip: str = "", unlocked: bool = False) -> Outcome:
    """Each wrong code counts for its code (5 tries), and for the account across codes
    (OTP_FAILURES_PER_ACCOUNT_DAY in 24 hours, then password logins pause and the holder is
    told by mail)."""
    write_intent()
    otp = db.session.get(OneTimeCode, otp_id, with_for_update=True) if otp_id else None
    now = clock.utcnow()
    cfg = current_app.config
    max_tries = cfg["OTP_MAX_TRIES"]
    gone = Outcome(False, _("This code is no longer valid. Log in again to receive a new one."), limited=True)
    if (
        otp is None
        or otp.purpose != "login"
        or otp.used_at is not None
        or otp.expires_at < now
        or otp.attempts >= max_tries
    ):
        return gone
    account = db.session.get(Account, otp.account_id)
    paused = None if unlocked else codes_paused(account)
    if paused:
        otp.used_at = now
        return Outcome(
            False,
            _(
                "Too many wrong codes were entered for this account: logging in with a password is "
                "paused for %(wait)s. Log in with a passkey, or open the link sent to you by email "
                "on this device.",
                wait=_wait_text(paused),
            ),
            limited=True,
        )
    if not codes.matches(code, otp.code_hash, "otp"):
        otp.attempts += 1
        throttle.fail("otp-account", otp.account_id)
        throttle.fail("login-ip", ip)
        paused = None if unlocked else codes_paused(account)
        if paused:
            otp.used_at = now
            tell_holder_paused(account, "code")
            return Outcome(
                False,
                _(
                    "Too many wrong codes were entered for this account: logging in with a "
                    "password is paused for %(wait)s. Log in with a passkey, or open the link sent "
                    "to you by email on this device.",
                    wait=_wait_text(paused),
                ),
                limited=True,
            )
        left = max_tries - otp.attempts
        if left <= 0:
            otp.used_at = now
            return Outcome(False, _("Too many wrong codes. Log in again to receive a new one."), limited=True)
        return Outcome(False, ngettext("Wrong code. %(num)d try left.", "Wrong code. %(num)d tries left.", left))
    otp.used_at = now
    return Outcome(True, account=account)


def record_login(account: Account) -> None:
    account.last_login_at = clock.utcnow()


def complete_login(account: Account, method: str, detail: dict | None = None) -> None:
    """New session id and Flask-Login user, last login, trace; the account's failure counters
    start again (the holder proved who they are). `detail` adds to the trace (a kiosk's name)."""
    write_intent()
    session.pop("pending_login", None)
    session.pop("activation", None)
    session.pop("login_unlock", None)
    sessions.login(account)
    record_login(account)
    clear_failures(account)
    g.pop("viewer", None)
    audit.record(web.current_viewer(), audit.Action.LOGIN, detail={"method": method, **(detail or {})})

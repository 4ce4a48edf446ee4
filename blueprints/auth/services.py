"""Spaces are created before people use them; activation, passwords and one-time codes.

Every answer that could tell whether an account exists looks the same, and costs the same
(a password hash is always checked, against a dummy when there is no account).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _, ngettext
from sqlalchemy import select, update

from blueprints.auth.models import ActivationCode, OneTimeCode
from core import clock, codes, formatting, notify, throttle
from core.db import db
from core.identifiers import clean_nir, valid_nir, valid_rpps
from core.people import PROFESSIONS, Account, Patient, Professional, account_by_email, normalise_email

hasher = PasswordHasher()
_DUMMY_HASH = hasher.hash("dummy password never used")
MIN_PASSWORD = 12


class SpaceError(ValueError):
    """Bad input to a space or account creation (CLI)."""


# --- creation (CLI, demo) -------------------------------------------------------------

def create_pending_space(*, nir: str, email: str, birth_date: date, given_names: str, family_name: str,
                         sex: str | None = None, birth_place_code: str | None = None) -> tuple[Patient, str]:
    """Pre-create a space and post its activation letter. Returns the patient and the code."""
    nir = clean_nir(nir)
    if not valid_nir(nir):
        raise SpaceError("invalid NIR (13 characters + 2-digit key)")
    if db.session.scalar(select(Patient.id).where(Patient.nir == nir)):
        raise SpaceError("a space already exists for this NIR")
    if account_by_email(email):
        raise SpaceError("this email address is already used")
    patient = Patient(nir=nir, birth_date=birth_date, given_names=given_names.strip(),
                      family_name=family_name.strip(), sex=sex or ("M" if nir[0] in "137" else "F"),
                      birth_place_code=birth_place_code, email=normalise_email(email), status="pending")
    db.session.add(patient)
    db.session.flush()
    db.session.add(Account(role="holder", email=patient.email, patient_id=patient.id))
    code = issue_activation_code(patient)
    return patient, code


def issue_activation_code(patient: Patient) -> str:
    code = codes.activation_code()
    days = current_app.config["ACTIVATION_CODE_DAYS"]
    expires = clock.utcnow() + timedelta(days=days)
    db.session.add(ActivationCode(patient_id=patient.id, code_hash=codes.keyed_hash(code, "activation"),
                                  expires_at=expires))
    db.session.flush()
    notify.send_mail(patient.email, _("Your Carnet health space: activation code"), _(
        "Hello %(name)s,\n\n"
        "A Carnet health space has been created for you. To open it, go to the activation page and "
        "enter your social security number, your date of birth and this code:\n\n"
        "    %(code)s\n\n"
        "This code can be used once and is valid until %(until)s.\n"
        "If you do not want this space, you may object before that date: simply do not activate it "
        "and write to us.\n",
        name=patient.display_name, code=code, until=formatting.day(expires)))
    return code


def create_professional(*, rpps: str, email: str, given_name: str, family_name: str, profession: str,
                        specialty: str | None, password: str) -> Account:
    rpps = (rpps or "").strip()
    if not valid_rpps(rpps):
        raise SpaceError("RPPS must be 11 digits")
    if profession not in PROFESSIONS:
        raise SpaceError(f"profession must be one of: {', '.join(PROFESSIONS)}")
    if db.session.scalar(select(Professional.id).where(Professional.rpps == rpps)):
        raise SpaceError("a professional with this RPPS already exists")
    if account_by_email(email):
        raise SpaceError("this email address is already used")
    problem = password_problem(password)
    if problem:
        raise SpaceError(problem)
    pro = Professional(rpps=rpps, given_name=given_name.strip(), family_name=family_name.strip(),
                       profession=profession, specialty=specialty)
    db.session.add(pro)
    db.session.flush()
    account = Account(role="professional", email=normalise_email(email), professional_id=pro.id,
                      password_hash=hasher.hash(password), password_changed_at=clock.utcnow())
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


def activate(nir: str, birth_date: date, code: str, ip: str) -> Outcome:
    """Check the letter's code. Wrong, expired, used, unknown: one message for all."""
    wrong = Outcome(False, _("These details do not match a space waiting for activation, or the code "
                             "is no longer valid. Check your letter and try again."))
    if throttle.exceeded("activation-ip", ip, current_app.config["ACTIVATION_ATTEMPTS_PER_IP_HOUR"]):
        return Outcome(False, _("Too many attempts from this connection. Try again in an hour."), limited=True)
    nir = clean_nir(nir)
    patient = db.session.scalar(select(Patient).where(Patient.nir == nir)) if valid_nir(nir) else None
    candidates = []
    if patient is not None and patient.status == "pending":
        candidates = list(db.session.scalars(select(ActivationCode).where(
            ActivationCode.patient_id == patient.id, ActivationCode.used_at.is_(None))))
    max_tries = current_app.config["ACTIVATION_MAX_TRIES"]
    now = clock.utcnow()
    matched = None
    for ac in candidates:
        if codes.matches(code, ac.code_hash, "activation"):
            matched = ac
    if matched is None or patient.birth_date != birth_date or matched.expires_at < now \
            or matched.attempts >= max_tries:
        throttle.fail("activation-ip", ip)
        for ac in candidates:  # every live code of this space counts the try
            db.session.execute(update(ActivationCode).where(ActivationCode.id == ac.id)
                               .values(attempts=ActivationCode.attempts + 1))
        return wrong
    matched.used_at = now
    account = db.session.scalar(select(Account).where(Account.patient_id == patient.id))
    return Outcome(True, account=account)


def password_problem(password: str, email: str | None = None) -> str | None:
    if len(password or "") < MIN_PASSWORD:
        return _("Choose a password of at least %(n)s characters.", n=MIN_PASSWORD)
    if len(password) > 128:
        return _("Choose a password of at most 128 characters.")
    if email and password.strip().lower() == email.strip().lower():
        return _("Your password must not be your email address.")
    return None


def set_password(account: Account, password: str) -> None:
    account.password_hash = hasher.hash(password)
    account.password_changed_at = clock.utcnow()


def finish_activation(account: Account, password: str) -> None:
    set_password(account, password)
    patient = account.patient
    patient.status = "active"
    patient.activated_at = clock.utcnow()


# --- password + one-time code ----------------------------------------------------------

def password_matches(account: Account | None, password: str) -> bool:
    """Always runs one argon2 verification, so timing does not tell if the account exists."""
    stored = account.password_hash if account is not None and account.password_hash else _DUMMY_HASH
    try:
        ok = hasher.verify(stored, password or "")
    except (VerificationError, InvalidHashError):
        ok = False
    return ok and account is not None and account.password_hash is not None and account.active


def check_password_login(email: str, password: str, ip: str) -> Outcome:
    key = normalise_email(email)
    cfg = current_app.config
    if throttle.exceeded("login-account", key, cfg["FAILED_LOGINS_PER_ACCOUNT_HOUR"]) or \
            throttle.exceeded("login-ip", ip, cfg["FAILED_LOGINS_PER_IP_HOUR"]):
        password_matches(None, password)
        return Outcome(False, _("Too many attempts. Wait a while before trying again."), limited=True)
    account = account_by_email(key)
    if not password_matches(account, password):
        throttle.fail("login-account", key)
        throttle.fail("login-ip", ip)
        return Outcome(False, _("Email address or password incorrect."), account=account)
    return Outcome(True, account=account)


def send_login_code(account: Account) -> OneTimeCode:
    """A 6-digit code, valid 10 minutes, 5 tries; older live codes of the account stop working."""
    now = clock.utcnow()
    db.session.execute(update(OneTimeCode).where(OneTimeCode.account_id == account.id,
                                                 OneTimeCode.used_at.is_(None)).values(used_at=now))
    code = codes.digits(6)
    otp = OneTimeCode(account_id=account.id, code_hash=codes.keyed_hash(code, "otp"),
                      expires_at=now + timedelta(minutes=current_app.config["OTP_MINUTES"]))
    db.session.add(otp)
    db.session.flush()
    notify.send_mail(account.email, _("Your Carnet login code: %(code)s", code=code), _(
        "Your one-time login code is %(code)s.\n\nIt is valid for %(minutes)s minutes. "
        "If you did not try to log in, change your password: someone knows it.\n",
        code=code, minutes=current_app.config["OTP_MINUTES"]))
    return otp


def check_login_code(otp_id: str | None, code: str) -> Outcome:
    otp = db.session.get(OneTimeCode, otp_id, with_for_update=True) if otp_id else None
    now = clock.utcnow()
    max_tries = current_app.config["OTP_MAX_TRIES"]
    if otp is None or otp.used_at is not None or otp.expires_at < now or otp.attempts >= max_tries:
        return Outcome(False, _("This code is no longer valid. Log in again to receive a new one."), limited=True)
    if not codes.matches(code, otp.code_hash, "otp"):
        otp.attempts += 1
        left = max_tries - otp.attempts
        if left <= 0:
            otp.used_at = now
            return Outcome(False, _("Too many wrong codes. Log in again to receive a new one."), limited=True)
        return Outcome(False, ngettext("Wrong code. %(num)d try left.", "Wrong code. %(num)d tries left.", left))
    otp.used_at = now
    return Outcome(True, account=db.session.get(Account, otp.account_id))


def record_login(account: Account) -> None:
    account.last_login_at = clock.utcnow()

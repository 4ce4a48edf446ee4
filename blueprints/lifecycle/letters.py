"""The activation letter of a space made from the population file: by mail when an email is
known, otherwise a page of a PDF for the postal service. It carries the code, the 6-week
deadline to object and how to object (the public page, or a letter to the insurer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app
from flask_babel import force_locale

from core import clock, formatting, notify, pdf
from core.i18n import gettext as _

LETTERS_PER_PDF = 100  # a print shop's file; a letter is one page, two at most
PDF_SECONDS = 120  # a hundred pages take a few seconds, more on a busy machine


@dataclass(frozen=True)
class Letter:
    """What one letter says (the code in clear exists only here, never in the database)."""

    name: str
    code: str
    until: datetime
    child: bool = False


def site_url(path: str) -> str:
    """A page of the public site, written in a letter (commands have no request to build it from)."""
    return current_app.config["WEBAUTHN_ORIGIN"].rstrip("/") + path


def mail_body(letter: Letter) -> str:
    return mail_bodies([letter])[0]


def mail_bodies(batch: list[Letter]) -> list[str]:
    """The letters' texts, the catalogue read once for the whole batch: a million letters are
    a million string formats, not a million catalogue look-ups."""
    with force_locale("fr"):
        intros = {
            True: _(
                "A Carnet health space has been created for your child %(name)s. You manage it from your own space."
            ),
            False: _("A Carnet health space has been created for you, %(name)s."),
        }
        text = _(
            "Hello,\n\n%(intro)s\n\n"
            "To open it, go to %(activate)s and enter the social security number, the date of birth and "
            "this code:\n\n    %(code)s\n\n"
            "This code can be used once and is valid until %(until)s.\n\n"
            "You may object to this space until %(until)s: go to %(oppose)s with the same details, or "
            "write to your health insurance fund. The space and everything in it will then be deleted.\n"
            "Without an answer from you by that date, the space stays open: health professionals may "
            "add documents to it, and you can activate it whenever you like.\n"
        )
        days = {until: formatting.day(until) for until in {letter.until for letter in batch}}
    urls = {"activate": site_url("/activation"), "oppose": site_url("/opposition")}
    return [
        text
        % {
            "intro": intros[letter.child] % {"name": letter.name},
            "code": letter.code,
            "until": days[letter.until],
            **urls,
        }
        for letter in batch
    ]


def send_mails(batch: list[tuple[str, Letter]]) -> None:
    """The letters of a batch that go by email (one catalogue switch for all of them)."""
    with force_locale("fr"):
        subject = _("Your Carnet health space: activation code and right to object")
    bodies = mail_bodies([letter for _to, letter in batch])
    notify.send_mails([(to, subject, body) for (to, _letter), body in zip(batch, bodies, strict=True)])


def letters_dir() -> Path:
    path = Path(current_app.instance_path) / "letters"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_pdf(batch: list[tuple[str, Letter]], name: str) -> Path:
    """One PDF of activation letters (an address and a letter per page), for the printer."""
    bodies = mail_bodies([letter for _address, letter in batch])
    return _pdf([(address, body, letter.code) for (address, letter), body in zip(batch, bodies, strict=True)], name)


def write_text_pdf(address: str, text: str, name: str) -> Path:
    """One letter (a receipt) as a PDF, for a person known only by a postal address."""
    return _pdf([(address, text, None)], name)


def _pdf(pages: list[tuple[str, str, str | None]], name: str) -> Path:
    with force_locale("fr"):
        # Rendered by the app's (autoescaped) environment without the page context processors:
        # a command has no request, and a letter needs no viewer.
        html = current_app.jinja_env.get_template("lifecycle/print_letters.html").render(
            letters=[{"address": a, "body": text.split("\n\n"), "code": code} for a, text, code in pages],
            today=formatting.day(clock.utcnow()),
        )
    data = pdf.html_to_pdf(html, current_app.static_folder, timeout=PDF_SECONDS, max_pages=2 * len(pages))
    path = letters_dir() / name
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path

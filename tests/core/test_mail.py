"""Real mail: a real SMTP server runs in the test process (aiosmtpd) and what it received is
read back. A server that is down loses nothing: the mail waits in the spool, the operator
sees it (`flask mail queue`), and `flask mail deliver` sends it once the server is back."""

from __future__ import annotations

import socket
import time
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from core import mail, notify
from tests.messaging.helpers import grant, write_new


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    controller = None

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self):
        return [message_from_bytes(content, policy=policy.default) for _f, _t, content in self.received]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    """A live SMTP server on localhost, and the app configured to use it (plain SMTP: the test
    server has no certificate)."""
    inbox = Inbox()
    inbox.port = free_port()
    inbox.start()
    saved = {k: app.config.get(k) for k in ("MAIL_SMTP_HOST", "MAIL_SMTP_PORT", "MAIL_SMTP_SECURITY")}
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=inbox.port, MAIL_SMTP_SECURITY="none")
    try:
        yield inbox
    finally:
        inbox.stop()
        app.config.update(saved)
        for path in mail.spool_dir(app.instance_path).iterdir():
            path.unlink()


def spool(app):
    return mail.queue(mail.spool_dir(app.instance_path))


def test_a_mail_goes_out_over_smtp_and_to_the_outbox(app, smtp):
    with app.app_context():
        outbox = notify.send_mail("camille@example.fr", "Carnet : essai", "Bonjour Camille")
    (msg,) = smtp.messages()
    assert msg["To"] == "camille@example.fr" and msg["Subject"] == "Carnet : essai"
    assert "Bonjour Camille" in msg.get_content() and msg["Message-ID"]
    assert smtp.received[0][1] == ["camille@example.fr"]
    assert outbox is not None and outbox.exists()  # the demo's copy is kept
    assert spool(app) == []


def test_a_message_in_carnet_mails_the_holder_after_the_answer(app, smtp, make_holder, make_pro, login_as):
    holder, pro = make_holder()[0], make_pro()
    grant(app, holder, pro)
    client = app.test_client()
    login_as(client, pro)
    r = write_new(client, holder.patient_id, subject="Vos résultats", body="Texte confidentiel")
    assert r.status_code == 303
    r.close()  # the WSGI server closes the answer once sent: the mail leaves then
    deadline = time.monotonic() + 10
    while not smtp.received and time.monotonic() < deadline:
        time.sleep(0.05)
    (msg,) = smtp.messages()
    assert msg["To"] == holder.email and "Vos résultats" in msg.get_content()
    assert "Texte confidentiel" not in msg.get_content()


def test_a_down_server_loses_nothing_and_the_mail_is_retried(app, smtp):
    runner = app.test_cli_runner()
    smtp.stop()  # the server goes down
    with app.app_context():
        notify.send_mail("camille@example.fr", "Carnet : rappel", "Votre rendez-vous")
    (waiting,) = spool(app)
    assert waiting.attempts == 1 and waiting.last_error and waiting.next_at > time.time()
    listed = runner.invoke(args=["mail", "queue"])
    assert listed.exit_code == 0 and "camille@example.fr" in listed.output and "attempts 1" in listed.output

    not_due = runner.invoke(args=["mail", "deliver"])
    assert "0 sent" in not_due.output and "1 not yet due" in not_due.output
    failed_again = runner.invoke(args=["mail", "deliver", "--all"])
    assert failed_again.exit_code == 1 and "1 failed" in failed_again.output
    (waiting,) = spool(app)
    assert waiting.attempts == 2 and waiting.next_at - time.time() > mail.BACKOFF_FIRST_SECONDS  # it doubled

    smtp.start()  # back up
    with app.app_context():
        report = mail.deliver(mail.settings(app.config, app.instance_path), now=time.time() + 3600)
    assert report.sent == 1 and spool(app) == []
    (msg,) = smtp.messages()
    assert msg["Subject"] == "Carnet : rappel"
    assert "No mail waiting" in runner.invoke(args=["mail", "queue"]).output


def test_starttls_is_required_when_configured(app, smtp):
    app.config["MAIL_SMTP_SECURITY"] = "starttls"  # the test server offers no STARTTLS
    with app.app_context():
        notify.send_mail("camille@example.fr", "Carnet : essai", "Bonjour")
    assert smtp.received == []
    (waiting,) = spool(app)
    assert "STARTTLS" in waiting.last_error or "starttls" in waiting.last_error.lower()


def test_a_claim_left_by_a_dead_worker_is_taken_back(app, smtp):
    s = mail.settings(app.config, app.instance_path)
    msg = notify.EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.fr", "b@example.fr", "x"
    msg.set_content("y")
    name = mail.enqueue(s.spool, msg)
    claimed = s.spool / f"{name}.json.sending"
    (s.spool / f"{name}.json").rename(claimed)  # a worker took it, then died
    assert mail.deliver(s).sent == 0
    assert mail.deliver(s, now=time.time() + mail.STALE_CLAIM_SECONDS + 1).sent == 1
    assert len(smtp.received) == 1


def test_no_smtp_configured_keeps_the_outbox_only(app):
    assert mail.settings(app.config, app.instance_path) is None
    with app.app_context():
        assert notify.send_mail("camille@example.fr", "s", "b").exists()
    assert app.test_cli_runner().invoke(args=["mail", "queue"]).exit_code != 0


def test_security_setting_is_checked(app):
    with pytest.raises(ValueError):
        mail.settings({"MAIL_SMTP_HOST": "smtp.example.fr", "MAIL_SMTP_SECURITY": "tls1"}, app.instance_path)


def test_letters_sent_in_bulk_wait_in_the_spool_for_the_operators_delivery(app, smtp):
    """Activation letters mailed by the thousand (notify.send_mails) are not mailed one by one
    while the file is read: each waits in the spool, and `flask mail deliver` sends them."""
    letters = [(f"personne{n}@example.fr", "Carnet : votre espace", f"Votre code {n}") for n in range(3)]
    with app.app_context():
        notify.send_mails(letters)
    assert len(spool(app)) == 3 and smtp.messages() == []
    delivered = app.test_cli_runner().invoke(args=["mail", "deliver"])
    assert delivered.exit_code == 0 and "3 sent" in delivered.output
    assert sorted(m["To"] for m in smtp.messages()) == [to for to, _s, _b in letters]
    assert spool(app) == []


def test_a_batch_in_the_spool_reads_as_it_was_written(app, smtp):
    """The batch path writes the messages' bytes itself (no EmailMessage per letter): accents in
    the subject and body, a Message-ID each, and no temporary file left in the spool."""
    letters = [
        (f"p{n}@example.fr", "Carnet : votre espace santé", f"Bonjour Léa,\n\nVotre code : {n}\n") for n in (1, 2)
    ]
    with app.app_context():
        notify.send_mails(letters)
    folder = mail.spool_dir(app.instance_path)
    assert sorted(p.suffix for p in folder.iterdir()) == [".eml", ".eml", ".json", ".json"]
    assert [q.subject for q in spool(app)] == ["Carnet : votre espace santé"] * 2
    assert "2 sent" in app.test_cli_runner().invoke(args=["mail", "deliver"]).output
    got = sorted(smtp.messages(), key=lambda m: m["To"])
    assert [m["Subject"] for m in got] == ["Carnet : votre espace santé"] * 2
    assert got[0].get_content() == "Bonjour Léa,\n\nVotre code : 1\n"
    assert got[0]["Message-ID"] and got[0]["Message-ID"] != got[1]["Message-ID"]

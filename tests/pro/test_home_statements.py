"""A professional's home reads through statements built once (docs/performance.md, 78): its
patients, live emergency accesses, agenda and newest conversation come from compiled.Fixed
statements whose professional is a parameter, and read what the statements the gates build
for that professional read: an ended access, a block, a closed space and an expired emergency
access are left out as before."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from blueprints.agenda import practice
from blueprints.agenda.models import Appointment
from blueprints.messaging import services as messaging
from blueprints.messaging.models import Thread
from blueprints.pro import services as pro_services
from core import access, clock, grants
from core.db import db
from core.people import Account, Patient
from tests.helpers import statements


def _appointment(patient_id, professional_id, starts_at, status="proposed", counter=None):
    return Appointment(
        patient_id=patient_id,
        professional_id=professional_id,
        with_name="Dr Test",
        starts_at=starts_at,
        duration_minutes=20,
        place="Cabinet",
        reason="Suivi",
        status=status,
        counter_starts_at=counter,
        proposed_by="professional",
    )


def _practice(app, make_holder, make_pro):
    """A professional with five patients: two open, one whose access ended, one who blocked
    them, one whose space is closed; each with an appointment, a conversation and (for three)
    an emergency access, one of them expired."""
    pro = make_pro()
    now = clock.utcnow()
    with app.app_context():
        professional = db.session.get(Account, pro.id).professional
        for n, fate in enumerate(("open", "open", "ended", "blocked", "closed")):
            holder, _ = make_holder(given_names=f"Patient{n}", family_name=f"Nom{4 - n}")
            patient_id = holder.patient_id
            grant = grants.Grant(
                patient_id=patient_id, professional_id=professional.id, created_at=now - timedelta(days=n)
            )
            if fate == "ended":
                grant.ended_at = now
            if fate == "blocked":
                db.session.add(grants.Block(patient_id=patient_id, rpps=professional.rpps, name="Dr"))
            if fate == "closed":
                db.session.get(Patient, patient_id).status = "closed"
            db.session.add(grant)
            status, counter = ("countered", now + timedelta(days=2)) if n % 2 else ("confirmed", None)
            db.session.add(_appointment(patient_id, professional.id, now + timedelta(days=n + 1), status, counter))
            db.session.add(
                Thread(
                    patient_id=patient_id,
                    professional_id=professional.id,
                    subject=f"Sujet {n}",
                    started_by="holder",
                    last_message_at=now - timedelta(hours=n),
                    pro_unread=n + 1,
                )
            )
            if n in (0, 2, 3):
                ends = now + timedelta(hours=2) if n != 2 else now - timedelta(minutes=1)
                db.session.add(
                    grants.EmergencyAccess(
                        patient_id=patient_id,
                        professional_id=professional.id,
                        samu=False,
                        reason="Urgence",
                        created_at=now - timedelta(minutes=n),
                        expires_at=ends,
                    )
                )
        db.session.commit()
    return pro


def test_a_professionals_home_runs_no_statement_built_at_the_request(app, make_holder, make_pro, login_as):
    pro = _practice(app, make_holder, make_pro)
    client = app.test_client()
    login_as(client, pro)
    assert client.get("/").status_code == 200  # compiled on the first visit
    with app.app_context():
        engine = db.engine
    with statements(engine) as seen:
        page = client.get("/").get_data(as_text=True)
    read = " ".join(seen).lower()
    for table in ("appointments", "grants", "emergency_accesses", "message_threads"):
        assert table not in read, table
    assert "Patient0" in page and "Patient1" in page and "Patient2" not in page  # an ended access


def test_a_professionals_home_reads_what_the_gates_build_for_them(app, make_holder, make_pro):
    pro = _practice(app, make_holder, make_pro)
    with app.test_request_context():
        account = db.session.get(Account, pro.id)
        viewer = access.viewer_for(account)
        home = pro_services.home(viewer)
        agenda = practice.overview(viewer)
        card = messaging.summary(viewer)

        # the statements the gates build for this professional, as the home built them before
        professional = viewer.professional
        granted = db.session.execute(
            select(grants.Grant.id, Patient.given_names)
            .join(Patient, Patient.id == grants.Grant.patient_id)
            .where(grants.Grant.professional_id == professional.id, grants.Grant.ended_at.is_(None))
            .where(
                ~select(grants.Block.id)
                .where(grants.Block.patient_id == Patient.id, grants.Block.rpps == professional.rpps)
                .exists()
            )
            .order_by(Patient.family_name, Patient.given_names)
        ).all()
        assert [(p["access_id"], p["name"].split()[0]) for p in home["patients"]] == [tuple(r) for r in granted]
        assert [p["name"].split()[0] for p in home["emergencies"]] == ["Patient0"]  # 2 expired, 3 blocked

        built = access.scope_practice(viewer, select(Appointment.id, Appointment.status))
        expected = db.session.execute(built.order_by(Appointment.starts_at)).all()
        shown = {r.id: r.status for r in (*agenda["to_answer"], *agenda["coming"])}
        assert shown == {r.id: r.status for r in expected} and len(shown) == 2
        links = {r.link.split("#")[0] for r in (*agenda["to_answer"], *agenda["coming"])}
        assert links <= {f"/agenda/dossier/{g}" for g in access.practice_grants(viewer).values()} and len(links) == 2

        threads = access.scope_threads(viewer, select(Thread.id, Thread.pro_unread))
        newest = db.session.execute(threads.order_by(Thread.last_message_at.desc())).first()
        total = db.session.scalar(select(func.sum(threads.subquery().c.pro_unread)))
        assert card["latest"]["id"] == newest.id and card["unread"] == total
        assert card["latest"]["with"].startswith("Patient0") and card["latest"]["unread"] == 1


def test_a_record_viewer_gets_no_practice(app, make_holder, make_pro):
    """The gate gives nothing to a professional acting on one record: neither do the statements."""
    pro = _practice(app, make_holder, make_pro)
    with app.test_request_context():
        account = db.session.get(Account, pro.id)
        grant = db.session.scalar(select(grants.Grant).where(grants.Grant.ended_at.is_(None)))
        on_record = access.record_viewer(access.viewer_for(account), grant.id)
        assert on_record.on_record
        assert practice.overview(on_record)["coming"] == [] and messaging.summary(on_record)["latest"] is None

"""The demo space: Camille Martin, a fictitious holder with a realistic identity, and a
fictitious general practitioner."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from blueprints.auth import services as auth
from blueprints.demo.agenda import add_demo_agenda
from blueprints.demo.documents import add_demo_deposit, add_demo_documents
from blueprints.demo.measures import add_demo_measures
from blueprints.demo.reimbursements import add_demo_reimbursements
from core import clock
from core.db import db
from core.grants import Grant
from core.identifiers import nir_key
from core.people import Account, Patient

HOLDER_EMAIL = "camille.martin@example.fr"
PRO_EMAIL = "dr.bernard@example.fr"
PASSWORD = "carnet-demo-2026"
# NIR of a woman born in March 1987 in Paris (75), key computed: fictitious.
HOLDER_NIR = "2870375112345"


def seed() -> bool:
    """Create the demo space if the database has no patient yet. Returns True if it did."""
    if db.session.scalar(select(Patient.id).limit(1)):
        return False
    nir = HOLDER_NIR + f"{nir_key(HOLDER_NIR):02d}"
    patient, _code = auth.create_pending_space(
        nir=nir,
        email=HOLDER_EMAIL,
        birth_date=date(1987, 3, 14),
        given_names="Camille Louise",
        family_name="Martin",
        sex="F",
        birth_place_code="75112",
    )
    account = db.session.scalar(select(Account).where(Account.patient_id == patient.id))
    auth.finish_activation(account, PASSWORD)
    patient.activated_at = clock.utcnow()
    add_demo_documents(account)
    add_demo_measures(patient.id)
    doctor = auth.create_professional(
        rpps="10101234567",
        email=PRO_EMAIL,
        given_name="Hélène",
        family_name="Bernard",
        profession="medecin",
        specialty="Médecine générale",
        password=PASSWORD,
    )
    # Camille's médecin traitant has permanent access: the professional side has a patient to open.
    grant = Grant(patient_id=patient.id, professional_id=doctor.professional.id)
    db.session.add(grant)
    db.session.flush()
    add_demo_deposit(doctor, grant.id)
    add_demo_reimbursements(patient.id)
    add_demo_agenda(account, doctor, grant.id)
    db.session.commit()
    return True

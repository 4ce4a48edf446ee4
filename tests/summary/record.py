"""A holder's record filled through the profile's own forms (as the screens post them), for
the tests of "Ma synthèse". Plain functions: the fixtures stay in conftest files."""

from __future__ import annotations

from datetime import date, time

from tests.helpers import csrf_token

HX = {"HX-Request": "true"}
# A name that would be markup if it were not escaped, and an ampersand.
EVIL = '<b>Pénicilline</b> & "amoxicilline"'


def post(client, url: str, **data):
    data["csrf_token"] = csrf_token(client, "/profil")
    r = client.post(url, data=data, headers=HX)
    assert r.status_code == 200, (url, r.status_code, r.get_data(as_text=True)[:500])
    return r


def fill(client, make_measure, account, *, measures: bool = True) -> None:
    """Allergies of three severities (the mild one first in the alphabet), a current and a
    stopped treatment, history, a vaccination, contacts, doctor, blood group, donation."""
    post(client, "/profil/allergies/ajouter", substance="Acariens", severity="mild", reaction="Rhinite")
    post(client, "/profil/allergies/ajouter", substance=EVIL, severity="severe", reaction="Œdème de Quincke")
    post(client, "/profil/allergies/ajouter", substance="Latex", severity="moderate")
    post(client, "/profil/traitements/ajouter", name="Levothyrox 75 µg", dosage="1 comprimé le matin", ongoing="y")
    post(client, "/profil/traitements/ajouter", name="Ancien sirop", since="2020-01-01", until="2020-02-01")
    post(client, "/profil/antecedents/ajouter", kind="medical", label="Hypothyroïdie", year="2015")
    post(client, "/profil/antecedents/ajouter", kind="family", label="Diabète (père)")
    post(client, "/profil/vaccinations/ajouter", name="Grippe saisonnière", on_date="2025-10-18", lot_number="FL2291")
    post(client, "/profil/handicaps/ajouter", label="Malentendante (appareillée)")
    post(
        client,
        "/profil/contacts/ajouter",
        role="emergency",
        name="Jules Martin",
        relation="Frère",
        phone="06 12 34 56 78",
    )
    post(client, "/profil/contacts/ajouter", role="trusted", name="Alice Roy", phone="01 23 45 67 89")
    post(client, "/profil/groupe-sanguin/modifier", blood_group="O-")
    post(client, "/profil/don-d-organes/modifier", donation="yes", donation_note="Tous organes")
    post(
        client,
        "/profil/medecin-traitant/modifier",
        doctor_name="Dr Hélène Bernard",
        doctor_phone="01 45 67 89 10",
        doctor_rpps="10003456789",
    )
    if measures:
        for n, weight in enumerate((70.0, 71.2, 72.4)):
            make_measure(account, "weight", weight, day=date(2026, 9 + n, 1))
        make_measure(account, "blood_pressure", 128, 82, day=date(2026, 11, 2), at=time(8, 0))
        make_measure(account, "height", 168)

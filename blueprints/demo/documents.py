"""The demo space's documents, made on the spot (no binary files in the repository): a
prescription (text), a blood test report (PDF rendered by WeasyPrint), a phone's photo of the
vaccination record (JPEG), and a consultation report the médecin traitant deposited herself."""

from __future__ import annotations

import io
from datetime import date

from flask import current_app
from PIL import ExifTags, Image, ImageDraw, ImageFont

from blueprints.documents import services as documents
from blueprints.pro import services as pro
from core import access, pdf
from core.access import viewer_for

PRESCRIPTION = """Dr Hélène Bernard — Médecine générale
12 rue des Lilas, 75011 Paris — RPPS 10101234567

Paris, le 4 novembre 2026

Mme Camille Martin, née le 14/03/1987

1. Amoxicilline 1 g : 1 comprimé matin et soir pendant 6 jours.
2. Paracétamol 1 g : 1 comprimé jusqu'à 3 fois par jour si douleur ou fièvre.

Ordonnance non renouvelable.
"""

LAB_REPORT = """<html lang="fr"><head><meta charset="utf-8"><style>
@page { size: A4; margin: 2cm; } body { font-family: sans-serif; font-size: 11pt; }
h1 { font-size: 16pt; margin: 0 0 4pt; } table { border-collapse: collapse; width: 100%; margin-top: 12pt; }
td, th { border-bottom: 1px solid #ccc; padding: 4pt; text-align: left; } .n { text-align: right; }
</style></head><body>
<h1>Laboratoire de biologie médicale des Lilas</h1>
<p>Patiente : Camille Martin, née le 14/03/1987 — prélèvement du 28 octobre 2026 à 8 h 10, à jeun</p>
<table><tr><th>Examen</th><th class="n">Résultat</th><th>Valeurs de référence</th></tr>
<tr><td>Glycémie à jeun</td><td class="n">0,92 g/L</td><td>0,70 – 1,10</td></tr>
<tr><td>Hémoglobine glyquée (HbA1c)</td><td class="n">5,4 %</td><td>4,0 – 6,0</td></tr>
<tr><td>Cholestérol LDL</td><td class="n">1,18 g/L</td><td>&lt; 1,60</td></tr>
<tr><td>Créatinine</td><td class="n">7,1 mg/L</td><td>5,0 – 9,0</td></tr></table>
<p>Document de démonstration : personne et résultats fictifs.</p></body></html>"""


CONSULTATION = """Dr Hélène Bernard — Médecine générale

Consultation du 4 novembre 2026 — Mme Camille Martin

Motif : angine, fièvre depuis deux jours.
Examen : amygdales inflammatoires, test rapide streptocoque positif.
Conduite à tenir : amoxicilline 6 jours (ordonnance remise), paracétamol si besoin.
Revoir si la fièvre persiste au-delà de 48 heures de traitement.

Document de démonstration : données fictives.
"""


VACCINATIONS = [
    "CARNET DE VACCINATION",
    "Camille Martin, née le 14/03/1987",
    "",
    "DTP (rappel 25 ans)     12/05/2012   lot K4821",
    "Grippe saisonnière      18/10/2025   lot FL2291",
    "Covid-19 (rappel)       18/10/2025   lot CV7730",
    "",
    "Document de démonstration :",
    "données fictives",
]


def _vaccination_photo() -> bytes:
    """The vaccination page as a phone photographs it: 12 megapixels, the page on a table under
    uneven light, the sensor's grain, stored turned with the EXIF orientation 6 as phones do
    when held upright (Carnet draws it upright for its page)."""
    width, height = 3024, 4032
    light = Image.linear_gradient("L").resize((width, height)).point(lambda v: 255 - v // 6)
    table = Image.merge(
        "RGB", [light.point(lambda v: v * 0.55), light.point(lambda v: v * 0.42), light.point(lambda v: v * 0.33)]
    )
    paper = Image.new("RGB", (width - 480, height - 640), (246, 243, 232))
    draw = ImageDraw.Draw(paper)
    draw.rectangle((60, 60, paper.width - 60, paper.height - 60), outline=(11, 110, 117), width=14)
    font = _font(92)
    for i, line in enumerate(VACCINATIONS):
        draw.text((150, 220 + i * 190), line, fill=(30, 40, 45), font=font)
    mask = Image.new("L", paper.size, 255).rotate(-1.5, resample=Image.Resampling.BICUBIC, expand=True)
    paper = paper.rotate(-1.5, resample=Image.Resampling.BICUBIC, expand=True)
    table.paste(paper, (200, 280), mask)  # the page turned a little, its corners on the table
    shaded = Image.composite(table, Image.new("RGB", table.size, (0, 0, 0)), light)
    photo = Image.blend(shaded, Image.effect_noise((width, height), 40).convert("RGB"), 0.06)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    out = io.BytesIO()
    photo.transpose(Image.Transpose.ROTATE_90).save(out, "JPEG", quality=88, exif=exif)
    return out.getvalue()


def _font(size: int):
    """DejaVu Sans (installed with WeasyPrint's fonts), which has French accents; else Pillow's own."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def add_demo_documents(account) -> None:
    viewer = viewer_for(account)
    items = [
        (
            "ordonnance-dr-bernard.txt",
            PRESCRIPTION.encode(),
            "ORD_SOIN",
            date(2026, 11, 4),
            "Ordonnance du Dr Bernard",
            None,
        ),
        (
            "bilan-sanguin.pdf",
            pdf.html_to_pdf(LAB_REPORT, current_app.static_folder),
            "BIOLOGIE",
            date(2026, 10, 28),
            "Bilan sanguin",
            "À montrer au Dr Bernard au prochain rendez-vous.",
        ),
        ("IMG_20251018_1412.jpg", _vaccination_photo(), "DOC_ADM", date(2025, 10, 18), "Carnet de vaccination", None),
    ]
    for name, data, category, act_date, title, note in items:
        documents.add_documents(
            viewer,
            [documents.Upload(io.BytesIO(data), name)],
            category=category,
            act_date=act_date,
            title=title,
            note=note,
            source="demo",
        )


def add_demo_deposit(doctor_account, grant_id: str) -> None:
    """The médecin traitant's consultation report, deposited through her permanent access, as
    the professional side does it: the holder sees who wrote it, and is told."""
    on_record = access.record_viewer(viewer_for(doctor_account), grant_id)
    pro.deposit(
        on_record,
        [documents.Upload(io.BytesIO(CONSULTATION.encode()), "compte-rendu-consultation.txt")],
        category="CPT_REND",
        act_date=date(2026, 11, 4),
        title="Compte rendu de consultation",
        note=None,
    )

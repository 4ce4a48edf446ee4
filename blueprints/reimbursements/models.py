"""Reimbursements: one row per act on the insurer's statement ("décompte").

Every amount is integer cents. The insurer's reference is unique per holder: a statement sent
again finds its lines already there, and a corrected line (same reference, other content)
replaces its earlier version in place, its revision counted. What a source sent that has no
French field (a FHIR adjudication category without equivalent) is kept in `unmapped`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from blueprints.documents.models import fold
from core import clock
from core.db import Base, uuid_pk

NATURES = (
    "consultation",
    "pharmacie",
    "biologie",
    "radiologie",
    "hospitalisation",
    "dentaire",
    "optique",
    "auxiliaires",
    "transport",
    "autre",
)
STATUSES = ("pending", "paid", "rejected")


class Reimbursement(Base):
    __tablename__ = "reimbursements"
    __table_args__ = (
        Index("ux_reimbursements_patient_reference", "patient_id", "reference", unique=True),
        Index("ix_reimbursements_patient_care", "patient_id", "care_date", "id"),
        Index("ix_reimbursements_patient_provider", "patient_id", "provider"),  # the filter's choices
        # the home card's last payment: a seek, not the whole history sorted (performance.md, 27)
        Index("ix_reimbursements_patient_paid", "patient_id", "status", "paid_on", "id"),
    )

    id: Mapped[str] = uuid_pk()
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))  # indexed by both indexes above
    reference: Mapped[str] = mapped_column(String(80))  # the insurer's, unique per holder
    source: Mapped[str] = mapped_column(String(8))  # fhir | releve | demo
    care_date: Mapped[date] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)
    nature: Mapped[str] = mapped_column(String(16))
    act: Mapped[str] = mapped_column(String(200), default="")
    provider: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(8), default="paid")  # pending | paid | rejected
    rejection: Mapped[str | None] = mapped_column(String(300))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    charged: Mapped[int] = mapped_column(Integer, default=0)  # what the holder paid (dépense)
    base: Mapped[int] = mapped_column(Integer, default=0)  # base de remboursement
    rate: Mapped[int] = mapped_column(SmallInteger, default=0)  # taux, percent
    amo: Mapped[int] = mapped_column(Integer, default=0)  # Assurance Maladie
    participation: Mapped[int] = mapped_column(Integer, default=0)  # participation forfaitaire
    franchise: Mapped[int] = mapped_column(Integer, default=0)  # franchise médicale
    amc: Mapped[int] = mapped_column(Integer, default=0)  # complémentaire (mutuelle)
    remainder: Mapped[int] = mapped_column(Integer, default=0)  # reste à charge
    unmapped: Mapped[list | None] = mapped_column(JSON(none_as_null=True))  # [[label, cents | None], ...]
    issued_at: Mapped[datetime | None] = mapped_column()  # the insurer's version of the line
    claim_ref: Mapped[str | None] = mapped_column(String(120))  # the claim the AMO's EOB answers
    # The complementary insurer's EOB that filled `amc` (its reference); equal to `reference` on
    # a line made of an AMC's EOB alone, waiting for the AMO's line of the same act.
    amc_reference: Mapped[str | None] = mapped_column(String(80))
    digest: Mapped[str] = mapped_column(String(40))  # of the content: a re-sent line is recognised
    revision: Mapped[int] = mapped_column(Integer, default=1)
    import_id: Mapped[str | None] = mapped_column(String(36))  # the job that wrote this version
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"), index=True)
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=clock.utcnow, onupdate=clock.utcnow)

    @property
    def audit_label(self) -> str:
        return f"{self.act or self.nature} {self.care_date.isoformat()}"


def search_text(act: str | None, provider: str | None, reference: str | None) -> str:
    """The words a search finds, folded (lower case, no accents); plain ASCII needs no folding."""
    return " ".join(p.lower() if p.isascii() else fold(p) for p in (act, provider, reference) if p)

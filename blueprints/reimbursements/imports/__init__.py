"""Statements from the insurer, through the measures' import jobs (blueprints/measures/imports:
the file stored encrypted, a job claimed atomically, parsed beside the writer, taken over if
its runner dies, the file shredded at the end). Two formats are registered there: "releve",
the French CSV statement (statement.py), and "eob", FHIR ExplanationOfBenefit (eob.py); the
writer (writer.py) makes every import idempotent and applies corrections."""

from __future__ import annotations

from blueprints.measures.imports import formats
from blueprints.reimbursements.imports import eob, statement, writer
from core.audit import Action

FORMATS = ("releve", "eob")

formats.register(
    "releve",
    formats.Format(
        parser="blueprints.reimbursements.imports.statement:parse",
        writer=writer.Writer,
        stored=writer.stored,
        action_started=Action.REIMBURSEMENTS_IMPORT_STARTED,
        action_finished=Action.REIMBURSEMENTS_IMPORTED,
        max_bytes=statement.MAX_BYTES,
    ),
)
formats.register(
    "eob",
    formats.Format(
        parser="blueprints.reimbursements.imports.eob:parse",
        writer=writer.Writer,
        stored=writer.stored,
        action_started=Action.REIMBURSEMENTS_IMPORT_STARTED,
        action_finished=Action.REIMBURSEMENTS_IMPORTED,
        max_bytes=eob.MAX_BYTES,
        first_bytes=(b"{",),
    ),
)

"""FHIR R4 ExplanationOfBenefit, as the CARIN Blue Button profile, Synthea and payer APIs
write it: a Bundle of them, one resource alone, or NDJSON (a bulk export). Each EOB is one
statement line.

How the adjudication categories map onto the French fields (DOMAIN.md):
  submitted → montant payé (dépense)          eligible → base de remboursement
  benefit → remboursé par l'Assurance Maladie  copay → participation forfaitaire
  deductible → franchise                       memberliability, paidbypatient → reste à charge
The rate is what the insurer's share (AMO plus the deductibles taken from it) is of the base.
Every other category (noncovered, coinsurance, paidtoprovider, priorpayerpaid, discount...)
and a payment whose amount differs from the benefit are kept beside the line, by their code,
never dropped. Carnet's own EOBs (blueprints/fhir/eob.py) add the AMC share and the rate
under CARNET_ADJUDICATION and the nature under NATURE_SYSTEM, read back here as such.

A complementary insurer's (AMC, mutuelle) EOB is one that names the AMO's claim in `related`
or carries `priorpayerpaid` (what the prior payer, the AMO, paid): its `benefit` is the AMC
share of the act, and its row is marked (`related`, see rows.FIELDS) so the writer fills the
AMO's line with it instead of adding one.

The file is read whole (JSON), so it is bounded (MAX_BYTES) first."""

from __future__ import annotations

import json
from collections.abc import Iterable

from blueprints.measures.imports.importers.common import Collector, Refused
from blueprints.reimbursements.imports.rows import MAX_REFERENCE, BadValue, cents, day, issued
from blueprints.reimbursements.models import NATURES

MAX_BYTES = 50 * 1024 * 1024
CARNET_ADJUDICATION = "urn:carnet:adjudication"  # "amc" (an amount) and "rate" (a value, percent)
NATURE_SYSTEM = "urn:carnet:nature"  # the line's nature, on the EOB's type
MAPPED = {
    "amc": "amc",
    "submitted": "charged",
    "eligible": "base",
    "benefit": "amo",
    "copay": "participation",
    "deductible": "franchise",
    "memberliability": "remainder",
    "paidbypatient": "remainder",
}
_CPT = "http://www.ama-assn.org/go/cpt"
_TYPE_NATURE = {
    "pharmacy": "pharmacie",
    "oral": "dentaire",
    "vision": "optique",
    "institutional": "hospitalisation",
    "professional": "consultation",
}
_WORDS = (  # words of a service's name that say its nature better than the claim type
    ("laborator", "biologie"),
    ("blood test", "biologie"),
    ("radiolog", "radiologie"),
    ("x-ray", "radiologie"),
    ("imaging", "radiologie"),
    ("ambulance", "transport"),
    ("transport", "transport"),
    ("dental", "dentaire"),
    ("eyeglass", "optique"),
    ("lens", "optique"),
    ("physiotherap", "auxiliaires"),
    ("physical therap", "auxiliaires"),
    ("nursing", "auxiliaires"),
)


def _codes(concept) -> list[tuple[str, str]]:
    codings = (concept or {}).get("coding") or [] if isinstance(concept, dict) else []
    return [(c.get("system") or "", str(c.get("code") or "")) for c in codings if isinstance(c, dict)]


def _text(concept) -> str:
    if not isinstance(concept, dict):
        return ""
    if isinstance(concept.get("text"), str) and concept["text"].strip():
        return concept["text"].strip()
    for c in concept.get("coding") or []:
        if isinstance(c, dict) and (c.get("display") or c.get("code")):
            return str(c.get("display") or c.get("code"))
    return ""


def _category(adjudication: dict) -> str:
    codes = _codes(adjudication.get("category"))
    return codes[0][1] if codes else _text(adjudication.get("category")) or "?"


def _amounts(eob: dict) -> tuple[dict[str, int], list, str, set[str]]:
    """Totals per category (the EOB's `total` when given, else its items' sums), the
    currency, and the codes of amount-less adjudications (statuses such as innetwork)."""
    sums: dict[str, int] = {}
    currency = ""
    statuses: set[str] = set()
    detailed = [item.get("adjudication") or [] for item in eob.get("item") or [] if isinstance(item, dict)]
    detailed.append(eob.get("adjudication") or [])  # the claim's own (header) adjudications
    sources = [eob.get("total")] if eob.get("total") else detailed
    for adjudications in sources:
        for adj in adjudications:
            if not isinstance(adj, dict):
                continue
            code = _category(adj)
            amount = adj.get("amount")
            if not isinstance(amount, dict) or "value" not in amount:
                continue
            currency = currency or str(amount.get("currency") or "")
            sums[code] = sums.get(code, 0) + cents(amount["value"])
    for adjudications in detailed:  # statuses are written on items even when totals are given
        for adj in adjudications if isinstance(adjudications, list) else []:
            if isinstance(adj, dict) and not isinstance(adj.get("amount"), dict) and _category(adj) != "rate":
                statuses.add(_category(adj))
    return sums, currency or "EUR", statuses


def _stated_rate(eob: dict) -> int | None:
    """The rate Carnet wrote (CARNET_ADJUDICATION "rate"), when the EOB is one of Carnet's."""
    detailed = [item.get("adjudication") or [] for item in eob.get("item") or [] if isinstance(item, dict)]
    for adj in [a for adjudications in [*detailed, eob.get("adjudication") or []] for a in adjudications]:
        if isinstance(adj, dict) and (CARNET_ADJUDICATION, "rate") in _codes(adj.get("category")):
            value = adj.get("value")
            if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 100:
                return round(value)
    return None


def _ref_key(ref) -> str | None:
    """A claim named by identifier or by reference ("Claim/123", "urn:uuid:123") → "123"."""
    if not isinstance(ref, dict):
        return None
    ident = ref.get("identifier")
    if isinstance(ident, dict) and ident.get("value"):
        return str(ident["value"])[:120]
    text = str(ref.get("reference") or "")
    return text.rsplit("/", 1)[-1].rsplit(":", 1)[-1][:120] or None


def _related_claims(eob: dict) -> list[str]:
    keys = [_ref_key(r.get("claim")) for r in eob.get("related") or [] if isinstance(r, dict)]
    return [k for k in keys if k]


def _provider(eob: dict, names: dict[str, str]) -> str:
    refs = [eob.get("provider"), eob.get("facility")]
    refs += [(c or {}).get("provider") for c in eob.get("careTeam") or [] if isinstance(c, dict)]
    for ref in refs:
        if isinstance(ref, dict) and isinstance(ref.get("display"), str) and ref["display"].strip():
            return ref["display"].strip()
    for ref in refs:
        if isinstance(ref, dict) and names.get(str(ref.get("reference"))):
            return names[str(ref.get("reference"))]
    ref = eob.get("provider") if isinstance(eob.get("provider"), dict) else {}
    return str(ref.get("reference") or "")


def _nature(eob: dict) -> str:
    stated = [code for system, code in _codes(eob.get("type")) if system == NATURE_SYSTEM and code in NATURES]
    if stated:
        return stated[0]
    kind = next((code for _s, code in _codes(eob.get("type"))), "")
    items = [i for i in eob.get("item") or [] if isinstance(i, dict)]
    words = " ".join(_text(i.get("productOrService")).lower() for i in items)
    for word, nature in _WORDS:
        if word in words:
            return nature
    for item in items:
        for system, code in _codes(item.get("productOrService")):
            if system == _CPT and code.isdigit() and 70000 <= int(code) < 80000:
                return "radiologie"
            if system == _CPT and code.isdigit() and 80000 <= int(code) < 90000:
                return "biologie"
    if kind == "institutional" and "outpatient" in json.dumps(eob.get("subType") or {}).lower():
        return "consultation"
    return _TYPE_NATURE.get(kind, "autre")


def _act(eob: dict) -> str:
    items = [i for i in eob.get("item") or [] if isinstance(i, dict)]
    for item in items:
        name = _text(item.get("productOrService"))
        if name:
            codes = _codes(item.get("productOrService"))
            if codes and name == codes[0][1] and codes[0][0] == _CPT:
                name = f"CPT {name}"
            more = len({_text(i.get("productOrService")) for i in items}) - 1
            return f"{name} (+{more})" if more > 0 else name
    if any(system == NATURE_SYSTEM for system, _code in _codes(eob.get("type"))):
        return ""  # one of Carnet's, for a line that names no act
    return _text(eob.get("type"))


def _status(eob: dict, statuses: set[str]) -> str:
    if eob.get("outcome") == "error" or "denied" in statuses or "denialreason" in statuses:
        return "rejected"
    if eob.get("outcome") == "queued":
        return "pending"
    return "paid"


def eob_row(eob: dict, names: dict[str, str]) -> tuple:
    """One EOB → a row tuple (rows.FIELDS). Raises BadValue."""
    identifiers = [i for i in eob.get("identifier") or [] if isinstance(i, dict) and i.get("value")]
    reference = str(identifiers[0]["value"] if identifiers else eob.get("id") or "")
    if not reference or len(reference) > MAX_REFERENCE:
        raise BadValue("no_reference")
    period = eob.get("billablePeriod") or {}
    first_item = next((i for i in eob.get("item") or [] if isinstance(i, dict)), {})
    when = period.get("start") or first_item.get("servicedDate") or eob.get("created")
    if not isinstance(when, str):
        raise BadValue("bad_date")
    care = day(when)
    sums, currency, statuses = _amounts(eob)
    related = _related_claims(eob)
    complementary = bool(related) or "priorpayerpaid" in sums
    values = {field: 0 for field in {*MAPPED.values(), "prior"}}
    unmapped: list = []
    for code, amount in sorted(sums.items()):
        field = MAPPED.get(code)
        if complementary and code == "priorpayerpaid":
            field = "prior"
        if field is None:
            unmapped.append([code, amount])
        else:
            values[field] += amount
    payment = eob.get("payment") if isinstance(eob.get("payment"), dict) else {}
    paid_on = day(payment["date"]).isoformat() if isinstance(payment.get("date"), str) else None
    paid_amount = payment.get("amount")
    if isinstance(paid_amount, dict) and "value" in paid_amount and cents(paid_amount["value"]) != values["amo"]:
        unmapped.append(["payment", cents(paid_amount["value"])])
    unmapped += [[code, None] for code in sorted(statuses)]
    if complementary:  # its benefit is the AMC's share; the AMO's is what it paid before
        values["amc"], values["amo"] = values["amo"], values.get("prior", 0)
    if "memberliability" not in sums and "paidbypatient" not in sums:
        values["remainder"] = values["charged"] - values["amo"] - values["amc"]
    base = values["base"]
    insurer = values["amo"] + values["participation"] + values["franchise"]
    rate = max(0, min(100, round(100 * insurer / base))) if base > 0 else 0
    stated = _stated_rate(eob)
    rate = stated if stated is not None else rate
    status = _status(eob, statuses)
    rejection = None
    if status == "rejected":
        notes = [str(p["text"]) for p in eob.get("processNote") or [] if isinstance(p, dict) and p.get("text")]
        rejection = ("; ".join(notes) or str(eob.get("disposition") or ""))[:300] or None
    meta = eob.get("meta") if isinstance(eob.get("meta"), dict) else {}
    return (
        reference,
        care.isoformat(),
        paid_on,
        _nature(eob),
        _act(eob)[:200],
        _provider(eob, names)[:200],
        status,
        rejection,
        currency[:3].upper(),
        values["charged"],
        base,
        rate,
        values["amo"],
        values["participation"],
        values["franchise"],
        values["amc"],
        values["remainder"],
        json.dumps(unmapped, ensure_ascii=False) if unmapped else None,
        issued(meta.get("lastUpdated") or eob.get("created")),
        _ref_key(eob.get("claim")),
        json.dumps(related) if complementary else None,
    )


def _resources(data) -> list[dict]:
    if isinstance(data, dict) and data.get("resourceType") == "Bundle":
        return [
            e.get("resource")
            for e in data.get("entry") or []
            if isinstance(e, dict) and isinstance(e.get("resource"), dict)
        ]
    if isinstance(data, dict) and data.get("resourceType"):
        return [data]
    raise Refused("not_eob")


def _load(data: bytes) -> list[dict]:
    text = data.decode("utf-8-sig", errors="replace")
    try:
        return _resources(json.loads(text))
    except json.JSONDecodeError:
        pass
    found: list[dict] = []  # NDJSON: one resource per line
    for line in text.splitlines():
        if line.strip():
            try:
                found += _resources(json.loads(line))
            except json.JSONDecodeError:
                raise Refused("json") from None
    if not found:
        raise Refused("json")
    return found


def _names(resources: list[dict]) -> dict[str, str]:
    """Organization and Practitioner names by the references an EOB may use."""
    names: dict[str, str] = {}
    for r in resources:
        kind = r.get("resourceType")
        if kind not in ("Organization", "Practitioner") or not r.get("id"):
            continue
        name = r.get("name")
        if isinstance(name, list):
            first = next((n for n in name if isinstance(n, dict)), {})
            name = first.get("text") or " ".join(
                [*(first.get("prefix") or []), *(first.get("given") or []), first.get("family") or ""]
            )
        if isinstance(name, str) and name.strip():
            for ref in (f"{kind}/{r['id']}", f"urn:uuid:{r['id']}"):
                names[ref] = name.strip()
    return names


def parse(chunks: Iterable[bytes], col: Collector, options: dict | None = None) -> None:
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > MAX_BYTES:
            raise Refused("too_large")
    col.done_bytes = len(data)
    resources = _load(bytes(data))
    names = _names(resources)
    eobs = 0
    for n, r in enumerate(resources):
        if r.get("resourceType") != "ExplanationOfBenefit":
            col.ignore(str(r.get("resourceType") or "?")[:60])
            continue
        eobs += 1
        if r.get("status") in ("cancelled", "entered-in-error"):
            col.ignore(f"ExplanationOfBenefit ({r['status']})")
            continue
        try:
            col.extend([eob_row(r, names)])
        except BadValue as exc:
            col.reject(exc.reason, f"#{n + 1}")
    if not eobs:
        raise Refused("not_eob")

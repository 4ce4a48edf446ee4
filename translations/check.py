"""Check the translation catalogs before they are compiled.

    .venv/bin/python translations/check.py [--strict] [path/to/messages.po ...]

Without paths, every translations/<lang>/LC_MESSAGES/messages.po is checked.
Exits 1 when an entry is untranslated or fuzzy, when a translation does not carry
exactly the placeholders of its English text (``%(name)s``, ``%(num)d``, ``%%``...),
when a plural entry does not have the number of forms the catalog declares, or when
the catalog cannot be read. French typography (non-breaking space before « : ; ! ? »
and inside guillemets, one apostrophe style) is reported as a warning, and as an error
with --strict.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from babel.messages.pofile import read_po

HERE = Path(__file__).resolve().parent

# printf-style conversions as Python's % operator reads them: %(name)s, %(num)d, %5.1f, %%.
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?(?P<spec>[#0 +\-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%])"
)

NBSP = "\u00a0"
NNBSP = "\u202f"


def placeholders(text: str) -> tuple[frozenset[str], Counter]:
    """Named placeholders (as written, e.g. '%(num)d') and a count of unnamed ones ('%s', '%%')."""
    named, unnamed = set(), Counter()
    for m in PLACEHOLDER.finditer(text):
        if m.group("name") is not None:
            named.add(f"%({m.group('name')}){m.group('spec')}")
        else:
            unnamed[f"%{m.group('spec')}"] += 1
    stray = PLACEHOLDER.sub("", text).count("%")
    if stray:
        unnamed["lone %"] += stray
    return frozenset(named), unnamed


def _describe(named: frozenset[str], unnamed: Counter) -> str:
    items = sorted(named) + sorted(f"{k}×{v}" if v > 1 else k for k, v in unnamed.items())
    return ", ".join(items) or "none"


def typography_problems(text: str, lang: str) -> list[str]:
    if not lang.startswith("fr"):
        return []
    problems = []
    if re.search(r"(?<=\S) [:;!?»]", text) or re.search(r"« ", text):
        problems.append("ordinary space next to : ; ! ? « » (use a non-breaking space)")
    if re.search(r"[^\s" + NBSP + NNBSP + r"«(\[][;!?]", text) or re.search(
        r"[^\s" + NBSP + NNBSP + r"(\[/\d]:(?!//)", text
    ):
        problems.append("missing non-breaking space before : ; ! ?")
    if re.search(r"«[^\s" + NBSP + NNBSP + r"]", text) or re.search(r"[^\s" + NBSP + NNBSP + r"]»", text):
        problems.append("missing non-breaking space inside « »")
    if "'" in text and "\u2019" in text:
        problems.append("mixes ' and ’ apostrophes")
    return problems


def check_catalog(path: Path, strict: bool = False) -> tuple[list[str], list[str], dict]:
    errors: list[str] = []
    warnings: list[str] = []
    try:
        with path.open("rb") as f:
            catalog = read_po(f)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a broken catalog
        return [f"{path}: cannot be read: {exc}"], [], {"total": 0, "translated": 0}
    lang = str(catalog.locale or path.parent.parent.name)
    nplurals = catalog.num_plurals
    if catalog.fuzzy:
        errors.append(f"{path}: the catalog header is marked fuzzy")
    apostrophes = Counter()
    total = translated = 0
    for msg in catalog:
        if not msg.id:
            continue
        total += 1
        where = f"{path}:{msg.lineno}" if msg.lineno else str(path)
        ids = list(msg.id) if msg.pluralizable else [msg.id]
        strings = list(msg.string) if msg.pluralizable else [msg.string]
        label = repr(ids[0] if len(ids[0]) <= 70 else ids[0][:67] + "...")
        problems = []
        if msg.fuzzy:
            problems.append("is marked fuzzy")
        if not all(s for s in strings):
            problems.append("is not translated" if not any(strings) else "has an empty plural form")
        if msg.pluralizable and len(strings) != nplurals:
            problems.append(f"has {len(strings)} plural forms, the catalog declares {nplurals}")
        for i, s in enumerate(strings):
            if not s:
                continue
            source = ids[0] if i == 0 else ids[-1]
            want, got = placeholders(source), placeholders(s)
            if want != got:
                form = f" (form {i})" if msg.pluralizable else ""
                problems.append(
                    f"placeholders differ{form}: English has {_describe(*want)}, translation has {_describe(*got)}"
                )
            for t in typography_problems(s, lang):
                (errors if strict else warnings).append(f"{where}: {label}: {t}")
            apostrophes["’"] += s.count("\u2019")
            apostrophes["'"] += s.count("'")
        if problems:
            errors.extend(f"{where}: {label} {p}" for p in problems)
        else:
            translated += 1
    if lang.startswith("fr") and apostrophes["’"] and apostrophes["'"]:
        (errors if strict else warnings).append(
            f"{path}: both apostrophes are used (’ {apostrophes['’']} times, ' {apostrophes[chr(39)]} times): keep one"
        )
    return errors, warnings, {"total": total, "translated": translated}


def main(argv: list[str]) -> int:
    strict = "--strict" in argv
    paths = [Path(a) for a in argv if not a.startswith("--")]
    if not paths:
        paths = sorted(HERE.glob("*/LC_MESSAGES/*.po"))
    if not paths:
        print(f"No catalog found under {HERE}", file=sys.stderr)
        return 1
    failed = False
    for path in paths:
        errors, warnings, stats = check_catalog(path, strict=strict)
        for w in warnings:
            print(f"warning: {w}", file=sys.stderr)
        for e in errors:
            print(f"error: {e}", file=sys.stderr)
        pct = 100 * stats["translated"] / stats["total"] if stats["total"] else 100.0
        print(
            f"{path}: {stats['translated']} of {stats['total']} messages translated ({pct:.0f}%), "
            f"{len(errors)} error(s), {len(warnings)} warning(s)"
        )
        failed = failed or bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The prevention rules (rules.toml) and what they give for one person on one day.

Pure: a birth date, a sex, today, the vaccination entries of the profile and the holder's
marks in; items out. Each item is one occurrence of a rule (a dose, an examination, one
screening round), keyed by rule and age ("colorectal@52y", or "flu@2026" for a season), so a
mark stays on its item when other items come and go."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

RULES_FILE = Path(__file__).with_name("rules.toml")
HORIZON_DAYS = 365  # items due within this many days show as coming
LATE_AFTER_DAYS = 31  # an item not done this long after its due date is late
KINDS = ("vaccine", "exam", "dental", "screening")
_AGE = re.compile(r"(\d+)([dwmy])")


@dataclass(frozen=True)
class Age:
    """An age as the rules write it ("11y6m"): added to a birth date, calendar-wise."""

    text: str
    years: int = 0
    months: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> Age:
        parts = _AGE.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"not an age: {text!r}")
        y = m = d = 0
        for n, unit in parts:
            n = int(n)
            if unit == "y":
                y += n
            elif unit == "m":
                m += n
            elif unit == "w":
                d += 7 * n
            else:
                d += n
        return cls(text, y, m, d)

    def after(self, born: date) -> date:
        months = born.month - 1 + self.months + 12 * self.years
        year, month = born.year + months // 12, months % 12 + 1
        day = min(born.day, _days_in(year, month))
        return date(year, month, day) + timedelta(days=self.days)

    def plus(self, other: Age) -> Age:
        years, months, days = self.years + other.years, self.months + other.months, self.days + other.days
        years, months = years + months // 12, months % 12
        return Age(_text(years, months, days), years, months, days)


def _text(years: int, months: int, days: int) -> str:
    out = (f"{years}y" if years else "") + (f"{months}m" if months else "") + (f"{days}d" if days else "")
    return out or "0d"


def _days_in(year: int, month: int) -> int:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    title: dict
    why: dict
    source: str
    ages: tuple[Age, ...] = ()
    sex: str | None = None
    matches: tuple[str, ...] = ()
    early: Age = Age("0d")
    valid: Age = Age("1y", years=1)
    season: tuple[int, int] | None = None  # (month, day) of a yearly campaign
    season_from: Age | None = None
    season_to: Age | None = None


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    sources: dict


@lru_cache(maxsize=1)
def load(path: Path = RULES_FILE) -> Rules:
    """Read and check the rules file once (it changes with a release, not at run time)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    sources = data.get("sources") or {}
    rules = []
    seen = set()
    for raw in data.get("rule") or ():
        rid = raw["id"]
        if rid in seen or "@" in rid:
            raise ValueError(f"rule id {rid!r} repeated or invalid")
        seen.add(rid)
        if raw["kind"] not in KINDS or raw["source"] not in sources:
            raise ValueError(f"rule {rid}: unknown kind or source")
        if not (raw["title"].get("fr") and raw["title"].get("en") and raw["why"].get("fr") and raw["why"].get("en")):
            raise ValueError(f"rule {rid}: title and why are needed in French and English")
        ages = [Age.parse(a) for a in raw.get("at", ())]
        season = None
        season_from = season_to = None
        if "every" in raw:
            start, end, step = Age.parse(raw["from"]), Age.parse(raw["to"]), Age.parse(raw["every"])
            if "season" in raw:
                month, day = (int(x) for x in raw["season"].split("-"))
                season, season_from, season_to = (month, day), start, end
            else:
                age = start
                while (age.years * 12 + age.months) <= (end.years * 12 + end.months):
                    ages.append(age)
                    age = age.plus(step)
        rules.append(
            Rule(
                id=rid,
                kind=raw["kind"],
                title=raw["title"],
                why=raw["why"],
                source=raw["source"],
                ages=tuple(ages),
                sex=raw.get("sex"),
                matches=tuple(_plain(m) for m in raw.get("matches", ())),
                early=Age.parse(raw.get("early", "0d")),
                valid=Age.parse(raw.get("valid", "1y")),
                season=season,
                season_from=season_from,
                season_to=season_to,
            )
        )
    return Rules(tuple(rules), sources)


def _plain(text: str) -> str:
    """Lower case without accents: "Tétanos" matches "tetanos"."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


# --------------------------------------------------------------------------- one person's items


@dataclass(frozen=True)
class Vaccination:
    id: str
    name: str
    on_date: date | None


@dataclass(frozen=True)
class Mark:
    status: str  # done | dismissed
    done_on: date | None = None
    document_id: str | None = None
    vaccination_id: str | None = None


@dataclass
class Item:
    key: str
    rule: Rule
    due: date
    until: date  # stays "to do" until then
    age: str  # "52y", or the season's year
    state: str  # done | dismissed | late | due | coming
    done_on: date | None = None
    vaccination_id: str | None = None  # the profile entry that counts for it
    document_id: str | None = None
    from_profile: bool = False  # done because the profile has the vaccination
    extra: dict = field(default_factory=dict)


def _occurrences(rule: Rule, born: date, today: date) -> list[tuple[str, date]]:
    """(age text, due date) of each occurrence, in order."""
    if rule.season is None:
        return [(a.text, a.after(born)) for a in rule.ages]
    month, day = rule.season
    first, last = rule.season_from.after(born), rule.season_to.after(born)
    out = []
    for year in range(max(first.year, 1900), min(last.year, today.year + 1) + 1):
        due = date(year, month, day)
        if first <= due + timedelta(days=_season_length(rule)) and due <= last:
            out.append((str(year), max(due, first)))
    return out


def _season_length(rule: Rule) -> int:
    return (rule.valid.after(date(2001, 1, 1)) - date(2001, 1, 1)).days


def items_for(
    born: date,
    sex: str | None,
    today: date,
    vaccinations: list[Vaccination] = (),
    marks: dict[str, Mark] | None = None,
    rules: Rules | None = None,
) -> list[Item]:
    """Every item that concerns this person today: done (marked, or a vaccination of the
    profile counts for it), dismissed, late, due, or coming within HORIZON_DAYS. Items whose
    time passed (the next of their rule is due) and items further ahead are left out."""
    rules = rules or load()
    marks = marks or {}
    used: set[str] = set()
    dated = [(v, _plain(v.name)) for v in vaccinations if v.on_date]  # names normalised once
    out = []
    for rule in rules.rules:
        if rule.sex and rule.sex != sex:
            continue
        occurrences = _occurrences(rule, born, today)
        candidates = sorted((v for v, name in dated if any(m in name for m in rule.matches)), key=lambda v: v.on_date)
        for i, (age, due) in enumerate(occurrences):
            until = occurrences[i + 1][1] if i + 1 < len(occurrences) else _valid_until(rule, born, due)
            key = f"{rule.id}@{age}"
            item = Item(key, rule, due, until, age, "coming")
            mark = marks.get(key)
            # The first entry of the profile from `early` before this due date until the next one.
            earliest = due - (rule.early.after(due) - due)
            found = next(
                (v for v in candidates if v.id not in used and earliest <= v.on_date < until),
                None,
            )
            if mark is not None and mark.status == "done":
                item.state, item.done_on = "done", mark.done_on
                item.document_id, item.vaccination_id = mark.document_id, mark.vaccination_id
                if mark.vaccination_id:
                    used.add(mark.vaccination_id)
            elif found is not None:
                used.add(found.id)
                item.state, item.done_on, item.vaccination_id, item.from_profile = "done", found.on_date, found.id, True
            elif mark is not None and mark.status == "dismissed":
                item.state = "dismissed"
            elif due > today:
                item.state = "coming"
            elif rule.season is None and today - due > timedelta(days=LATE_AFTER_DAYS):
                item.state = "late"
            else:
                item.state = "due"
            if item.state in ("done", "dismissed"):
                if due > today + timedelta(days=HORIZON_DAYS) or until <= today - timedelta(days=HORIZON_DAYS):
                    continue  # done long ago, or ahead of time: not worth a line
                out.append(item)
            elif item.state == "coming" and due > today + timedelta(days=HORIZON_DAYS):
                continue
            elif until <= today:
                continue  # its time passed: the next of the rule takes over
            else:
                out.append(item)
    return sorted(out, key=lambda it: (it.due, it.rule.id))


def _valid_until(rule: Rule, born: date, due: date) -> date:
    return rule.valid.after(due) if rule.season is None else due + timedelta(days=_season_length(rule))


def text(field: dict, locale: str) -> str:
    return field.get(locale) or field.get("fr") or ""

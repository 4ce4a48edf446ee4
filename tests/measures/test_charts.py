"""Charts of measures: through the gate, per range, with bands, French numbers and dates, and
an SVG an <img> can show (no script, no external URL)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pypdfium2
import pytest
from flask import has_app_context, session
from sqlalchemy import select

from blueprints.measures import charts, drawing, kinds, series
from blueprints.measures.models import Measure
from core import access, clock, pdf, weasy
from core.db import db

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def holders(app, make_holder):
    """Two holders, each with a viewer as core.web would build it."""
    out = []
    for _ in range(2):
        account, _code = make_holder()
        out.append(access.Viewer("holder", account, account.patient_id, rights=access.HOLDER_RIGHTS))
    clock.freeze(NOW)
    return out


@pytest.fixture
def add(app):
    """add(viewer, kind, [(when, value[, value2[, context]]), ...]) inserts Measure rows directly."""

    def insert(viewer, kind: str, items):
        k = kinds.KINDS[kind]
        rows = []
        for item in items:
            when, value, value2, context = (tuple(item) + (None, None))[:4]
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "patient_id": viewer.patient_id,
                    "kind": kind,
                    "taken_at": int(when.timestamp()),
                    "utc_offset": 60,
                    "value": value,
                    "value2": value2,
                    "context": context,
                    "source": "manual",
                    "created_at": NOW,
                    "dedup": kinds.dedup_key(k, value, value2, context),
                }
            )

        if has_app_context():  # the session of the test's request: no second writer to lock out
            db.session.execute(Measure.__table__.insert(), rows)
            db.session.commit()
            return
        with app.app_context():
            db.session.execute(Measure.__table__.insert(), rows)
            db.session.commit()

    return insert


@pytest.fixture
def fr(app):
    with app.test_request_context(method="POST"):
        yield


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def parse(svg: str):
    return ET.fromstring(svg)


def test_empty_range(holders, fr):
    data = charts.chart(holders[0], kinds.KINDS["weight"], "1m")
    assert data["empty"] and data["count"] == 0
    assert data["summary"]["latest"] is None and data["table"]["rows"] == []
    root = parse(data["svg"])
    assert root.find(f"{SVG}title").text and root.find(f"{SVG}desc").text
    assert root.find(f"{SVG}text[@class='no-data']").text == "Aucune mesure sur cette période"
    assert root.find(f".//{SVG}g[@class='plot']") is None  # no axes without data


def test_ranges_filter_by_time(holders, add, fr):
    v = holders[0]
    add(v, "weight", [(days_ago(d), 70 + d / 100) for d in (1, 20, 45, 80, 200, 400, 900)])
    counts = {r: charts.chart(v, kinds.KINDS["weight"], r, svg=False)["count"] for r in charts.RANGES}
    assert counts == {"1m": 2, "3m": 4, "1y": 5, "all": 7}
    ranges = charts.chart(v, kinds.KINDS["weight"], "3m", svg=False)["ranges"]
    assert [r["key"] for r in ranges] == ["1m", "3m", "1y", "all"]
    assert [r["active"] for r in ranges] == [False, True, False, False]
    clock.freeze(NOW + timedelta(days=30))  # time moves: the month holds only what is newer
    assert charts.chart(v, kinds.KINDS["weight"], "1m", svg=False)["count"] == 0


def test_gate_keeps_other_holders_out(holders, add, fr):
    mine, theirs = holders
    add(mine, "heart_rate", [(days_ago(d), 60) for d in range(1, 6)])
    add(theirs, "heart_rate", [(days_ago(d + 0.5), 190) for d in range(1, 50)])
    data = charts.chart(mine, kinds.KINDS["heart_rate"], "all")
    assert data["count"] == 5
    assert data["summary"]["max"]["value"] == 60
    assert "190" not in data["svg"] and all("190" not in " ".join(r) for r in data["table"]["rows"])
    nobody = access.Viewer()
    assert charts.chart(nobody, kinds.KINDS["heart_rate"], "all")["empty"]


def test_gate_holds_on_the_bucketed_path(holders, add, fr, monkeypatch):
    monkeypatch.setattr(series, "RAW_LIMIT", 10)
    mine, theirs = holders
    add(mine, "heart_rate", [(days_ago(d / 10), 70 + d % 5) for d in range(1, 200)])
    add(theirs, "heart_rate", [(days_ago(d / 10 + 0.01), 200) for d in range(1, 200)])
    data = charts.chart(mine, kinds.KINDS["heart_rate"], "1m")
    assert data["count"] == 199
    assert data["summary"]["max"]["value"] == 74 and data["summary"]["min"]["value"] == 70
    assert data["table"]["per"] == "day"


@pytest.mark.parametrize("kind", [k.key for k in kinds.KINDS.values() if k.bands])
def test_each_kind_with_bands_draws_them_with_a_legend(holders, add, fr, kind):
    k = kinds.KINDS[kind]
    mid = [b for b in k.bands if b.low is not None and b.high is not None][0]
    value = (mid.low + mid.high) / 2
    items = [(days_ago(d), round(value + (d % 3), k.decimals), (70 if k.pair else None)) for d in range(1, 25)]
    if kind == "bmi":  # worked out from the weights and the latest height
        add(holders[0], "height", [(days_ago(40), 170, None)])
        add(holders[0], "weight", [(t, round(v * 1.7**2, 1), None) for t, v, _v2 in items])
    else:
        add(holders[0], kind, items)
    data = charts.chart(holders[0], k, "1m")
    root = parse(data["svg"])
    bands = root.findall(f".//{SVG}g[@class='bands']/{SVG}rect")
    assert bands, "no band drawn"
    fills = {r.get("fill") for r in bands}
    assert fills <= {bg for _stroke, bg in drawing.TONES.values()}
    legend = " ".join(t.text or "" for t in root.findall(f".//{SVG}g[@class='key']/{SVG}text"))
    assert str(mid.label) in legend
    plot = root.find(f".//{SVG}g[@class='plot']")
    assert list(plot)[0].get("class") == "bands"  # drawn first: behind guides and lines


def test_bmi_is_the_weight_curve_over_the_latest_height_squared(holders, add, fr):
    add(holders[0], "height", [(days_ago(300), 150, None), (days_ago(200), 180, None)])
    add(holders[0], "weight", [(days_ago(d), 81.0, None) for d in range(1, 5)])
    data = charts.chart(holders[0], kinds.KINDS["bmi"], "1m")
    assert data["count"] == 4 and data["summary"]["latest"]["value"] == pytest.approx(25.0)
    assert charts.chart(holders[1], kinds.KINDS["bmi"], "1m")["empty"]


def test_blood_pressure_two_series(holders, add, fr):
    add(holders[0], "blood_pressure", [(days_ago(d), 120 + d % 15, 75 + d % 9) for d in range(1, 60)])
    data = charts.chart(holders[0], kinds.KINDS["blood_pressure"], "3m")
    root = parse(data["svg"])
    lines = root.findall(f".//{SVG}g[@class='series serie-0']/{SVG}path") + root.findall(
        f".//{SVG}g[@class='series serie-1']/{SVG}path"
    )
    assert len(lines) == 2
    legend = [t.text for t in root.findall(f".//{SVG}g[@class='key']/{SVG}text")]
    assert "Systolique" in legend and "Diastolique" in legend
    assert len(root.findall(f".//{SVG}path[@class='threshold']")) >= 2  # diastolic 80 and 90
    assert data["summary"]["max"]["text"] == "134/83\u00a0mmHg"
    assert data["table"]["columns"][2].startswith("Systolique")


def test_french_numbers_and_dates(holders, add, fr):
    add(
        holders[0],
        "weight",
        [(days_ago(d), 72.4 + d / 10) for d in range(0, 30, 3)] + [(datetime(2026, 1, 15, 9, tzinfo=UTC), 80.5)],
    )
    data = charts.chart(holders[0], kinds.KINDS["weight"], "1y")
    s = data["summary"]
    assert s["latest"]["text"] == "72,4\u00a0kg" and s["max"]["text"] == "80,5\u00a0kg"
    assert any(row[1] == "80,5" for row in data["table"]["rows"])
    assert "janv." in data["svg"]  # x axis, French month
    ticks = [t.text for t in parse(data["svg"]).findall(f".//{SVG}g[@class='axis y']//{SVG}text")]
    assert ticks and all("." not in (t or "") for t in ticks)
    assert any("," in (t or "") for t in ticks) or all((t or "").isdigit() for t in ticks)


def test_english_locale_formats_the_english_way(app, holders, add):
    add(holders[0], "weight", [(days_ago(2), 72.4), (datetime(2026, 1, 15, 9, tzinfo=UTC), 80.5)])
    with app.test_request_context(method="POST"):
        session["lang"] = "en"
        data = charts.chart(holders[0], kinds.KINDS["weight"], "1y")
    assert data["summary"]["latest"]["text"] == "72.4\u00a0kg"
    assert "Jan" in data["svg"]


def test_table_lists_measures_then_periods(holders, add, fr):
    v = holders[0]
    add(v, "glucose", [(days_ago(d), 95 + d % 20, None, "fasting" if d % 2 else None) for d in range(1, 30)])
    table = charts.chart(v, kinds.KINDS["glucose"], "1m", svg=False)["table"]
    assert table["per"] == "measure" and len(table["rows"]) == 29
    assert table["columns"][-1] == "Contexte" and table["rows"][0][-1] in ("À jeun", "")
    add(v, "heart_rate", [(days_ago(d / 4), 60 + d % 30) for d in range(1, 360)])
    for key, per in (("1m", "day"), ("3m", "week"), ("1y", "month")):
        table = charts.chart(v, kinds.KINDS["heart_rate"], key, svg=False)["table"]
        assert table["per"] == per
        assert (
            sum(int(r[1].replace("\u202f", "").replace("\u00a0", "")) for r in table["rows"])
            == charts.chart(v, kinds.KINDS["heart_rate"], key, svg=False)["count"]
        )


def test_svg_safe_for_an_img(holders, add, fr):
    add(holders[0], "spo2", [(days_ago(d), 94 + d % 5) for d in range(1, 20)])
    for size in charts.SIZES:
        svg = charts.chart(holders[0], kinds.KINDS["spo2"], "1m", size=size)["svg"]
        assert "<script" not in svg.lower() and "javascript" not in svg.lower()
        assert not re.search(r"\son\w+=", svg)  # no event handler attribute either
        urls = re.findall(r"(?:https?:)?//[^\s\"'<>)]+", svg)
        assert set(urls) <= {"http://www.w3.org/2000/svg"}, urls
        assert "<!--" not in svg and "href" not in svg
        root = parse(svg)
        assert root.get("viewBox") and root.get("width") == "100%"
        assert root.find(f"{SVG}title").text == "Saturation en oxygène"
        assert "19" in root.find(f"{SVG}desc").text


def test_points_sit_at_their_values_inside_their_bands(holders, add, fr):
    """Every measure is a dot on the line, and a value in a band is drawn inside that band."""
    values = [94 + d % 5 for d in range(1, 20)]
    add(holders[0], "spo2", [(days_ago(d), v) for d, v in zip(range(1, 20), values)])
    root = parse(charts.chart(holders[0], kinds.KINDS["spo2"], "1m")["svg"])
    plot = root.find(f".//{SVG}g[@class='plot']")
    width = float(plot.find(f"{SVG}g[@class='bands']/{SVG}rect").get("width"))
    baseline = plot.find(f"{SVG}g[@class='axis y']/{SVG}path[@class='axis-line']").get("d")  # "M0 {height}h{width}"
    height = float(baseline[1:].split("h")[0].split()[1])
    series_g = plot.find(f"{SVG}g[@class='series serie-0']")
    dots = [(float(c.get("cx")), float(c.get("cy"))) for c in series_g.findall(f"{SVG}circle")]
    assert len(dots) == len(values)
    assert all(0 <= x <= width and 0 <= y <= height for x, y in dots)
    ticks = {t.text: float(t.get("y")) for t in plot.findall(f"{SVG}g[@class='axis y']/{SVG}text")}
    by_value = {}
    for (_x, y), v in zip(sorted(dots), reversed(values)):  # oldest first, as drawn left to right
        by_value.setdefault(v, set()).add(y)
    assert all(len(ys) == 1 for ys in by_value.values())  # one value, one height
    at = {v: ys.pop() for v, ys in by_value.items()}
    assert at[94] > at[95] > at[96] > at[97] > at[98]  # higher values, higher on the page
    assert abs(at[96] + 4.5 - ticks["96"]) < 1  # and level with their tick's label
    normal = [b for b in kinds.KINDS["spo2"].bands if b.low == 95][0]
    fill = drawing.TONES[normal.tone][1]
    rect = [r for r in plot.findall(f"{SVG}g[@class='bands']/{SVG}rect") if r.get("fill") == fill][0]
    top, bottom = float(rect.get("y")), float(rect.get("y")) + float(rect.get("height"))
    assert all(top <= y <= bottom for v, y in at.items() if v >= 95)
    assert all(y > bottom for v, y in at.items() if v < 95)


def test_the_chart_is_served_as_an_image_that_may_style_itself_and_nothing_else(importer):
    client, _account = importer
    svg = client.get("/constantes/poids/graphique.svg?periode=1m&taille=compact")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.headers["Content-Security-Policy"].startswith("default-src 'none'; style-src 'unsafe-inline'")
    assert b"<script" not in svg.data and b"<style>" in svg.data and b"<title" in svg.data


def test_heavy_series_is_thinned_and_keeps_extremes(holders, add, fr, monkeypatch):
    monkeypatch.setattr(series, "RAW_LIMIT", 100)
    items = [(days_ago(300 - i * 0.05), 70 + (i % 13)) for i in range(5000)]
    items[1234] = (items[1234][0], 190)
    items[4321] = (items[4321][0], 31)
    add(holders[0], "heart_rate", items)
    data = charts.chart(holders[0], kinds.KINDS["heart_rate"], "1y")
    assert data["count"] == 5000
    assert data["summary"]["max"]["value"] == 190 and data["summary"]["min"]["value"] == 31
    path = parse(data["svg"]).find(f".//{SVG}g[@class='series serie-0']/{SVG}path")
    assert len(path.get("d").split()) <= 2 * charts.SIZES["wide"][3] + 2


def test_dedup_key_reads_back_as_the_value():
    """SQLite reads values from the index's dedup key: its format is part of the chart's contract."""
    for k in kinds.KINDS.values():
        if k.daily:
            continue
        key = kinds.dedup_key(k, 123.456, 78.9 if k.pair else None, "fasting")
        head = re.match(r"-?\d+(\.\d+)?", key).group(0)
        assert float(head) == round(123.456, k.decimals)
        if k.pair:
            assert float(re.match(r"\d+(\.\d+)?", key.split("/", 1)[1]).group(0)) == round(78.9, k.decimals)


def test_months_ago_clamps():
    assert series.months_ago(datetime(2026, 3, 31, tzinfo=UTC), 1).date().isoformat() == "2026-02-28"
    assert series.months_ago(datetime(2026, 1, 15, tzinfo=UTC), 3).date().isoformat() == "2025-10-15"


def test_measure_rows_present(holders, add, app):
    """The fixture writes real rows (guards the tests above against an empty table)."""
    add(holders[0], "weight", [(days_ago(1), 70.0)])
    with app.app_context():
        assert db.session.scalar(select(Measure.value)) == 70.0


def _expected_buckets(items, edges, pair):
    """What series._buckets must answer, worked out in Python from the rows themselves."""
    out = []
    for i, (lo, hi) in enumerate(zip(edges, edges[1:])):
        inside = sorted((int(w.timestamp()), v, v2) for w, v, v2 in items if lo <= int(w.timestamp()) < hi)
        if not inside:
            continue
        values = [v for _t, v, _v2 in inside]
        row = (i, len(inside), min(values), max(values), pytest.approx(sum(values)), inside[0][0], inside[-1][0])
        if pair:
            seconds = [v2 for _t, _v, v2 in inside]
            row += (min(seconds), max(seconds), pytest.approx(sum(seconds)), len(seconds))
        out.append(row)
    return out


@pytest.mark.parametrize("kind", ["heart_rate", "blood_pressure"])
def test_bucket_aggregates_match_the_rows(holders, add, fr, kind):
    k = kinds.KINDS[kind]
    items = [(days_ago(40 - i * 0.013), 60 + (i * 7) % 41, (70 + i % 13) if k.pair else None) for i in range(3000)]
    add(holders[0], kind, items)
    add(holders[1], kind, [(days_ago(20 + i / 100), 150, 99 if k.pair else None) for i in range(50)])  # not mine
    lo, hi = int(days_ago(41).timestamp()), int(NOW.timestamp())
    for n in (1, 37, 250):
        edges = [lo + (hi - lo) * j // n for j in range(n)] + [hi]
        got = series._buckets(holders[0], k, edges)
        assert [tuple(b) for b in got] == _expected_buckets(items, edges, k.pair)


def test_fewer_buckets_change_the_drawing_only(holders, add, fr, monkeypatch):
    monkeypatch.setattr(series, "RAW_LIMIT", 100)
    items = [(days_ago(300 - i * 0.05), 70 + (i % 13)) for i in range(5000)]
    items[2222] = (items[2222][0], 199)
    items[3333] = (items[3333][0], 33)
    add(holders[0], "heart_rate", items)
    k = kinds.KINDS["heart_rate"]
    fine, coarse, one = (series.load(holders[0], k, "1y", n) for n in (720, charts.buckets_for("wide"), 1))
    for s in (coarse, one):
        assert (s.count, s.low, s.high) == (fine.count, fine.low, fine.high) == (5000, 33, 199)
        assert s.mean == pytest.approx(fine.mean)
        assert [(p.start, p.count, p.low, p.high, round(p.total, 6)) for p in s.periods] == [
            (p.start, p.count, p.low, p.high, round(p.total, 6)) for p in fine.periods
        ]
    assert len(coarse.points) <= charts.SIZES["wide"][3] < len(fine.points)
    assert {199, 33} <= {v for _t, v, _v2 in coarse.points}
    assert len(one.points) <= 2 * len(one.periods)
    page, drawing = (charts.chart(holders[0], k, "1y", svg=False), charts.chart(holders[0], k, "1y"))
    assert page["table"] == drawing["table"] and page["summary"] == drawing["summary"] and page["svg"] is None


def test_the_description_agrees_with_its_count(holders, add, fr):
    """ "1 mesure", never "1 mesures" (French plural through ngettext: 0 and 1 are singular)."""
    add(holders[0], "weight", [(days_ago(2), 72.4)])
    one = charts.chart(holders[0], kinds.KINDS["weight"], "1y")["description"]
    assert "1\u00a0mesure\u00a0;" in one.replace(" ", "\u00a0") and "mesures" not in one
    add(holders[0], "weight", [(days_ago(3), 72.0)])
    two = charts.chart(holders[0], kinds.KINDS["weight"], "1y")["description"]
    assert "2 mesures" in two


def test_svg_alone_is_the_charts_drawing(holders, add, fr):
    v = holders[0]
    add(v, "weight", [(days_ago(d * 0.7), 70 + (d % 9) / 10) for d in range(600)])
    add(v, "blood_pressure", [(days_ago(d * 3.1), 120 + d % 11, 80 + d % 7) for d in range(200)])
    for key in ("weight", "blood_pressure", "bmi"):
        for r in charts.RANGES:
            for size in charts.SIZES:
                kind = kinds.KINDS[key]
                assert charts.svg(v, kind, r, size=size) == charts.chart(v, kind, r, size=size)["svg"]


@pytest.mark.parametrize("offset", [-600, 0, 540, 840])
def test_daily_totals_far_from_utc_stay_in_range(holders, add, fr, offset):
    """A daily total stored at its own midnight, hours away from UTC, is still found by the
    bounds on the stored instant that let the index seek."""
    v = holders[0]
    days = [0, 1, 2, 29, 30, 31, 32, 89, 90, 91, 400]
    add(v, "steps", [(NOW.replace(hour=0) - timedelta(days=d, minutes=offset), 1000.0 + d) for d in days])
    db.session.execute(Measure.__table__.update().values(utc_offset=offset))
    db.session.commit()
    for r in charts.RANGES:
        rng = series.RANGES[r]
        lo = int(series.months_ago(clock.utcnow(), rng.months).timestamp()) if rng.months else None
        rows = db.session.execute(select(Measure.taken_at, Measure.utc_offset).where(Measure.kind == "steps")).all()
        places = [((t + off * 60) // 86400) * 86400 + series.DAILY_AT for t, off in rows]
        expected = sum(1 for p in places if lo is None or p >= lo)
        assert charts.chart(v, kinds.KINDS["steps"], r)["count"] == expected


@pytest.mark.parametrize("size", ["small", "wide"])
def test_a_chart_styled_by_attributes_draws_as_the_styled_one(app, holders, add, fr, size):
    """What "Ma synthèse" prints (css=False: no <style> for WeasyPrint to parse per chart, every
    rule as attributes) is the chart the screen shows, pixel for pixel, bands, dots and a pair."""

    v = holders[0]
    add(v, "blood_pressure", [(days_ago(d), 118 + d % 25, 70 + d % 15) for d in range(1, 40)])
    add(v, "glucose", [(days_ago(d), 80 + d % 40) for d in range(1, 40)])
    for key in ("blood_pressure", "glucose"):
        s = series.load(v, kinds.KINDS[key], "3m", charts.buckets_for(size))
        styled = drawing.render(s, "description", size)
        plain = drawing.render(s, "description", size, css=False)
        assert "<style" in styled and "<style" not in plain and "class=" in plain
        assert ET.fromstring(plain).find(f"{SVG}desc").text == "description"
        pixels = []
        for svg in (styled, plain):
            html = f'<img src="{pdf.file_url("c.svg")}" style="width: 180mm; height: 85mm">'
            document = pypdfium2.PdfDocument(weasy.write_pdf(html, app.static_folder, files={"c.svg": svg}))
            pixels.append(document[0].render(scale=1.5).to_pil().tobytes())
            document.close()
        assert pixels[0] == pixels[1]


def test_a_page_without_its_drawing_reads_each_measure_only_for_a_short_table(holders, add, fr, monkeypatch):
    """The measures page draws no chart (its <img> asks for it): above TABLE_MEASURES it reads
    the latest measure, not each one (docs/performance.md, 56); the drawing still reads each."""
    read = []
    real = series._raw
    monkeypatch.setattr(series, "_raw", lambda *a: read.append(a) or real(*a))
    heart = kinds.KINDS["heart_rate"]
    add(holders[0], "heart_rate", [(days_ago(d / 4 + 0.1), 60 + d % 7) for d in range(charts.TABLE_MEASURES)])
    page = charts.chart(holders[0], heart, "1m", svg=False)
    assert read and page["table"]["per"] == "measure" and len(page["table"]["rows"]) == charts.TABLE_MEASURES
    read.clear()
    add(holders[0], "heart_rate", [(days_ago(0.01), 88)])
    page = charts.chart(holders[0], heart, "1m", svg=False)
    assert not read and page["count"] == charts.TABLE_MEASURES + 1 and page["table"]["per"] == "day"
    assert page["summary"]["latest"]["value"] == 88 and page["summary"]["max"]["value"] == 88
    drawn = charts.chart(holders[0], heart, "1m")
    assert read and drawn["summary"] == page["summary"]


# A light series (up to RAW_LIMIT measures in range) is read measure by measure, and its buckets
# are worked out from those rows (docs/performance.md, 70): the same answer as the database's.
LIGHT = {
    "weight": lambda i: (72 + (i * 37) % 100 / 100 + 0.005, None),  # 72.345...: rounded as shown
    "blood_pressure": lambda i: (118 + i % 23, 70 + (i * 7) % 19),
    "steps": lambda i: (4000 + (i * 733) % 9000, None),  # a daily total: its own day in Paris
    "temperature": lambda i: (36.45 + (i % 9) / 10, None),
}


@pytest.mark.parametrize("key", sorted(LIGHT))
def test_buckets_from_the_measures_are_the_databases(holders, add, fr, key):
    k = kinds.KINDS[key]
    every = 1 if k.daily else 0.37
    add(holders[0], key, [(days_ago(80 - i * every), *LIGHT[key](i)) for i in range(75)])
    add(holders[1], key, [(days_ago(30 - i), *LIGHT[key](i + 1)) for i in range(10)])  # not mine
    lo, hi = int(days_ago(90).timestamp()), int(NOW.timestamp())
    raw = series._raw(holders[0], k, lo, hi)
    assert len(raw) == 75
    for n in (1, 13, 720):
        edges = [lo + (hi - lo) * j // n for j in range(n)] + [hi]
        database, worked = series._buckets(holders[0], k, edges), series._buckets_of(raw, edges, k)
        assert [len(b) for b in worked] == [len(b) for b in database]
        for got, want in zip(worked, database, strict=True):
            exact = (0, 1, 2, 3, 5, 6, 7, 8, 10) if k.pair else (0, 1, 2, 3, 5, 6)
            assert [got[j] for j in exact] == [want[j] for j in exact]
            assert got[4] == pytest.approx(want[4]) and (not k.pair or got[9] == pytest.approx(want[9]))


@pytest.mark.parametrize("key", sorted(LIGHT))
def test_a_light_series_is_read_once_and_reads_as_a_heavy_one(holders, add, fr, monkeypatch, key):
    """The chart of a light series asks the database for no buckets and reads each measure once;
    its summary, table and periods are those the bucketed path gives for the same rows."""
    k = kinds.KINDS[key]
    add(holders[0], key, [(days_ago(80 - i * (1 if k.daily else 0.37)), *LIGHT[key](i)) for i in range(75)])
    reads = []
    real_raw = series._raw
    monkeypatch.setattr(series, "_raw", lambda *a: reads.append(a) or real_raw(*a))
    real_buckets = series._buckets
    monkeypatch.setattr(series, "_buckets", lambda *a: pytest.fail("a light series asked for buckets"))
    light = series.load(holders[0], k, "3m")
    drawn = charts.chart(holders[0], k, "3m")
    assert len(reads) == 2 and light.count == drawn["count"] == 75 and light.raw is not None
    monkeypatch.setattr(series, "_buckets", real_buckets)
    monkeypatch.setattr(series, "RAW_LIMIT", 10)
    heavy = series.load(holders[0], k, "3m")
    assert heavy.raw is None and heavy.count == 75
    for name in ("low", "high", "low2", "high2"):
        assert getattr(light, name) == getattr(heavy, name)
    assert light.mean == pytest.approx(heavy.mean) and (light.mean2 or 0) == pytest.approx(heavy.mean2 or 0)
    assert [(p.start, p.count, p.low, p.high, round(p.total, 6), p.count2) for p in light.periods] == [
        (p.start, p.count, p.low, p.high, round(p.total, 6), p.count2) for p in heavy.periods
    ]
    assert light.latest == heavy.latest
    page = charts.chart(holders[0], k, "3m", svg=False)["summary"]  # a mean's last bit aside, the same
    texts = [{name: e["text"] if isinstance(e, dict) else e for name, e in d.items()} for d in (drawn["summary"], page)]
    assert texts[0] == texts[1] and texts[0]["mean"]

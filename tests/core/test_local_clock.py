""" "Today" is the Paris day everywhere: at 00:30 in Paris, UTC still says yesterday."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core import clock
from tests.helpers import share_on_screen
from tests.samples import pdf_bytes

# 23:30 UTC on 2 December is 00:30 on 3 December in Paris (winter time, UTC+1).
JUST_AFTER_MIDNIGHT = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)


@pytest.fixture
def paris_night():
    clock.freeze(JUST_AFTER_MIDNIGHT)
    yield
    clock.reset()


def test_paris_today_is_not_the_utc_day(paris_night):
    assert clock.utcnow().date() == date(2026, 12, 2)
    assert clock.paris_today() == date(2026, 12, 3)


def test_a_document_dated_today_is_accepted_just_after_midnight(
    paris_night, app, client, make_holder, login_as, upload
):
    account, _ = make_holder()
    login_as(client, account)
    form = client.get("/documents/ajouter").get_data(as_text=True)
    assert 'value="2026-12-03"' in form  # the form proposes the Paris day
    r = upload(client, [(pdf_bytes(), "compte_rendu.pdf")], act_date="2026-12-03")
    assert r.status_code == 303, r.get_data(as_text=True)[:600]
    r = upload(client, [(pdf_bytes(), "compte_rendu.pdf")], act_date="2026-12-04")
    assert r.status_code == 422 and "Cette date est dans le futur" in r.get_data(as_text=True)


def test_a_share_until_today_is_accepted_just_after_midnight(paris_night, app, client, make_holder, login_as):
    account, _ = make_holder()
    login_as(client, account)
    r, code, _ = share_on_screen(client, duration="date", until="2026-12-03")
    assert r.status_code == 200 and code
    r, _, _ = share_on_screen(client, duration="date", until="2026-12-02")
    assert r.status_code == 422


# --------------------------------------------------------------------------- 29 February

LEAP_DAY = datetime(2028, 2, 29, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (date(2028, 2, 29), 10, date(2038, 2, 28)),
        (date(2028, 2, 29), -18, date(2010, 2, 28)),
        (date(2028, 2, 29), 4, date(2032, 2, 29)),
        (date(2026, 12, 3), -18, date(2008, 12, 3)),
        (datetime(2028, 2, 29, 11, tzinfo=UTC), 1, datetime(2029, 2, 28, 11, tzinfo=UTC)),
    ],
)
def test_years_after_a_leap_day_lands_on_the_28th(day, years, expected):
    assert clock.years_after(day, years) == expected


@pytest.mark.parametrize(
    ("on", "expected"),
    [(date(2046, 2, 28), 17), (date(2046, 3, 1), 18), (date(2044, 2, 28), 15), (date(2044, 2, 29), 16)],
)
def test_an_age_counts_full_years_from_a_leap_day_birth(on, expected):
    assert clock.age(date(2028, 2, 29), on) == expected
    # the same count the majority's statements make: adult once born on or before that day
    assert (date(2028, 2, 29) <= clock.years_after(on, -18)) == (expected >= 18)


def test_closing_ones_space_on_a_leap_day_says_until_when_it_is_kept(app, client, make_holder, login_as):
    clock.freeze(LEAP_DAY)
    account, _ = make_holder()
    login_as(client, account)
    page = client.get("/mon-espace/fermer")
    assert page.status_code == 200, page.status_code
    assert "28 février 2038" in page.get_data(as_text=True)

"""The new share's page: print, copy and "Done" before the QR code; "Done" asks once more, in
the page, while the code was neither printed nor copied."""

from __future__ import annotations

from core.grants import Share
from tests.helpers import HX, rows, share_on_screen, token_of, traces


def _share_id(app):
    (share,) = rows(app, Share)
    return share.id


def test_actions_come_before_the_qr_code(app, holder):
    client, _ = holder
    r, code, _token = share_on_screen(client)
    html = r.get_data(as_text=True)
    done = html.index(f"/partage/{_share_id(app)}/termine")
    assert html.index("/fiche") < html.index('class="share-qr"') and done < html.index('class="share-qr"')
    # the copy button is there for app.js, hidden until the clipboard can be written
    assert f'data-copy-text="{code}"' in html and 'data-copy-target="#share-copied"' in html
    assert 'id="share-copied" name="copie"' in html and 'hx-include="#share-copied"' in html


def test_done_asks_once_more_while_the_code_was_neither_printed_nor_copied(app, holder):
    client, _ = holder
    share_on_screen(client)
    sid = _share_id(app)
    r = client.get(f"/partage/{sid}/termine", headers=HX)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'role="alert"' in html and "neither printed nor copied" in html
    assert "<html" not in html and 'href="/partage#partages"' in html  # finish anyway
    assert f"/partage/{sid}/termine?annuler=1" in html  # or back to the code
    back = client.get(f"/partage/{sid}/termine?annuler=1", headers=HX).get_data(as_text=True)
    assert "neither printed" not in back and f'hx-get="/partage/{sid}/termine"' in back
    # without htmx: a page that asks the same, then the list
    page = client.get(f"/partage/{sid}/termine")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert "neither printed nor copied" in page.get_data(as_text=True)


def test_done_goes_straight_to_the_shares_once_copied(app, holder):
    client, _ = holder
    share_on_screen(client)
    sid = _share_id(app)
    r = client.get(f"/partage/{sid}/termine?copie=1", headers=HX)
    assert r.status_code == 204 and r.headers["HX-Redirect"] == "/partage#partages"
    r = client.get(f"/partage/{sid}/termine?copie=1")
    assert r.status_code == 303 and r.headers["Location"] == "/partage#partages"


def test_done_goes_straight_to_the_shares_once_printed(app, holder):
    client, _ = holder
    _r, code, token = share_on_screen(client)
    sid = _share_id(app)
    printed = client.post(f"/partage/{sid}/fiche", data={"code": code, "token": token, "csrf_token": token_of(client)})
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    (trace,) = traces(app, "share_printed")
    assert code.replace("-", "") not in str(trace.detail) and token not in str(trace.detail)
    r = client.get(f"/partage/{sid}/termine", headers=HX)
    assert r.status_code == 204 and r.headers["HX-Redirect"] == "/partage#partages"
    # a wrong code prints nothing and counts for nothing
    share_on_screen(client)
    other = next(s.id for s in rows(app, Share) if s.id != sid)
    assert (
        client.post(
            f"/partage/{other}/fiche", data={"code": code, "token": token, "csrf_token": token_of(client)}
        ).status_code
        == 400
    )
    assert "neither printed" in client.get(f"/partage/{other}/termine", headers=HX).get_data(as_text=True)


def test_done_is_the_holders_own(app, client, holder, make_holder, login_as):
    owner, _ = holder
    share_on_screen(owner)
    sid = _share_id(app)
    stranger, _code = make_holder()
    other = app.test_client()
    login_as(other, stranger)
    assert other.get(f"/partage/{sid}/termine", headers=HX).status_code == 404

"""The documents list as a phone shows it: the bulk bar counts the ticked documents (French
plural), and after a deletion the address is the page shown, however the form was sent."""

from __future__ import annotations

import pytest

from tests.helpers import csrf_token, documents_of
from tests.samples import png_bytes


def test_the_bulk_bar_carries_its_count_texts(holder, upload):
    client, _ = holder
    upload(client, [(png_bytes(), "a.png")], title="Radio")
    html = client.get("/documents").get_data(as_text=True)
    assert "data-bulk-count" in html and 'aria-live="polite"' in html
    assert 'data-count-none="Aucun document sélectionné"' in html
    assert 'data-count-one="1 document sélectionné"' in html
    assert 'data-count-many="{n} documents sélectionnés"' in html


@pytest.mark.parametrize("how", ["htmx", "boosted", "plain"])
def test_after_a_deletion_the_address_is_the_list(app, holder, upload, how):
    client, _ = holder
    upload(client, [(png_bytes(), "a.png")], title="Radio")
    (doc,) = documents_of(app)
    headers = {"htmx": {"HX-Request": "true"}, "boosted": {"HX-Request": "true", "HX-Boosted": "true"}, "plain": {}}[
        how
    ]
    r = client.post(
        f"/documents/{doc.id}/supprimer", data={"csrf_token": csrf_token(client, "/documents")}, headers=headers
    )
    # htmx: a full navigation to the list; otherwise a redirect after POST (htmx follows it
    # for a boosted form and shows its final address): a reload shows the list, never a 404.
    target = r.headers.get("HX-Redirect") if how == "htmx" else r.headers.get("Location")
    assert target == "/documents" and r.status_code == (204 if how == "htmx" else 303)
    assert client.get(target).status_code == 200

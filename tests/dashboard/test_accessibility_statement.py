"""The accessibility statement: public, in the RGAA's parts, linked from every footer, shown in
the frame of whoever reads it."""

import re


def test_public_with_the_rgaa_parts(client):
    page = client.get("/accessibilite").get_data(as_text=True)
    assert "<h1>Déclaration d’accessibilité</h1>" in page
    for part in (
        "État de conformité",
        "partiellement conforme",
        "Contenus non accessibles",
        "Établissement de cette déclaration",
        "Retour d’information et contact",
        "Voies de recours",
    ):
        assert part in page, part
    assert 'href="mailto:accessibilite@carnet.localhost"' in page
    assert "<title>Déclaration d’accessibilité · Carnet</title>" in page


def test_linked_from_the_footer_of_public_and_holder_pages(client, make_holder, login_as):
    link = re.compile(
        r'<footer class="site-footer">.*href="/accessibilite">Accessibilité\s:\spartiellement conforme</a>', re.S
    )
    assert link.search(client.get("/connexion").get_data(as_text=True))
    account, _ = make_holder()
    login_as(client, account)
    assert link.search(client.get("/documents").get_data(as_text=True))
    statement = client.get("/accessibilite").get_data(as_text=True)
    assert 'class="bottomnav' in statement  # the holder keeps their navigation

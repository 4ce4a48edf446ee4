import pytest


@pytest.fixture
def people(app, make_holder, make_pro):
    """(holder, another holder, a professional, another professional): accounts."""
    holder, _ = make_holder()
    other, _ = make_holder()
    pro = make_pro()
    stranger = make_pro()
    return holder, other, pro, stranger

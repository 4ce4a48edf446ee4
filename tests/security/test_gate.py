"""@web.gate and the markers other decorators put on a view (@passive, @reads_first): each is
read from the registered view, so it must survive the gate whichever decorator comes first."""

from __future__ import annotations

from core import db, sessions, web


def test_markers_survive_the_gate_in_either_order():
    def view(viewer):
        return viewer

    def other(viewer):
        return viewer

    below = web.gate("measures", "write")(sessions.passive(db.reads_first(view)))
    above = sessions.passive(db.reads_first(web.gate("measures", "write")(other)))
    for gated in (below, above):
        assert gated.carnet_passive is True and gated.carnet_reads_first is True
        assert gated.carnet_gate == ("measures", "write", "own")
    assert below.__name__ == "view" and above.__name__ == "other"  # endpoints keep their names

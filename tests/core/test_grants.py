"""Share codes and links, exact counters, and the record viewers the gate builds from them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from core import access, clock, grants, throttle
from core.db import db


@pytest.fixture
def share(ctx, make_holder):
    """A live share of one holder's space: (share, code, link token)."""
    holder, _ = make_holder()
    code, prefix, token = grants.new_share_secrets()
    s = grants.Share(
        patient_id=holder.patient_id,
        prefix=prefix,
        code_hash=grants.code_hash(code),
        link_hash=grants.link_hash(token),
        scope={"documents": "categories", "categories": ["BIOLOGIE"], "summary": True, "measures": False},
        expires_at=clock.utcnow() + timedelta(hours=1),
    )
    db.session.add(s)
    db.session.commit()
    return s, code, token


def test_codes_look_like_the_letter_and_only_their_hash_is_kept(share):
    s, code, token = share
    assert len(code) == 14 and code[4] == code[9] == "-" and code[:4] == s.prefix
    assert code not in (s.code_hash, s.link_hash) and token not in (s.code_hash, s.link_hash)
    assert len(token) >= 32  # 24 random bytes, base64url


def test_the_code_and_the_link_open_the_share_however_the_code_is_typed(share):
    s, code, token = share
    assert grants.redeem("10.0.0.1", code=code).id == s.id
    assert grants.redeem("10.0.0.1", code=code.lower().replace("-", " ")).id == s.id
    assert grants.redeem("10.0.0.1", token=token).id == s.id


def test_wrong_secrets_lock_the_share_at_the_limit_even_for_the_right_code(share):
    s, code, _ = share
    wrong = code[:5] + ("0000-0000" if code[5:] != "0000-0000" else "1111-1111")
    for _ in range(grants.SHARE_MAX_FAILURES):
        assert grants.redeem("10.0.0.2", code=wrong) is None
    db.session.refresh(s)
    assert s.failed_attempts == grants.SHARE_MAX_FAILURES and s.locked_at is not None
    assert grants.redeem("10.0.0.3", code=code) is None


def test_expired_and_revoked_shares_open_nothing(share):
    s, code, token = share
    s.revoked_at = clock.utcnow()
    db.session.commit()
    assert grants.redeem("10.0.0.4", code=code) is None and grants.redeem("10.0.0.4", token=token) is None
    s.revoked_at = None
    s.expires_at = clock.utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert grants.redeem("10.0.0.4", code=code) is None


def test_attempts_per_ip_are_capped(share):
    s, code, _ = share
    for _ in range(grants.IP_LIMIT):
        grants.redeem("10.0.0.5", code="ZZZZ-ZZZZ-ZZZZ")
    assert grants.redeem("10.0.0.5", code=code) is None  # even the right code, from this address
    assert grants.redeem("10.0.0.6", code=code).id == s.id


def test_counters_count_every_hit(ctx):
    assert [throttle.hit("t", "k") for _ in range(3)] == [1, 2, 3]
    assert throttle.hit("t", "other") == 1


def test_a_share_viewer_sees_its_scope_until_the_share_ends(share):
    s, code, _ = share
    use = grants.ShareUse(
        share_id=s.id,
        patient_id=s.patient_id,
        given_name="Louis",
        family_name="Pasteur",
        profession="biologiste",
        rpps="10000000001",
    )
    db.session.add(use)
    db.session.commit()
    viewer = access.share_viewer(use.id)
    assert viewer.on_record and viewer.grant_kind == "share" and viewer.grant_id == s.id
    assert access.can(viewer, access.RECORD_DOCUMENTS) and access.can(viewer, access.RECORD_SUMMARY)
    assert not access.can(viewer, access.RECORD_MEASURES) and not access.can(viewer, access.RECORD_DOCUMENTS, "deposit")
    assert not access.can(viewer, "documents") and not access.can(viewer, "account")  # no holder page
    assert viewer.categories == ("BIOLOGIE",) and viewer.display_name == "Louis Pasteur"
    db.session.add(grants.Block(patient_id=s.patient_id, rpps="10000000001"))
    db.session.commit()
    assert not access.share_viewer(use.id).is_authenticated
    db.session.execute(grants.Block.__table__.delete())
    s.revoked_at = clock.utcnow()
    db.session.commit()
    assert not access.share_viewer(use.id).is_authenticated


def test_a_grant_opens_the_whole_record_of_its_professional_only(ctx, make_holder, make_pro):

    holder, _ = make_holder()
    pro_account = make_pro()
    other_account = make_pro(email="other.pro@example.fr", rpps="10000000099")
    grant = grants.Grant(patient_id=holder.patient_id, professional_id=pro_account.professional.id)
    db.session.add(grant)
    db.session.commit()
    mine = access.viewer_for(db.session.merge(pro_account))
    viewer = access.record_viewer(mine, grant.id)
    assert viewer.patient_id == holder.patient_id and viewer.grant_kind == "grant"
    assert access.can(viewer, access.RECORD_DOCUMENTS, "deposit") and access.can(viewer, access.RECORD_MEASURES)
    with pytest.raises(NotFound):
        access.record_viewer(access.viewer_for(db.session.merge(other_account)), grant.id)
    grant.ended_at = clock.utcnow()
    db.session.commit()
    with pytest.raises(NotFound):
        access.record_viewer(mine, grant.id)
    assert db.session.scalar(select(grants.Grant.id)) == grant.id  # ended, kept for the history

"""Every index a table keeps serves a reading no other index of the table serves: each one is one
more page written on every insert (docs/performance.md, 89)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, String, Table, text

from core.db import Base, import_models


def _keys(index) -> list[str]:
    """What an index is ordered by: its columns and expressions, in order."""
    return [str(expr) for expr in index.expressions]


def redundant(tables) -> list[str]:
    """Indexes (not unique: a unique one is a rule) whose keys begin another index's keys on the
    same table: every reading of the shorter one finds its rows through the longer one."""
    found = []
    for table in tables:
        indexes = sorted(table.indexes, key=lambda i: i.name)
        for index in indexes:
            if index.unique:
                continue
            keys = _keys(index)
            for other in indexes:
                longer = _keys(other)
                if (
                    other is not index
                    and longer[: len(keys)] == keys
                    and (len(longer) > len(keys) or other.name < index.name)
                ):
                    found.append(f"{table.name}.{index.name} begins {other.name}")
                    break
    return found


def test_no_index_begins_another():
    """The trail's index by space alone began its index by space and id (in SQLite, the same
    entries: the id is the rowid every entry ends with); a document's and an appointment's by
    space alone began those by space and date."""
    import_models()
    assert redundant(Base.metadata.sorted_tables) == []


def test_every_space_keeps_an_index_that_begins_with_it():
    """The rule above drops an index by space alone only where a longer one begins with the space:
    every table of patient data is still found by space through an index (README, "Scaling")."""
    import_models()
    unindexed = [
        table.name
        for table in Base.metadata.sorted_tables
        if "patient_id" in table.c
        and not any(_keys(index)[0] == f"{table.name}.patient_id" for index in table.indexes)
        and next(iter(table.primary_key.columns)).name != "patient_id"
    ]
    assert unindexed == []


def test_an_index_beginning_another_is_found_and_one_on_another_expression_is_not():
    meta = MetaData()
    Table("spaces", meta, Column("id", String(36), primary_key=True))
    table = Table(
        "t",
        meta,
        Column("id", Integer, primary_key=True),
        Column("space", String(36), ForeignKey("spaces.id"), index=True),
        Column("kind", String(20)),
        Column("at", String(20)),
        Column("last", String(20)),
        Index("by_space_id", "space", "id"),
        Index("by_space_latest", "space", text("coalesce(last, at)")),
        Index("by_kind_at", "kind", "at"),
        Index("unique_kind", "kind", unique=True),
    )
    assert redundant([table]) == ["t.ix_t_space begins by_space_id"]

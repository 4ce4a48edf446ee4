"""Statements compiled once and run on the request's own DB-API connection (`Fixed`): the reads
that run on (nearly) every request, and the one-row writes many requests make. The transaction
they run in, and the rules on writing in it, are core.db's."""

from __future__ import annotations

from collections import namedtuple

from sqlalchemy import literal_column
from sqlalchemy.exc import NoResultFound
from sqlalchemy.types import TupleType

from core.db import WriteWithoutIntent, db, flush_pending, is_read_only


def in_sql(count: int):
    """A constant LIMIT or OFFSET of a compiled statement written into its SQL (`.limit(in_sql(1))`)
    instead of sent as a parameter. PostgreSQL plans a prepared statement for each run's values
    until a plan for any values (generic) costs no more; with the row count a parameter, the
    generic plan of an ORDER BY ... LIMIT cannot know how few rows are asked for, always looks
    dearer, and the statement is planned anew at every run (docs/performance.md, 91)."""
    return literal_column(str(int(count)))


class Fixed:
    """A SELECT that runs on (nearly) every request, with the same shape each time: compiled once
    per dialect, then run on the request's own DB-API connection (the same transaction as every
    other statement of the request), its values converted by the columns' own SQLAlchemy types.
    SQLAlchemy's execution layer (cache key, execution context, events, result object) cost
    more than SQLite running the statement. Only plain column SELECTs with named bound
    parameters belong here, and the UPDATEs and INSERTs of one row that many requests write
    (run(), returning()); their execution is not seen by SQLAlchemy's events (echo,
    before_cursor_execute)."""

    def __init__(self, statement):
        self.statement = statement
        self._columns = tuple(statement.exported_columns)  # a SELECT's, or what an INSERT returns
        keys = [str(c.key) for c in self._columns]
        self.row = namedtuple("Row", keys, rename=True)  # type: ignore[misc]  # unnamed columns: _0, _1...
        self._by_dialect: dict[str, list] = {}

    def _compiled(self, dialect) -> list:
        compiled = self.statement.compile(dialect=dialect)
        string = compiled.string
        names = tuple(compiled.positiontup or ()) if compiled.positional else None
        expanding = {compiled.bind_names[b] for b in compiled.post_compile_params}
        binds = {
            name: proc
            for name, bind in compiled.binds.items()
            if name not in expanding and (proc := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        constants: dict = {}
        if any(b.required or b.callable for b in compiled.post_compile_params):  # IN (a list given at each call)
            return [compiled, None, None, binds, None, None, self._lists(compiled)]
        if compiled.post_compile_params:  # IN (a fixed list): expanded once, here
            expanded = compiled.construct_expanded_state({b.key: None for b in compiled.binds.values() if b.required})
            string = expanded.statement
            names = tuple(expanded.positiontup or ()) if compiled.positional else None
            for new_names in expanded.parameter_expansion.values():
                constants.update((n, expanded.parameters[n]) for n in new_names)
            for name, proc in expanded.processors.items():
                if name in constants:
                    constants[name] = proc(constants[name])
        return [compiled, string, names, binds, None, constants, None]

    @staticmethod
    def _lists(compiled) -> dict | None:
        """The IN lists given at each call, by the caller's key and compiled name, when each is a
        plain list of values (not a tuple's, nor written into the SQL as literals): such a
        statement is expanded once per length of its lists, rounded up to a power of two."""
        lists = {}
        for bind in compiled.post_compile_params:
            if not bind.expanding or bind.literal_execute or isinstance(bind.type, TupleType):
                return None
            lists[bind.key] = compiled.bind_names[bind]
        return {"names": lists, "expanded": {}}

    def _expanded(self, compiled, binds, lists, params) -> tuple:
        """The statement and its values for these lists: expanded by SQLAlchemy once per padded
        length (each list's last value repeated: `IN (a, b, b, b)` is `IN (a, b)`, `NOT IN`
        alike); an empty list, or a shape SQLAlchemy expands otherwise, at each call."""
        given = {key: list(params[key]) for key in lists["names"] if key in params}
        if len(given) != len(lists["names"]) or not all(given.values()):
            return None
        sizes = tuple(1 << (len(v) - 1).bit_length() for v in given.values())
        found = lists["expanded"].get(sizes)
        if found is False:
            return None
        if found is None:
            padded = {key: [*v, *[v[-1]] * (n - len(v))] for (key, v), n in zip(given.items(), sizes, strict=True)}
            expanded = compiled.construct_expanded_state({**params, **padded})
            steps = []
            for (key, name), n in zip(lists["names"].items(), sizes, strict=True):
                new_names = expanded.parameter_expansion.get(name, [])
                if len(new_names) != n:
                    lists["expanded"][sizes] = False
                    return None
                steps.append((key, name, new_names, expanded.processors.get(new_names[0])))
            names = tuple(expanded.positiontup or ()) if compiled.positional else None
            found = lists["expanded"][sizes] = (expanded.statement, names, tuple(steps))
        string, names, steps = found
        values = compiled.construct_params(params)
        for name, proc in binds.items():
            if name in values:
                values[name] = proc(values[name])
        for key, name, new_names, proc in steps:
            items = given[key]
            last = len(items) - 1
            del values[name]
            for i, new_name in enumerate(new_names):
                value = items[min(i, last)]
                values[new_name] = value if proc is None else proc(value)
        return string, names, values

    def _results(self, dialect, description) -> tuple:
        """Each column's converter, asked with the driver's type code as SQLAlchemy asks it
        (psycopg's numbers depend on it)."""
        return tuple(
            (i, proc)
            for i, c in enumerate(self._columns)
            if (proc := c.type.dialect_impl(dialect).result_processor(dialect, description[i][1])) is not None
        )

    def _execute(self, params: dict):
        return self._execute_on(*db.reader(), params)

    def _execute_on(self, driver, dialect, params: dict):
        found = self._by_dialect.get(dialect.name)
        if found is None:
            found = self._by_dialect[dialect.name] = self._compiled(dialect)
        compiled, string, names, binds, results, constants, lists = found
        ready = None if string is not None or lists is None else self._expanded(compiled, binds, lists, params)
        if ready is not None:
            string, names, values = ready
        elif string is None:  # expanded at each call, as SQLAlchemy's execution does
            expanded = compiled.construct_expanded_state(params)
            string = expanded.statement
            names = tuple(expanded.positiontup or ()) if compiled.positional else None
            values = dict(expanded.parameters)
            # the other parameters' converters are the statement's own; the list's items', new
            for name, proc in (*binds.items(), *expanded.processors.items()):
                if name in values:
                    values[name] = proc(values[name])
        else:
            values = compiled.construct_params(params)
            for name, proc in binds.items():
                values[name] = proc(values[name])
            if constants:
                values.update(constants)
        cursor = driver.cursor()
        cursor.execute(string, [values[n] for n in names] if names is not None else values)
        if results is None:
            results = found[4] = self._results(dialect, cursor.description)
        return cursor, results

    def _convert(self, raw, results):
        if not results:
            return self.row._make(raw)
        values = list(raw)
        for i, proc in results:
            values[i] = proc(values[i])
        return self.row._make(values)

    def first(self, params: dict):
        """The first row (a named tuple), or None."""
        cursor, results = self._execute(params)
        try:
            raw = cursor.fetchone()
        finally:
            cursor.close()
        return None if raw is None else self._convert(raw, results)

    def all(self, params: dict) -> list:
        cursor, results = self._execute(params)
        try:
            raws = cursor.fetchall()
        finally:
            cursor.close()
        return [self._convert(raw, results) for raw in raws]

    def tuples(self, params: dict) -> list[tuple]:
        """Every row as a plain tuple, converted as all() converts them: for long reads (a
        chart's points) whose rows are unpacked at once, not read by name."""
        cursor, results = self._execute(params)
        try:
            raws = cursor.fetchall()
        finally:
            cursor.close()
        if not results:
            return [tuple(raw) for raw in raws] if raws and type(raws[0]) is not tuple else raws
        return [tuple(self._convert(raw, results)) for raw in raws]

    def one(self, params: dict):
        """The one row; raises as SQLAlchemy's Result.one() when there is none."""
        row = self.first(params)
        if row is None:
            raise NoResultFound("No row was found when one was required")
        return row

    def scalar(self, params: dict):
        row = self.first(params)
        return None if row is None else row[0]

    def run(self, params: dict) -> int:
        """An UPDATE or INSERT, in the app context's write transaction; the rows it changed.
        Pending ORM changes are written first, as the ORM's own execute() would (autoflush).
        Refused in a read-only transaction: that read is rolled back, and the write with it."""
        cursor, _results = self._write(params)
        try:
            return cursor.rowcount
        finally:
            cursor.close()

    def returning(self, params: dict):
        """An INSERT ... RETURNING, written as run() writes: the row it returns."""
        cursor, results = self._write(params)
        try:
            raw = cursor.fetchone()
        finally:
            cursor.close()
        return self._convert(raw, results)

    def _write(self, params: dict):
        if is_read_only():
            raise WriteWithoutIntent("write_intent() was not called before a compiled write")
        flush_pending()
        found = self._execute(params)
        if db.session.registry.has():  # part of the session's unit of work: never split after it
            db.session().info["carnet_wrote"] = True
        return found

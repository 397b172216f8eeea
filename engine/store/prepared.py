"""The hottest statements, compiled once per dialect and set of columns, run on the driver.

SQLAlchemy's ``Connection.execute`` spends some 40 µs of Python per statement on coercion,
cache keys and result set-up: more than SQLite takes to insert a small row, and it is paid on
every start and every step. The few statements that run that often (new executions, history
events, work-item writes) are compiled here once and run with ``exec_driver_sql``, which keeps
SQLAlchemy's transaction and its error wrapping (a duplicate key is still an IntegrityError).
Column types still convert the values: their bind processors are taken from the compiled form.
"""
from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa


class Prepared:
    """An INSERT into ``table`` or a statement with named ``bindparam``s."""

    def __init__(self, statement: sa.Executable):
        self.statement = statement
        self._forms: dict[tuple, tuple[str, tuple[str, ...] | None, list]] = {}
        self._lock = threading.Lock()

    def run(self, conn: sa.Connection, rows: list[dict[str, Any]]) -> int:
        """Execute once per row (one ``executemany``); returns the rows matched or inserted."""
        if not rows:
            return 0
        sql, order, converters = self._form(conn.dialect, tuple(rows[0]))
        if order is not None:  # positional paramstyle (SQLite's qmark): tuples in bind order
            params: list = [tuple(_converted(list(map(row.__getitem__, order)), converters))
                            for row in rows]
        else:  # named (psycopg's pyformat): the rows themselves, converted
            params = [_converted(dict(row), converters) for row in rows]
        result = conn.exec_driver_sql(sql, params if len(params) > 1 else params[0])
        return result.rowcount

    def _form(self, dialect: sa.Dialect, keys: tuple[str, ...]):
        """(SQL, bind names in order or None, [(index or name, bind processor)])."""
        found = self._forms.get((dialect.name, keys))
        if found is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
            processors = {}
            for name, bind in compiled.binds.items():
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if processor is not None:
                    processors[name] = processor
            if compiled.positional:
                order = tuple(compiled.positiontup)
                converters = [(index, processors[name]) for index, name in enumerate(order)
                              if name in processors]
            else:
                order, converters = None, list(processors.items())
            found = (compiled.string, order, converters)
            with self._lock:
                self._forms[(dialect.name, keys)] = found
        return found


def _converted(values, converters: list) -> Any:
    """``values`` (a list or a dict) with the column types' conversions applied (NULLs kept)."""
    for key, processor in converters:
        if values[key] is not None:
            values[key] = processor(values[key])
    return values

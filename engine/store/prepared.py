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
from typing import Any, Callable

import sqlalchemy as sa


class Prepared:
    """An INSERT into ``table`` or a statement with named ``bindparam``s."""

    def __init__(self, statement: sa.Executable):
        self.statement = statement
        self._forms: dict[tuple, tuple[str, tuple[str, ...] | None, dict[str, Callable]]] = {}
        self._lock = threading.Lock()

    def run(self, conn: sa.Connection, rows: list[dict[str, Any]]) -> int:
        """Execute once per row (one ``executemany``); returns the rows matched or inserted."""
        if not rows:
            return 0
        keys = tuple(rows[0])
        sql, order, processors = self._form(conn.dialect, keys)
        if order is not None:  # positional paramstyle (SQLite's qmark)
            params: list = [tuple(_convert(processors, name, row[name]) for name in order) for row in rows]
        else:
            params = [{name: _convert(processors, name, value) for name, value in row.items()}
                      for row in rows]
        result = conn.exec_driver_sql(sql, params if len(params) > 1 else params[0])
        return result.rowcount

    def _form(self, dialect: sa.Dialect, keys: tuple[str, ...]):
        found = self._forms.get((dialect.name, keys))
        if found is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
            processors = {}
            for name, bind in compiled.binds.items():
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if processor is not None:
                    processors[name] = processor
            order = tuple(compiled.positiontup) if compiled.positional else None
            found = (compiled.string, order, processors)
            with self._lock:
                self._forms[(dialect.name, keys)] = found
        return found


def _convert(processors: dict[str, Callable], name: str, value: Any) -> Any:
    processor = processors.get(name)
    return value if processor is None or value is None else processor(value)

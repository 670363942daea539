"""Hot reads compiled once: the send path's two selects, whose ORM compilation cost more than
their round trip to PostgreSQL (about 1.5 ms of CPU each against well under 0.1 ms of server
time, measured with bench/send/api_request.py).

A `CompiledRead` builds its queryset once per database vendor with sentinel values in place of
the arguments, keeps the SQL, where each sentinel landed among the parameters and the ORM's own
converters for the columns, and then runs the same SQL with the real arguments. The rows are
exactly what the queryset would return (the converters turn SQLite's text dates into aware
datetimes, as the ORM does).

On PostgreSQL a compiled read is also a prepared statement of each connection (PREPARE once,
then EXECUTE): planning these joins cost PostgreSQL more than running them (0.1-0.3 ms of
planning against 0.04-0.07 ms of execution each, `EXPLAIN ANALYZE` in bench/send). Prepared
statements live in the server's session, so this needs a direct connection or a pooler in
session mode (not PgBouncer's transaction mode, which this product does not use).

Each PostgreSQL connection plans its prepared statements once (`plan_cache_mode =
force_generic_plan`, set when Django opens it: `generic_plans`). PostgreSQL's default plans a
statement again on every execution while the plan made for the given values looks cheaper than
one for any value; for a read taking a list of ids (a worker batch's recipients) it always did,
since it guesses a list longer than the one or few ids a batch of single texts holds, so the
read was planned on every batch. Every statement prepared here is a look-up by key, which one
plan serves for any value. Django's own queries are not prepared on the server (psycopg2), so
the setting changes nothing else.
"""

from __future__ import annotations

import itertools
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import NotSupportedError, connections
from django.db.models import Field, Model, QuerySet

# Arguments stand in as these integers while the queryset compiles (never real ids); a text
# column receives them as their digits (a CharField prepares -7340001 as "-7340001").
_SENTINELS = (-7_340_001, -7_340_002, -7_340_003)
_TEXT_SENTINELS = tuple(str(s) for s in _SENTINELS)


def _slot(param: Any) -> int | None:
    """Which argument a compiled parameter stands for; None for a constant of the query."""
    if isinstance(param, int) and param in _SENTINELS:
        return _SENTINELS.index(param)
    if isinstance(param, str) and param in _TEXT_SENTINELS:
        return _TEXT_SENTINELS.index(param)
    return None


# The statements prepared on each open PostgreSQL connection (a new connection prepares again).
_prepared_on: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
# Statements of each connection whose plan a migration invalidated: deallocated, then prepared
# again, at their next use.
_stale_on: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
_names = itertools.count(1)


def generic_plans(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: a new PostgreSQL connection plans its prepared statements
    once (see the module's note). Outside any transaction, through the driver's own cursor (not
    one of the request's queries)."""
    if connection.vendor != "postgresql":
        return
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_generic_plan")


def _numbered(sql: str) -> str:
    """psycopg's `%s` placeholders as PostgreSQL's `$1`, `$2`... (and `%%` as `%`)."""
    numbers = itertools.count(1)
    return re.sub(r"%([%s])", lambda m: "%" if m[1] == "%" else f"${next(numbers)}", sql)


class CompiledRead:
    """`build(*sentinels)` gives a `values()` queryset; `rows(*args)` runs it.

    The arguments named in `lists` are lists of ids, each used once as `field__in=...`: the
    queryset is built with a one-element list, and the statement takes any number of ids (on
    PostgreSQL `= ANY(%s)` with one array parameter, so one prepared statement serves every
    length; elsewhere the `IN (...)` is written for each call's length)."""

    def __init__(
        self, build: Callable[..., QuerySet[Any]], arity: int, lists: tuple[int, ...] = ()
    ) -> None:
        if not 1 <= arity <= len(_SENTINELS):
            raise ValueError("arity must be between 1 and 3")
        if not set(lists) <= set(range(arity)):
            raise ValueError("lists must name arguments")
        self._build = build
        self._arity = arity
        self._lists = lists
        # Per vendor: the parameter position of each list argument and the `IN (%s)` it stands
        # in (its start and end in the SQL), for the vendors that write it out per call.
        self._in_lists: dict[str, dict[int, tuple[int, int]]] = {}
        self._compiled: dict[str, tuple[str, list[Any], list[int | None], Any, Any, list[str]]] = {}
        self._lock = threading.Lock()
        self._name = f"compiled_read_{next(_names)}"

    def _compile(self, alias: str) -> tuple[str, list[Any], list[int | None], Any, Any, list[str]]:
        vendor = connections[alias].vendor
        found = self._compiled.get(vendor)
        if found is not None:
            return found
        with self._lock:
            queryset = self._build(
                *([s] if i in self._lists else s for i, s in enumerate(_SENTINELS[: self._arity]))
            )
            compiler = queryset.query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            slots = [_slot(p) for p in params]
            if set(range(self._arity)) - set(slots):
                raise ValueError("an argument was not compiled as a query parameter")
            sql, in_lists = self._lists_placed(sql, slots, vendor)
            self._in_lists[vendor] = in_lists
            columns = [column[0] for column in compiler.select[: compiler.col_count]]
            converters = compiler.get_converters(columns)
            query = queryset.query
            # The columns in the order the SQL selects them (Django 5.2 keeps values()' order).
            names = list(query.selected or ())
            if len(names) != len(columns):
                raise ValueError("a compiled read must be a values() queryset")
            found = (sql, list(params), slots, compiler, converters, names)
            self._compiled[vendor] = found
        return found

    def _lists_placed(
        self, sql: str, slots: list[int | None], vendor: str
    ) -> tuple[str, dict[int, tuple[int, int]]]:
        """`sql` with each list argument's `IN (%s)` as `= ANY(%s)` on PostgreSQL; elsewhere
        unchanged, with where each `IN (%s)` is (by parameter position)."""
        placeholders = [m for m in re.finditer(r"%[%s]", sql) if m[0] == "%s"]
        spans: dict[int, tuple[int, int]] = {}
        for argument in self._lists:
            positions = [k for k, slot in enumerate(slots) if slot == argument]
            if len(positions) != 1:
                raise ValueError("a list argument must be used once")
            mark = placeholders[positions[0]]
            start, end = mark.start() - len("IN ("), mark.end() + len(")")
            if sql[start : mark.start()] != "IN (" or sql[mark.end() : end] != ")":
                raise ValueError("a list argument must be compiled as IN (...)")
            spans[positions[0]] = (start, end)
        if vendor != "postgresql":
            return sql, spans
        for start, end in sorted(spans.values(), reverse=True):
            sql = f"{sql[:start]}= ANY(%s){sql[end:]}"
        return sql, {}

    def _written_out(
        self, sql: str, bound: list[Any], in_lists: dict[int, tuple[int, int]]
    ) -> tuple[str, list[Any]]:
        """The statement with each list argument's `IN (...)` written for its length."""
        params: list[Any] = []
        last_end, pieces = 0, []
        for position, value in enumerate(bound):
            span = in_lists.get(position)
            if span is None:
                params.append(value)
                continue
            pieces += [sql[last_end : span[0]], f"IN ({', '.join(['%s'] * len(value))})"]
            last_end = span[1]
            params += list(value)
        return "".join(pieces) + sql[last_end:], params

    def rows(self, *args: Any, using: str = "default") -> list[dict[str, Any]]:
        """The rows as the queryset's `values()` would give them: a dict per row."""
        sql, params, slots, compiler, converters, names = self._compile(using)
        if any(not args[i] for i in self._lists):
            return []  # `field__in=[]` matches nothing (the ORM does not even ask)
        bound = [p if slot is None else args[slot] for p, slot in zip(params, slots, strict=True)]
        connection = connections[using]
        if connection.vendor != "postgresql" and self._lists:
            sql, bound = self._written_out(sql, bound, self._in_lists[connection.vendor])
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                try:
                    cursor.execute(_execute_of(connection, self._name, sql, len(bound)), bound)
                except NotSupportedError as error:
                    # A migration changed a column the statement returns (e.g. a longer
                    # CharField): PostgreSQL refuses the prepared plan from now on, on this
                    # connection. Prepare it again, at once outside a transaction; inside one
                    # (now aborted) at the next use.
                    if "cached plan must not change result type" not in str(error):
                        raise
                    _forget(connection.connection, self._name)
                    if connection.in_atomic_block:
                        raise
                    cursor.execute(_execute_of(connection, self._name, sql, len(bound)), bound)
            else:
                cursor.execute(sql, bound)
            fetched: Iterable[Sequence[Any]] = cursor.fetchall()
        if converters:
            fetched = compiler.apply_converters(fetched, converters)
        return [dict(zip(names, row, strict=True)) for row in fetched]


def _execute_of(connection: Any, name: str, sql: str, count: int) -> str:
    """The EXECUTE of statement `name` (`sql`, `count` parameters), prepared first on a
    connection that has not prepared it (through the driver's own cursor: preparing is not one
    of the request's queries). Where queries are recorded (DEBUG, tests), the statement follows
    as a comment, so a log shows what ran."""
    raw = connection.connection
    prepared = _prepared_on.get(raw)
    if prepared is None:
        prepared = _prepared_on.setdefault(raw, set())
    if name not in prepared:
        stale = _stale_on.get(raw, set())
        # Through Django's error wrapper, so a lost connection is a Django error and marks
        # the connection for closing, as any query's would.
        with connection.wrap_database_errors, raw.cursor() as cursor:
            if name in stale:
                cursor.execute(f"DEALLOCATE {name}")
                stale.discard(name)
            cursor.execute(f"PREPARE {name} AS {_numbered(sql)}")
        prepared.add(name)
    execute = f"EXECUTE {name}({', '.join(['%s'] * count)})"
    if connection.queries_logged:
        execute += f" /* {_numbered(sql).replace('%', '%%')} */"
    return execute


def _forget(raw: Any, name: str) -> None:
    """Statement `name` of this connection is to be deallocated and prepared again."""
    _prepared_on.get(raw, set()).discard(name)
    stale = _stale_on.get(raw)
    if stale is None:
        stale = _stale_on.setdefault(raw, set())
    stale.add(name)


class PreparedWrite:
    """A write statement (`%s` placeholders) run as a prepared statement on PostgreSQL, each
    connection preparing it at its first use: for statements whose planning costs PostgreSQL
    more than running them, as the inbox's summary upsert (planned on every send before).
    Elsewhere it runs as written. It returns no rows, so a migration cannot change its result
    type; PostgreSQL plans it again by itself after a change to a table it reads."""

    def __init__(self, sql: str) -> None:
        self._sql = sql
        self._name = f"prepared_write_{next(_names)}"

    def execute(self, params: Sequence[Any], using: str = "default") -> None:
        connection = connections[using]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(_execute_of(connection, self._name, self._sql, len(params)), params)
            else:
                cursor.execute(self._sql, params)


class CompiledInsert:
    """`bulk_create([obj])` for one new row of `model`, its INSERT written once per database
    vendor: the ORM compiles the same 29-column statement on every send (about a fifth of the
    send's CPU). Same values (each field's `pre_save` and `get_db_prep_save`, so `auto_now`
    dates are set on the object), no signals (as bulk_create), the primary key read back."""

    def __init__(self, model: type[Model]) -> None:
        self._model = model
        self._compiled: dict[str, tuple[str, str, list[Field[Any, Any]]] | None] = {}
        # The prepared statement of each `then` (PostgreSQL).
        self._then_names: dict[str, str] = {}

    def _compile(self, alias: str) -> tuple[str, str, list[Field[Any, Any]]] | None:
        connection = connections[alias]
        if connection.vendor in self._compiled:
            return self._compiled[connection.vendor]
        opts = self._model._meta
        found: tuple[str, str, list[Field[Any, Any]]] | None = None
        # Only what a plain insert returns: the automatic primary key (no db_default column).
        if connection.features.can_return_columns_from_insert and opts.db_returning_fields == [
            opts.pk
        ]:
            fields = [f for f in opts.concrete_fields if f is not opts.auto_field]
            quote = connection.ops.quote_name
            returning, _ = connection.ops.return_insert_columns([opts.pk])  # type: ignore[attr-defined]
            insert = (
                f"INSERT INTO {quote(str(opts.db_table))} "  # noqa: S608 (names from the model)
                f"({', '.join(quote(str(f.column)) for f in fields)}) "
                f"VALUES ({', '.join(['%s'] * len(fields))})"
            )
            # With a `then` (save's), the new row is the table `saved` and the key read from it.
            pk = quote(str(opts.pk.column))
            then = (
                f"WITH saved AS ({insert} RETURNING *), "  # noqa: S608 (names from the model)
                f"recorded AS ({{}}) SELECT {pk} FROM saved"
            )
            found = (f"{insert} {returning}", then, fields)
        self._compiled[connection.vendor] = found
        return found

    def save(
        self, obj: Model, using: str = "default", *, then: tuple[str, list[Any]] | None = None
    ) -> bool:
        """Insert `obj` (its primary key unset) and set its primary key.

        `then` is a write (its SQL and parameters) reading the new row as the table `saved`:
        on PostgreSQL it runs in the same statement (a data-modifying WITH), one round trip
        and one prepared statement for both. Returns whether it ran; elsewhere it did not, and
        the caller makes that write its own way."""
        compiled = self._compile(using)
        if compiled is None or obj.pk is not None:
            self._model._default_manager.using(using).bulk_create([obj])
            return False
        sql, with_then, fields = compiled
        connection = connections[using]
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
        params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
        combined = then is not None and connection.vendor == "postgresql"
        if then is not None and combined:
            then_sql, then_params = then
            name = self._then_names.setdefault(then_sql, f"insert_then_{next(_names)}")
            sql, params = with_then.format(then_sql), params + then_params
            sql = _execute_of(connection, name, sql, len(params))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            (pk,) = cursor.fetchone()
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = using
        return combined

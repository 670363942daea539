"""Live updates (V4): a cheap "changed since" cursor over what a page shows, and the signed token
that lets an open page ask for it.

An open page (any page: the navigation shows the unread count) polls
`GET /inbox/changes/?since=<cursor>` every few seconds. The answer is one SQL statement of a
few index probes: the unread count and newest unread text of the caller's inbox (the
attributed_to/read_at index), the latest change to anything the caller sent (the
sender/updated_at index: a new send, a status moving on), and the same for the shared inbox
(administrators, a partial index) and for another staff member's inbox an administrator is
reading. When the cursor is unchanged the answer is 204 with no body; otherwise the page fetches
itself again and swaps the parts that change.

The poll carries a token signed with the secret key (issued to the page when it was rendered,
after its permission checks, valid for `TOKEN_MAX_AGE`), naming the login and what it may watch,
so a poll reads no session and no user row: one query per poll (docs/DECISIONS.md, "The inbox").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core import signing
from django.db import connection

from messaging.models import Attribution, Message
from people.models import Person

TOKEN_SALT = "messaging.live"
# A page left open longer than this stops updating until it is reloaded.
TOKEN_MAX_AGE = 12 * 3600


@dataclass(frozen=True, slots=True)
class Scope:
    """What a page watches: the inbox of the person linked to login `user_id`; the shared inbox
    (administrators); another staff member's inbox an administrator is reading."""

    user_id: int
    shared: bool = False
    staff_id: int | None = None


@dataclass(frozen=True, slots=True)
class LiveState:
    cursor: str
    unread: int
    shared_unread: int | None


def token_issue(scope: Scope) -> str:
    return signing.dumps([scope.user_id, scope.shared, scope.staff_id], salt=TOKEN_SALT)


def token_scope(token: str) -> Scope:
    """:raises signing.BadSignature: for a forged, malformed or expired token."""
    try:
        user_id, shared, staff_id = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except (TypeError, ValueError) as exc:  # signed, but not a scope (never issued by us)
        raise signing.BadSignature("not a live-update token") from exc
    if not isinstance(user_id, int) or not isinstance(shared, bool):
        raise signing.BadSignature("not a live-update token")
    if staff_id is not None and not isinstance(staff_id, int):
        raise signing.BadSignature("not a live-update token")
    return Scope(user_id=user_id, shared=shared, staff_id=staff_id)


# Only the models' table names are formatted into the SQL; every value is a parameter.
_M = Message._meta.db_table
_P = Person._meta.db_table
_OWN = f"(SELECT id FROM {_P} WHERE user_id = %s)"  # noqa: S608


# The unread texts' count and newest id in one scan of them, as "count:id" (a separate MAX(id)
# would walk the primary key backwards until it met one).
_COUNT_AND_NEWEST = "(SELECT COUNT(*) || ':' || COALESCE(MAX(id), 0) {})"


# Unread counts only texts of a conversation, as the inbox lists them: a text from a number on
# no record (no sender) is in none, so no page could open it and its count would never clear.
_IN_A_CONVERSATION = "sender_id IS NOT NULL"


def _inbox_columns(owner_sql: str) -> list[str]:
    unread = (
        f"FROM {_M} WHERE attributed_to_id = {owner_sql} AND read_at IS NULL "
        f"AND {_IN_A_CONVERSATION}"
    )
    return [
        _COUNT_AND_NEWEST.format(unread),
        f"(SELECT MAX(updated_at) FROM {_M} WHERE sender_id = {owner_sql})",  # noqa: S608
    ]


_SHARED_UNREAD = (
    f"FROM {_M} WHERE attribution = %s AND attributed_to_id IS NULL AND read_at IS NULL "
    f"AND {_IN_A_CONVERSATION}"
)


def _statement(scope: Scope) -> tuple[str, list[int | str]]:
    columns = _inbox_columns(_OWN)
    params: list[int | str] = [scope.user_id] * 2
    if scope.shared:
        columns.append(_COUNT_AND_NEWEST.format(_SHARED_UNREAD))
        params.append(Attribution.SHARED.value)
    if scope.staff_id is not None:
        columns += _inbox_columns("%s")
        params += [scope.staff_id] * 2
    return "SELECT " + ", ".join(columns), params


def live_state(scope: Scope) -> LiveState:
    """The cursor and unread counts for `scope`; 1 query of index probes."""
    sql, params = _statement(scope)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    assert row is not None
    digest = hashlib.blake2b(repr(tuple(row)).encode(), digest_size=8).hexdigest()
    return LiveState(
        cursor=digest,
        unread=int(str(row[0]).split(":")[0]),
        shared_unread=int(str(row[2]).split(":")[0]) if scope.shared else None,
    )


@dataclass(frozen=True, slots=True)
class PageLive:
    """What a rendered page needs for its live updates: the counts to show, the cursor they
    were read at, and the token its polls carry."""

    cursor: str
    unread: int
    shared_unread: int | None
    token: str


def page_live(*, user_id: int, administrator: bool, staff_id: int | None = None) -> PageLive:
    """For a page rendered to login `user_id` (its permission checks done); 1 query."""
    scope = Scope(user_id=user_id, shared=administrator, staff_id=staff_id)
    state = live_state(scope)
    return PageLive(state.cursor, state.unread, state.shared_unread, token_issue(scope))

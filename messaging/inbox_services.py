"""Writes of the inbox (V3): the conversations' summary rows, kept by every write that adds a
message to a conversation, and opening a conversation, which marks its inbound texts read.

Each summary row (messaging.models.ConversationSummary) holds what the inbox lists, so a page
reads its own rows instead of every message of the owner. The writes keep it in their own
transaction with one statement per batch of messages (`conversations_record`: an INSERT ... ON
CONFLICT DO UPDATE), and every column merges in any order (a later time wins, unread counts are
added and taken away), so two transactions recording into one conversation at once, or a
message recorded after a newer one, leave the row what the messages say
(`conversation_summaries_rebuild`, and tests/messaging/test_inbox_summary.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from messaging import compiled
from messaging.conversation import Owner, conversation_key, inbound_of
from messaging.models import Attribution, ConversationSummary, Direction, Message

# Only the models' table names are formatted into the SQL; every value is a parameter.
_S = ConversationSummary._meta.db_table
_M = Message._meta.db_table
_COLUMNS = (
    "staff_id",
    "person_id",
    "last_message_at",
    "last_message_id",
    "last_reply_at",
    "last_answer_at",
    "waiting_since",
    "unread",
)
_VALUES = {
    "inbound": Direction.INBOUND.value,
    "outbound": Direction.OUTBOUND.value,
    "shared": Attribution.SHARED.value,
}
# Messages per statement: well under the parameter limits of PostgreSQL and SQLite.
_CHUNK = 1000

# A message's conversation in SQL, as messaging.conversation says it (`written_between`,
# `conversation_key`): the owner (None: the shared inbox) and the other person.
_IN_A_CONVERSATION = """(
    (direction = %(outbound)s AND sender_id IS NOT NULL AND recipient_id IS NOT NULL)
    OR (direction = %(inbound)s AND sender_id IS NOT NULL
        AND (attributed_to_id IS NOT NULL OR attribution = %(shared)s)))"""
_OWNER = "CASE WHEN direction = %(outbound)s THEN sender_id ELSE attributed_to_id END"
_PERSON = "CASE WHEN direction = %(outbound)s THEN recipient_id ELSE sender_id END"
_ORDINARY = "direction = %(inbound)s AND keyword = ''"

# The summary of a conversation holding only the message (what a new conversation's row is,
# and what is merged into an existing one).
_ONE_MESSAGE = f"""{_OWNER}, {_PERSON}, created_at, id,
    CASE WHEN {_ORDINARY} THEN created_at END,
    CASE WHEN direction = %(outbound)s THEN created_at END,
    CASE WHEN {_ORDINARY} THEN created_at END,
    CASE WHEN direction = %(inbound)s AND read_at IS NULL THEN 1 ELSE 0 END"""


def _later(column: str) -> str:
    """The later of the row's `column` and the new message's (either may be NULL)."""
    new, old = f"excluded.{column}", f"{_S}.{column}"
    return (
        f"CASE WHEN {new} IS NOT NULL AND ({old} IS NULL OR {new} > {old}) "
        f"THEN {new} ELSE {old} END"
    )


# The new message is the latest when it is later, or as late with a higher id (the inbox orders
# a conversation's messages by created_at, then id).
_LAST_MESSAGE_ID = (
    f"CASE WHEN excluded.last_message_at > {_S}.last_message_at "
    f"OR (excluded.last_message_at = {_S}.last_message_at "
    f"AND ({_S}.last_message_id IS NULL OR excluded.last_message_id > {_S}.last_message_id)) "
    f"THEN excluded.last_message_id ELSE {_S}.last_message_id END"
)

# `waiting_since` is the oldest ordinary inbound text after the owner's last answer.
# - A new answer (excluded.last_answer_at): a wait that began after it stands; otherwise nothing
#   written later than the answer is on record (the usual case: the answer is the newest
#   message), or, when the answer is recorded after newer replies, they are looked up.
# - A new ordinary text: it starts the wait unless it is older than the last answer or than the
#   wait already running.
_LOOKUP_WAITING = (
    f"(SELECT MIN(m.created_at) FROM {_M} m WHERE m.sender_id = {_S}.person_id "  # noqa: S608
    f"AND m.attributed_to_id = {_S}.staff_id AND m.direction = %(inbound)s "
    f"AND m.keyword = '' AND m.created_at > excluded.last_answer_at)"
)
_WAITING_SINCE = f"""CASE
    WHEN excluded.last_answer_at IS NOT NULL THEN CASE
        WHEN {_S}.waiting_since IS NULL OR {_S}.waiting_since > excluded.last_answer_at
            THEN {_S}.waiting_since
        WHEN {_S}.last_reply_at IS NULL OR {_S}.last_reply_at <= excluded.last_answer_at
            THEN NULL
        ELSE {{lookup}} END
    WHEN excluded.last_reply_at IS NOT NULL THEN CASE
        WHEN {_S}.last_answer_at IS NOT NULL AND excluded.last_reply_at <= {_S}.last_answer_at
            THEN {_S}.waiting_since
        WHEN {_S}.waiting_since IS NOT NULL AND {_S}.waiting_since <= excluded.last_reply_at
            THEN {_S}.waiting_since
        ELSE excluded.last_reply_at END
    ELSE {_S}.waiting_since END"""

_SET = f"""last_message_id = {_LAST_MESSAGE_ID},
    last_message_at = {_later("last_message_at")},
    last_reply_at = {_later("last_reply_at")},
    last_answer_at = {_later("last_answer_at")},
    waiting_since = {_WAITING_SINCE},
    unread = {_S}.unread + excluded.unread"""


def _upsert_sql(*, shared: bool, ids: int | None, saved: bool = False) -> str:
    """The statement counting `ids` messages (parameters `id0`...; None: one array parameter
    `ids`, PostgreSQL's) in distinct conversations of staff members, or of the shared inbox
    (which sends nothing: no answer to look replies up after). The rows are read from the
    messages just saved (by primary key), not sent again; with `saved`, from the table `saved`
    of the INSERT of the same statement (messaging.compiled.CompiledInsert's `then`)."""
    # Two unique indexes (person and staff; person alone, partial, in the shared inbox): each
    # statement names the one it conflicts on.
    if shared:
        target, lookup = "(person_id) WHERE staff_id IS NULL", "NULL"
    else:
        target, lookup = "(person_id, staff_id)", _LOOKUP_WAITING
    wanted = (
        "= ANY(%(ids)s)" if ids is None else f"IN ({', '.join(f'%(id{i})s' for i in range(ids))})"
    )
    return (
        f"INSERT INTO {_S} ({', '.join(_COLUMNS)}) "  # noqa: S608
        f"SELECT {_ONE_MESSAGE} FROM {'saved' if saved else f'{_M} WHERE id {wanted}'} "
        "ORDER BY 2, 1 "
        f"ON CONFLICT {target} DO UPDATE SET {_SET.format(lookup=lookup)}"
    )


_NAMED = r"%\((\w+)\)s"


def _positional(sql: str) -> tuple[str, list[str]]:
    """`sql` with its named parameters as `%s`, and the name of each in order."""
    return re.sub(_NAMED, "%s", sql), re.findall(_NAMED, sql)


def _bound(names: list[str], ids: list[int] | None = None) -> list[Any]:
    """The values of the named parameters, in order (`ids`: the array of the prepared upsert)."""
    values = _VALUES | {"ids": ids}
    return [values[name] for name in names]


# On PostgreSQL the upsert is a prepared statement taking the ids as one array: planning it cost
# the server more than running it (0.27 against 0.1 ms, `EXPLAIN ANALYZE` of a single send's,
# by a one-off script), on every send. Per conversation kind: (the statement, its parameters).
_PREPARED_UPSERTS = {
    shared: (compiled.PreparedWrite(sql), names)
    for shared in (False, True)
    for sql, names in [_positional(_upsert_sql(shared=shared, ids=None))]
}

# A message of a staff member's conversation counted by the statement inserting it.
_AFTER_INSERT, _AFTER_INSERT_NAMES = _positional(_upsert_sql(shared=False, ids=None, saved=True))


def conversation_record_after_insert(message: Message) -> tuple[str, list[Any]] | None:
    """For a new message in a staff member's conversation, the write counting it, to run in the
    statement that inserts it (its SQL and parameters, reading the row as the table `saved`:
    messaging.compiled.CompiledInsert's `then`): a single send's INSERT and its inbox upsert in
    one round trip. None for any other message; `conversations_record` counts those."""
    key = conversation_key(message)
    if key is None or key[0].shared:
        return None
    return _AFTER_INSERT, _bound(_AFTER_INSERT_NAMES)


def conversations_record(messages: Iterable[Message]) -> None:
    """Count saved `messages` (texts, emails, inbound texts) in their conversations' summary rows,
    creating the rows of new conversations; messages in no conversation (automatic answers,
    texts from numbers on no record) are skipped.

    Call it in the transaction that saved them. One statement for a batch of messages to
    different people (a cohort's batch, a single send, a reply), a few more when one batch holds
    several messages of one conversation. Rows are written in (person, staff) order, so two
    batches never wait for each other in a cycle.
    """
    rounds: list[dict[tuple[Owner, int], int]] = []
    for message in messages:
        key = conversation_key(message)
        if key is None:
            continue
        for batch in rounds:
            if key not in batch:
                batch[key] = message.pk
                break
        else:
            rounds.append({key: message.pk})
    prepared = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        for batch in rounds:
            for shared in (False, True):
                ids = [pk for (owner, _), pk in batch.items() if owner.shared == shared]
                if prepared:
                    if ids:
                        write, names = _PREPARED_UPSERTS[shared]
                        write.execute(_bound(names, ids))
                    continue
                for start in range(0, len(ids), _CHUNK):
                    chunk = ids[start : start + _CHUNK]
                    params: dict[str, Any] = {f"id{i}": pk for i, pk in enumerate(chunk)}
                    cursor.execute(_upsert_sql(shared=shared, ids=len(chunk)), params | _VALUES)


def conversation_mark_read(*, owner: Owner, person_id: int) -> int:
    """Mark `person_id`'s unread texts in `owner`'s conversation read; returns how many.

    Called when the owner opens the conversation (an administrator for the shared inbox); an
    administrator reading somebody else's inbox does not call it. Idempotent: one UPDATE of the
    unread texts only (the attributed_to/read_at index), so a second call changes nothing; when
    it marked some, the summary's unread count goes down by as many (not to zero: a reply
    recorded meanwhile and not seen by this UPDATE stays unread, and counted).
    """
    with transaction.atomic():
        marked = Message.objects.filter(
            inbound_of(owner), sender_id=person_id, read_at__isnull=True
        ).update(read_at=timezone.now())
        if marked:
            ConversationSummary.objects.filter(staff_id=owner.staff_id, person_id=person_id).update(
                unread=Greatest(F("unread") - marked, Value(0))
            )
    return marked


# Every conversation computed from its messages, by the same definitions as the writes above.
_REBUILD = f"""
INSERT INTO {_S} ({", ".join(_COLUMNS)})
SELECT staff_id, person_id,
    MAX(created_at),
    MAX(CASE WHEN latest = 1 THEN id END),
    MAX(CASE WHEN {_ORDINARY} THEN created_at END),
    MAX(CASE WHEN direction = %(outbound)s THEN created_at END),
    MIN(CASE WHEN {_ORDINARY} AND (answered IS NULL OR created_at > answered)
        THEN created_at END),
    SUM(CASE WHEN direction = %(inbound)s AND read_at IS NULL THEN 1 ELSE 0 END)
FROM (
    SELECT w.*,
        ROW_NUMBER() OVER (
            PARTITION BY staff_id, person_id ORDER BY created_at DESC, id DESC
        ) AS latest,
        MAX(CASE WHEN direction = %(outbound)s THEN created_at END)
            OVER (PARTITION BY staff_id, person_id) AS answered
    FROM (
        SELECT id, created_at, read_at, direction, keyword,
            {_OWNER} AS staff_id, {_PERSON} AS person_id
        FROM {_M}
        WHERE {_IN_A_CONVERSATION}
    ) AS w
) AS r
GROUP BY staff_id, person_id
"""  # noqa: S608


def conversation_summaries_rebuild() -> int:
    """Compute every conversation's summary again from the messages (the data migration's
    first fill, the benchmark's data set, a repair); returns how many conversations. One
    statement (two with the delete), in its own transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_S}")  # noqa: S608
        cursor.execute(_REBUILD, _VALUES)
        return int(cursor.rowcount)

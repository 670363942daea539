"""The worker's side of sending a text (S6): claim, decide again, send through a gateway, record
the outcome; the reconciliation of texts whose fate is unknown; the sweep of stuck messages.

The provider is reached only through a `messaging.gateway.Gateway` the caller passes (the
Twilio bridge's task shims pass `twilio_bridge.gateway.from_settings()`); every write goes
through messaging.services, every decision through messaging.routing and messaging.delivery.
"""

from __future__ import annotations

import logging
import os
import queue
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from messaging import delivery, enqueue, policy, routing, selectors, send_queue
from messaging import services as messaging_services
from messaging.gateway import Gateway, Outcome, SendResult
from messaging.models import Channel, Direction, FailureReason, Message, Status
from people.models import PersonPhone
from sms_admin import pool

logger = logging.getLogger(__name__)

# Attempts at Twilio before a transiently failing text falls back to email (RETRIES_EXHAUSTED).
MAX_ATTEMPTS = 6


@dataclass(frozen=True)
class SendOutcome:
    kind: str  # skipped | sent | failed | retry | review
    retry_in: float | None = None
    # Twilio's SID of a text sent whose acceptance the caller writes (`sms_send_batch`).
    sid: str | None = None


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with jitter: about 2, 4, 8, 16, 32 seconds, capped at 5 minutes."""
    base = min(300.0, 2.0**attempt)
    return base / 2 + random.uniform(0, base / 2)


def sms_send(*, message_id: int, gateway: Gateway) -> SendOutcome:
    """Send one queued text once. A duplicate or redelivered task finds it claimed and sends
    nothing. Never called inside a transaction: the provider request is made in autocommit."""
    message = messaging_services.message_sms_claim(message_id=message_id)
    if message is None:
        return SendOutcome("skipped")
    # Route again at send time: a phone disabled (STOP, by hand) since queuing is never texted.
    # The context comes with the sender's current pool number, in one query.
    facts = (
        selectors.route_facts_for_person_id(message.recipient_id)
        if message.recipient_id is not None
        else None
    )
    outcome, _ = _sms_deliver(message, facts, selectors.send_context(message.sender_id), gateway)
    return outcome


# A batch's texts in flight at once, on PostgreSQL outside a transaction: the task's own thread
# and IN_FLIGHT - 1 helper threads (each with its own database connection, closed when the batch
# is done) take the batch's texts one after another. A worker process otherwise waits for each
# text's round trips to PostgreSQL and Twilio in turn; with 4 processes, 4 texts were in flight
# and the cohort reached 0.25-0.4 of the direct-SDK rate on a loaded machine (bench/send/run.py).
IN_FLIGHT = 4


def sms_send_batch(
    *,
    message_ids: Sequence[int],
    gateway: Gateway,
    on_retry: Callable[[int, float], None] | None = None,
) -> dict[int, SendOutcome]:
    """Send a batch of queued texts (a cohort's), each once, with the guarantees of `sms_send`.

    One query reads the batch's queued texts, one their recipients with phones, one the send
    context per sender; then each text is claimed on its own right before its request
    (a duplicate or redelivered batch finds it claimed and skips it; a worker killed mid-batch
    leaves at most the texts in flight, `IN_FLIGHT`, in `sending` for the sweep's lookup, the
    rest queued for the redelivered task), decided again with those facts, sent, and its
    outcome written. Twilio's acceptance of a text is written by the statement that claims that
    lane's next text (the last by its own), so a batch of texts all sent costs 3 + 1 per text +
    1 per lane queries. Inside a transaction (tests) or on another database than PostgreSQL the
    batch is sent in one lane, in id order.

    A text the provider could not take now is handed to `on_retry(message_id, seconds)` at
    once (one call at a time), so its backoff starts then, whatever happens to the rest of the
    batch.

    Returns the outcome of each text this call claimed; the others are absent.
    """
    messages = messaging_services.message_sms_queued(message_ids=message_ids)
    recipient_ids = sorted({m.recipient_id for m in messages if m.recipient_id is not None})
    facts = {f.id: f for f in selectors.route_facts_for_person_ids(recipient_ids)}
    batch = _Batch(messages, facts, gateway, on_retry)
    lanes = min(IN_FLIGHT, len(messages)) if _lanes_allowed() else 1
    helpers = _helpers.start(lanes - 1, batch.helper_lane)
    try:
        batch.lane()
    except BaseException as exc:
        batch.stop(exc)
        raise
    finally:
        for done in helpers:
            done.wait()
    if batch.failed:
        raise batch.failed[0]
    return batch.outcomes


def _lanes_allowed() -> bool:
    """Helper threads see only committed rows and SQLite takes one writer at a time."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


class _Batch:
    """The texts of one `sms_send_batch`, taken by its lanes one at a time."""

    def __init__(
        self,
        messages: list[Message],
        facts: dict[int, routing.PersonFacts],
        gateway: Gateway,
        on_retry: Callable[[int, float], None] | None,
    ) -> None:
        self.facts = facts
        self.gateway = gateway
        self.on_retry = on_retry
        self.outcomes: dict[int, SendOutcome] = {}
        self.failed: list[BaseException] = []
        self._waiting = iter(messages)
        self._contexts: dict[int | None, selectors.SendContext] = {}
        self._lock = threading.Lock()

    def stop(self, exc: BaseException) -> None:
        """No lane takes another text (each finishes the one in flight)."""
        with self._lock:
            self.failed.append(exc)

    def _next(self) -> Message | None:
        with self._lock:
            return None if self.failed else next(self._waiting, None)

    def _context(self, sender_id: int | None) -> selectors.SendContext:
        with self._lock:
            found = self._contexts.get(sender_id)
        if found is None:
            found = selectors.send_context(sender_id)
            with self._lock:
                found = self._contexts.setdefault(sender_id, found)
        return found

    def lane(self) -> None:
        # The text Twilio took last in this lane, (id, SID): written with the lane's next
        # claim, or alone at the end.
        accepted: tuple[int, str] | None = None
        try:
            while (message := self._next()) is not None:
                claimed = messaging_services.message_sms_claim_loaded(
                    message=message, accepted=accepted
                )
                accepted = None
                if not claimed:
                    continue
                facts_of = (
                    self.facts.get(message.recipient_id)
                    if message.recipient_id is not None
                    else None
                )
                outcome, context = _sms_deliver(
                    message,
                    facts_of,
                    self._context(message.sender_id),
                    self.gateway,
                    defer_accepted=True,
                )
                with self._lock:
                    # A number assigned for this text serves the rest of the sender's batch.
                    self._contexts[message.sender_id] = context
                    if outcome.retry_in is not None and self.on_retry is not None:
                        self.on_retry(message.pk, outcome.retry_in)
                    self.outcomes[message.pk] = outcome
                if outcome.sid is not None:
                    accepted = (message.pk, outcome.sid)
        finally:
            if accepted is not None:
                messaging_services.message_sms_accepted(
                    message_id=accepted[0], twilio_sid=accepted[1]
                )

    def helper_lane(self) -> None:
        """A lane on a helper thread: its error stops the batch and is raised by the task's
        thread (and its database connection is closed, not reused)."""
        try:
            if connection.connection is not None and not connection.is_usable():
                # Kept from an earlier batch, and lost since (a server restart, an idle
                # timeout): a new one is opened at the first query.
                connection.close()
            self.lane()
        except BaseException as exc:
            connection.close()
            self.stop(exc)


# A helper lane's work: (the job, the event set when it ends); None ends the lane.
_Inbox = queue.SimpleQueue[tuple[Callable[[], None], threading.Event] | None]


class _Helpers:
    """This process's helper lanes, kept from batch to batch: each thread keeps its database
    connection, its prepared statements and its Twilio client with the client's open HTTP
    connection, which threads started for each batch opened again (a PostgreSQL connection:
    about 11 ms of CPU between client and server, measured once on the bench machine by a
    script not kept; a connection to Twilio: a TLS handshake, not measured). Started at the
    first batch of a process (a forked worker process starts its own); `stop` closes their
    connections (a test database cannot be dropped while they are open)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._lanes: list[tuple[threading.Thread, _Inbox]] = []

    def start(self, count: int, job: Callable[[], None]) -> list[threading.Event]:
        """Run `job` on `count` helper threads at once; each event is set when its run ends."""
        if count <= 0:
            return []
        with self._lock:
            if self._pid != os.getpid():
                # Threads do not survive a fork: a worker process starts its own.
                self._pid, self._lanes = os.getpid(), []
            self._lanes = [lane for lane in self._lanes if lane[0].is_alive()]
            while len(self._lanes) < count:
                inbox: _Inbox = queue.SimpleQueue()
                thread = threading.Thread(
                    target=self._serve, args=(inbox,), name="sms-lane", daemon=True
                )
                thread.start()
                self._lanes.append((thread, inbox))
            lanes = self._lanes[:count]
        events = []
        for _, inbox in lanes:
            done = threading.Event()
            inbox.put((job, done))
            events.append(done)
        return events

    @staticmethod
    def _serve(inbox: _Inbox) -> None:
        try:
            while (work := inbox.get()) is not None:
                job, done = work
                try:
                    job()
                except BaseException:  # the thread serves the next batch whatever happens
                    logger.exception("A helper lane failed outside its batch")
                finally:
                    done.set()
        finally:
            connection.close()

    def stop(self) -> None:
        """End the helper threads of this process, each closing its database connection."""
        with self._lock:
            lanes, self._lanes = self._lanes, []
            mine = self._pid == os.getpid()
        if not mine:
            return
        for _, inbox in lanes:
            inbox.put(None)
        for thread, _ in lanes:
            thread.join(timeout=30)


_helpers = _Helpers()


def lanes_stop() -> None:
    """Close the helper lanes' database connections and end their threads (a worker process
    shutting down, a test session before its database is dropped)."""
    _helpers.stop()


# A drain sends at most this many batches before handing over to a fresh task, so one task never
# holds a worker process for long (the rest of the list is drained by the next).
DRAIN_MAX_BATCHES = 20


def sms_drain(
    *, holder: str, gateway: Gateway, on_retry: Callable[[int, float], None] | None = None
) -> dict[int, SendOutcome]:
    """Send the single texts waiting (messaging.send_queue), a batch at a time, each with the
    guarantees of `sms_send_batch`; `holder` names this drain (its task id, the same when the
    broker redelivers it). Returns the outcome of each text this call claimed."""
    send_queue.drain_started()
    outcomes: dict[int, SendOutcome] = {}
    holding = False  # this drain holds the flag while it lingers (messaging.send_queue)
    # First the batch this drain took before it was killed, if it is a redelivery.
    ids = send_queue.take(enqueue.TASK_BATCH_SIZE, holder=holder)
    for batch in range(DRAIN_MAX_BATCHES):
        if not ids and send_queue.LINGER_SECONDS > 0 and (holding or send_queue.hold()):
            holding = True
            ids = send_queue.wait(
                enqueue.TASK_BATCH_SIZE, holder=holder, seconds=send_queue.LINGER_SECONDS
            )
        if not ids and holding:
            # Nothing came: clear the flag, then read the list once more (and what a wait cut
            # short by the socket's timeout moved to this drain's own list).
            send_queue.drain_started()
            holding = False
            ids = send_queue.take(enqueue.TASK_BATCH_SIZE, holder=holder)
        if not ids:
            return outcomes
        if batch == 0 and send_queue.waiting() >= enqueue.TASK_BATCH_SIZE:
            # A backlog: another drain shares it (on another worker process), which may call
            # one more in turn; each takes its own batches, so none is sent twice.
            enqueue.drain()
        outcomes |= sms_send_batch(message_ids=ids, gateway=gateway, on_retry=on_retry)
        if batch + 1 < DRAIN_MAX_BATCHES:
            # This batch done and the next taken in one round trip (a steady stream of single
            # texts: one a text, and one more for each wait).
            ids = send_queue.take_next(enqueue.TASK_BATCH_SIZE, holder=holder)
        else:
            send_queue.done(holder=holder)
    if holding:
        send_queue.drain_started()
    if send_queue.waiting():
        enqueue.drain()
    return outcomes


def _sms_deliver(
    message: Message,
    facts: routing.PersonFacts | None,
    context: selectors.SendContext,
    gateway: Gateway,
    *,
    defer_accepted: bool = False,
) -> tuple[SendOutcome, selectors.SendContext]:
    """The claimed text `message` (in `sending`): decide again with the recipient's current
    `facts` and the sender's `context` (its unit of the month was taken when it was recorded),
    send it through `gateway` and record the outcome (with `defer_accepted`, Twilio's acceptance
    is returned in the outcome's `sid` for the caller to write). Returns the outcome and the
    context, with the sender number this text was given when the sender's assignment had been
    deleted."""
    route = routing.route(facts, context.config) if facts is not None else None
    from_number = context.sender_number
    sender = (
        message.sender
        if route is not None and route.channel == "sms" and not from_number
        else None  # (read only here: most texts have their number)
    )
    if sender is not None:
        # The assignment was deleted since queuing (S8): a free number, or none.
        assignment = pool.sender_number_ensure(person=sender)
        from_number = assignment.sender_number.number if assignment is not None else ""
        if from_number:
            context = replace(context, sender_number=from_number)
    email = facts.email if facts is not None else ""
    way = (
        delivery.plan(route, email=email, from_number=from_number, within_limit=True)
        if route is not None
        else delivery.instead_of_sms(FailureReason.NO_SMS_PHONE, email)
    )
    if not way.by_sms or way.phone is None:
        # The text fails with why it cannot go by SMS; its fallback goes by email or nowhere.
        messaging_services.message_sms_failed(
            message_id=message.pk, reason=way.why_not_sms, created_at=message.created_at
        )
        return SendOutcome("failed"), context
    messaging_services.message_sms_retarget(
        message=message, phone_id=way.phone.id, number=way.destination, from_number=way.from_number
    )
    result = gateway.send(
        to=way.destination, body=message.body, from_=way.from_number, token=str(message.token)
    )
    return _sms_outcome(message, way, result, gateway, defer_accepted), context


def _sms_outcome(
    message: Message,
    way: delivery.Plan,
    result: SendResult,
    gateway: Gateway,
    defer_accepted: bool = False,
) -> SendOutcome:
    """Record what the provider answered for the text `message` sent on `way` (an acceptance
    only returned with its SID when `defer_accepted`)."""
    if result.outcome == Outcome.ACCEPTED:
        if defer_accepted:
            return SendOutcome("sent", sid=result.sid)
        messaging_services.message_sms_accepted(message_id=message.pk, twilio_sid=result.sid)
        return SendOutcome("sent")
    if result.outcome == Outcome.REFUSED:
        assert way.phone is not None
        phone = PersonPhone.objects.filter(pk=way.phone.id).first()
        decision = policy.error_policy_apply(code=result.error_code, phone=phone)
        if not decision.retry:
            messaging_services.message_sms_failed(
                message_id=message.pk,
                reason=decision.failure_reason,
                error_code=result.error_code,
                created_at=message.created_at,
            )
            return SendOutcome("failed")
    if result.outcome in (Outcome.TRANSIENT, Outcome.REFUSED):
        if message.attempts >= MAX_ATTEMPTS:
            messaging_services.message_sms_failed(
                message_id=message.pk,
                reason=FailureReason.RETRIES_EXHAUSTED,
                error_code=result.error_code,
                created_at=message.created_at,
            )
            return SendOutcome("failed")
        messaging_services.message_sms_requeue(message_id=message.pk)
        return SendOutcome("retry", retry_in=backoff_seconds(message.attempts))
    # Ambiguous: the request may have reached the provider. Look it up; never send it again
    # blindly.
    messaging_services.message_sms_flag_review(message_id=message.pk, detail=result.detail)
    return SendOutcome(sms_reconcile(message_id=message.pk, final=False, gateway=gateway))


def sms_reconcile(*, message_id: int, final: bool, gateway: Gateway) -> str:
    """Settle a text stuck in `sending` by asking the provider whether it has it.

    Found (same number, sender and body, a SID we do not know yet) -> sent with that SID. Not
    found and `final` (the sweep, long after any request could still be in flight) -> it was
    never accepted: failed with NEEDS_REVIEW and the email fallback. Twilio cannot be asked, or
    not `final` -> it stays in `sending` with NEEDS_REVIEW for the next sweep.
    """
    message = Message.objects.filter(pk=message_id, status=Status.SENDING).first()
    if message is None:
        return "skipped"
    remote = gateway.lookup(to=message.destination, from_=message.from_number)
    if remote is None:
        return "review"
    since = message.created_at - timedelta(minutes=1)
    candidates = [
        r
        for r in remote
        if r.body == message.body and (r.date_created is None or r.date_created >= since)
    ]
    known = set(
        Message.objects.filter(twilio_sid__in=[r.sid for r in candidates]).values_list(
            "twilio_sid", flat=True
        )
    )
    fresh = [r for r in candidates if r.sid not in known]
    if fresh:
        # The oldest unclaimed match is ours (Twilio lists newest first).
        messaging_services.message_sms_accepted(message_id=message.pk, twilio_sid=fresh[-1].sid)
        return "sent"
    if not final:
        return "review"
    messaging_services.message_sms_failed(
        message_id=message.pk, reason=FailureReason.NEEDS_REVIEW, created_at=message.created_at
    )
    return "failed"


def _seconds_ago(seconds: int) -> datetime:
    return timezone.now() - timedelta(seconds=seconds)


def messages_sweep(*, gateway: Gateway, limit: int = 500) -> dict[str, int]:
    """The beat job (every `SWEEP_EVERY_SECONDS`), oldest first, at most `limit` of each kind:

    - publish again messages still `queued` with no attempt `SWEEP_QUEUED_AFTER_SECONDS` after
      they were recorded (a lost task, or one never published while the broker was down), and
      those back in `queued` after a failed attempt for `SMS_STUCK_AFTER_SECONDS` (their own
      backoff task had that long); texts in batches, as a cohort's are, emails one a task; a
      text waiting for its sender number's pace (`leaves_at`) is left to the pacer;
    - enqueue the scheduled retries of texts (`not_before`) whose time has come, never earlier;
    - reconcile texts left in `sending` (a worker killed mid-send, a lost answer) and send
      again, once, emails left in `sending` (their outcome is unknown; a duplicate email beats
      a lost one), both after `SMS_STUCK_AFTER_SECONDS`.

    Publishing twice is harmless: only the task that claims a message (`queued` -> `sending`)
    sends it."""
    stuck_cutoff = _seconds_ago(settings.SMS_STUCK_AFTER_SECONDS)
    fresh_cutoff = _seconds_ago(settings.SWEEP_QUEUED_AFTER_SECONDS)
    outbound = Message.objects.filter(direction=Direction.OUTBOUND)
    counts = {"requeued": 0, "reconciled": 0}

    # Scheduled retries whose time has come (T3 "retry later"; their own backoff, not a countdown).
    due = outbound.filter(status=Status.QUEUED, not_before__lte=timezone.now())
    for pk in due.order_by("pk").values_list("pk", flat=True)[:limit]:
        if messaging_services.message_sms_retry_due(message_id=pk):
            enqueue.sms(pk, after_commit=False)
            counts["requeued"] += 1
    # A text waiting for its number's pace (K7, `leaves_at`) is the pacer's, not stuck.
    waiting = outbound.filter(
        status=Status.QUEUED, not_before__isnull=True, leaves_at__isnull=True
    ).filter(
        Q(attempts=0, updated_at__lt=fresh_cutoff) | Q(attempts__gt=0, updated_at__lt=stuck_cutoff)
    )
    texts = waiting.filter(channel=Channel.SMS).order_by("pk").values_list("pk", flat=True)
    ids = list(texts[:limit])
    if ids:
        enqueue.sms_batches(ids, after_commit=False)
    # Emails one to a task, as `deliver_email` counts each attempt (a batch whose mail server
    # cannot be reached claims none and would be retried without end).
    emails = waiting.filter(channel=Channel.EMAIL).order_by("pk").values_list("pk", flat=True)
    for pk in emails[:limit]:
        enqueue.email(pk, after_commit=False)
        ids.append(pk)
    counts["requeued"] += len(ids)
    stuck = outbound.filter(status=Status.SENDING, updated_at__lt=stuck_cutoff)
    for pk in stuck.filter(channel=Channel.SMS).order_by("pk").values_list("pk", flat=True)[:limit]:
        sms_reconcile(message_id=pk, final=True, gateway=gateway)
        counts["reconciled"] += 1
    unknown = stuck.filter(channel=Channel.EMAIL).order_by("pk").values_list("pk", flat=True)
    for pk in unknown[:limit]:
        if messaging_services.message_email_unstick(message_id=pk, cutoff=stuck_cutoff):
            enqueue.email(pk, after_commit=False)
            counts["requeued"] += 1
        else:
            counts["reconciled"] += 1
    return counts

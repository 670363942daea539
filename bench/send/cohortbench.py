"""Shared start-up of the cohort benchmarks (cohort_request.py, preview.py, release.py): Django on
the benchmark's PostgreSQL database with Redis as the broker, the routing benchmark's generated
students, and an advisor who may text and holds a pool number."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

ROUTING = Path(__file__).resolve().parents[1] / "routing"


def free_port() -> int:
    """A TCP port of 127.0.0.1 free now (for the sandbox or a web server the bench starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(url, timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):
            # Still starting (gunicorn workers booting on a loaded machine).
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def run_parallel(count: int, clients: int, job: Any) -> float:
    """Run job(i) for i < count on `clients` threads; returns the wall time."""
    counter = iter(range(count))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            try:
                job(i)
            except BaseException as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - start


def cpu_of_processes(selected: Any) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the processes for which selected(pid, pgid)
    names a part (None: not counted), per part."""
    ticks: Counter[str] = Counter()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        part = selected(int(entry), int(fields[2]))
        if part is not None:
            ticks[part] += int(fields[11]) + int(fields[12])
    return {part: count / os.sysconf("SC_CLK_TCK") for part, count in ticks.items()}


def api_poster(base_url: str, token: str, students: list[int]) -> Any:
    """post(path, i): POSTs {"recipient": the i-th student (round the list), "body": "Text i"}
    to base_url + path with the token, through one requests session per client thread, and
    checks the 201."""
    local = threading.local()

    def post(path: str, i: int) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.headers["Authorization"] = f"Token {token}"
        response = session.post(
            f"{base_url}{path}",
            json={"recipient": students[i % len(students)], "body": f"Text {i}"},
            timeout=30,
        )
        assert response.status_code == 201, response.text

    return post


def django_start(redis_db: int) -> None:
    """Django on DATABASE_URL (created and migrated when missing), Redis database `redis_db` as
    broker and cache."""
    redis_url = f"redis://127.0.0.1:6379/{redis_db}"
    os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = redis_url
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("API_THROTTLE_RATE", "1000000/min")
    sys.path.insert(0, str(ROUTING))
    from benchdb import django_setup

    django_setup()


def students(count: int) -> Any:
    """The students of the database, generated (bench/routing/generate.py) when fewer than
    `count`."""
    import generate

    from people.models import Person

    found = Person.objects.filter(roles__code="student")
    if found.count() < count:
        print("generating:", generate.cohort_generate(count), flush=True)
    return found


def advisor(src_system_id: str, number: str, user: Any = None) -> Any:
    """An advisor who may text, holding pool number `number`; the configuration allows the
    benchmark's volumes, has no quiet hours (they would move when texts leave) and leaves
    pacing to each script."""
    from people.models import Person, Role, RoleKind
    from sms_admin import pool
    from sms_admin import services as sms_admin_services
    from sms_admin.models import SenderNumber

    role, _ = Role.objects.get_or_create(
        code="bench-advisor", defaults={"name": "Advisor", "kind": RoleKind.STAFF}
    )
    sms_admin_services.configuration_update(
        actor=None,
        permitted_roles=[role],
        sms_message_limit=10_000_000,
        sms_phone_number_limit=1000,
        quiet_hours_start=None,
        quiet_hours_end=None,
    )
    sender = getattr(user, "person", None) if user is not None else None
    if sender is None:
        sender, _ = Person.objects.get_or_create(
            src_system_id=src_system_id, defaults={"first_name": "Bench", "last_name": "Advisor"}
        )
        if user is not None:
            sender.user = user
            sender.save()
    sender.roles.add(role)
    SenderNumber.objects.get_or_create(number=number)
    if pool.sender_number_ensure(person=sender) is None:
        sys.exit("The bench sender could not get a pool number; free one in the admin.")
    return sender


def sandbox_world(count: int) -> tuple[Any, list[int]]:
    """The world of the benchmarks that send to the sandbox (run.py, batch_cpu.py), in a new
    database: a configuration texting cell phones with no monthly limit, quiet hours or pacing
    in the way; the advisor `bench-advisor` (staff, permitted to text); the pool number
    +12015550100; `count` students with a textable cell phone each (+1202555NNNN, in order).
    Returns the advisor's user and the students' ids."""
    from people.models import PhoneType, SmsStatus
    from sms_admin import services as sms_admin_services
    from sms_admin.models import SenderNumber
    from tests import factories

    cell = factories.PhoneTypeFactory(code="cell")
    sms_admin_services.configuration_update(
        actor=None,
        default_sms_phone_type=cell,
        permitted_roles=[factories.RoleFactory(code="advisor")],
        sms_message_limit=10_000_000,
        # They measure the send pipeline, not the sending pace or the time of day.
        sender_segments_per_second=0,
        quiet_hours_start=None,
        quiet_hours_end=None,
    )
    user = factories.UserFactory(username="bench-advisor")
    factories.staff(user=user)
    SenderNumber.objects.create(number="+12015550100")
    students = []
    for i in range(count):
        person = factories.student()
        factories.PhoneFactory(
            person=person,
            number=f"+1202555{i:04d}",
            phone_type=PhoneType.objects.get(code="cell"),
            sms_status=SmsStatus.ENABLED,
        )
        students.append(person.pk)
    return user, students


class QueryCounter:
    """Counts the queries run inside `with connection.execute_wrapper(counter)`."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def redis_flush(redis_db: int) -> None:
    subprocess.run(["redis-cli", "-n", str(redis_db), "flushdb"], capture_output=True)


def sdk_client() -> Any:
    """The reference's Twilio client: the SDK as it comes (its own HTTP client, whose requests
    session reads proxy settings from the environment for every request), pointed at the sandbox.
    The product's `gateway.client()` reads the environment once per client; the reference keeps
    the SDK's defaults, as before that change, so the ratios stay comparable with earlier runs."""
    from django.conf import settings
    from twilio.rest import Client

    from twilio_bridge.gateway import RewritingHttpClient

    http = RewritingHttpClient(settings.TWILIO_API_BASE_URL)
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http)

"""The inbox pages and the live "changed since" answer (V3-V5): who may open which inbox, what a
row says, opening a conversation marks it read for its owner only, the navigation's count, and a
poll that costs one query and answers 204 when nothing changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging import live
from messaging.models import Message, Status
from people.models import Person
from tests import factories
from tests.messaging.inbox_support import at, received, sent

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alex() -> Person:
    return factories.staff(
        first_name="Alex", last_name="Advisor", user=factories.UserFactory(username="alex")
    )


@pytest.fixture
def blair() -> Person:
    return factories.staff(
        first_name="Blair", last_name="Bursar", user=factories.UserFactory(username="blair")
    )


@pytest.fixture
def sam(alex: Person) -> Person:
    sam = factories.student(first_name="Sam", last_name="Rivera")
    sent(alex, sam, "Can we meet Tuesday?", when=at(300))
    received(sam, alex, "Yes, 10am works.", when=at(190))
    return sam


def test_the_inbox_lists_the_callers_conversations_with_waiting_time(
    alex: Person, sam: Person
) -> None:
    page = login(alex.user).get("/inbox/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Sam Rivera" in html
    assert "Yes, 10am works." in html
    assert "1 unread" in html
    assert "Needs reply" in html
    assert "waiting 3 h" in html
    assert f'href="/people/{sam.pk}/#conversation"' in html


def test_the_needs_reply_filter_leaves_out_answered_conversations(
    alex: Person, sam: Person
) -> None:
    tia = factories.student(first_name="Tia", last_name="Turner")
    received(tia, alex, "question", when=at(20))
    sent(alex, tia, "answer", when=at(10))

    html = login(alex.user).get("/inbox/?show=needs_reply").content.decode()

    assert "Sam Rivera" in html and "Tia Turner" not in html


def test_the_navigation_shows_the_unread_count(alex: Person, sam: Person) -> None:
    html = login(alex.user).get("/").content.decode()

    assert 'data-unread="own"><span data-count>1</span>' in html


def test_a_text_from_a_number_on_no_record_is_not_counted_unread_where_no_page_opens_it(
    alex: Person, sam: Person, admin_user: Any
) -> None:
    factories.staff(user=admin_user)
    received(None, alex, "Who is this?", from_number="+19995550000")
    received(None, None, "Hello?", from_number="+19995550001")

    own = login(alex.user).get("/").content.decode()
    shared = login(admin_user).get("/inbox/shared/").content.decode()

    # Sam's reply is the one unread text Alex can open; the shared inbox has none to open.
    assert 'data-unread="own"><span data-count>1</span>' in own
    assert 'data-unread="shared" hidden><span data-count>0</span>' in shared


def test_opening_the_person_page_marks_the_conversation_read_for_its_owner(
    alex: Person, blair: Person, sam: Person
) -> None:
    blairs = received(sam, blair, "for Blair", when=at(5))

    page = login(alex.user).get(f"/people/{sam.pk}/")

    assert page.status_code == 200
    assert 'data-unread="own" hidden>' in page.content.decode()
    assert not Message.objects.filter(attributed_to=alex, read_at__isnull=True).exists()
    assert Message.objects.get(pk=blairs.pk).read_at is None


def test_an_administrator_reads_another_inbox_without_marking_it_read(
    alex: Person, sam: Person, admin_user: Any
) -> None:
    client = login(admin_user)

    listing = client.get(f"/inbox/staff/{alex.pk}/")
    opened = client.get(f"/inbox/staff/{alex.pk}/{sam.pk}/")

    assert listing.status_code == opened.status_code == 200
    assert "Yes, 10am works." in opened.content.decode()
    assert "does not mark it read" in opened.content.decode()
    assert Message.objects.filter(attributed_to=alex, read_at__isnull=True).count() == 1


def test_an_administrator_opening_a_shared_conversation_marks_it_read(admin_user: Any) -> None:
    stranger = factories.student(first_name="Lena", last_name="Cho")
    text = received(stranger, None, "who is this?", when=at(10))
    client = login(admin_user)

    listing = client.get("/inbox/shared/").content.decode()
    opened = client.get(f"/inbox/shared/{stranger.pk}/")

    assert "Lena Cho" in listing and f'href="/inbox/shared/{stranger.pk}/"' in listing
    assert opened.status_code == 200
    assert Message.objects.get(pk=text.pk).read_at is not None


@pytest.mark.parametrize(
    "path", ["/inbox/shared/", "/inbox/staff/{alex}/", "/inbox/staff/{alex}/{sam}/"]
)
def test_staff_cannot_open_the_shared_inbox_or_another_staff_members(
    blair: Person, alex: Person, sam: Person, path: str
) -> None:
    page = login(blair.user).get(path.format(alex=alex.pk, sam=sam.pk))

    assert page.status_code == 403
    assert "Only administrators may open this page." in page.content.decode()


def test_a_student_cannot_open_an_inbox(student_person: Person) -> None:
    assert login(student_person.user).get("/inbox/").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in() -> None:
    page = Client().get("/inbox/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")


def test_an_unknown_staff_member_is_a_404(admin_user: Any) -> None:
    client = login(admin_user)
    assert client.get("/inbox/staff/999999/").status_code == 404
    assert client.get("/inbox/staff/?staff=999999").status_code == 404
    assert client.get("/inbox/staff/?staff=abc").status_code == 404


def test_an_administrator_without_a_person_is_told_so(admin_user: Any) -> None:
    html = login(admin_user).get("/inbox/").content.decode()
    assert "Your login is not linked to a person" in html


def test_pages_of_conversations(alex: Person) -> None:
    for i in range(30):
        received(factories.student(first_name=f"Pat{i:02}", last_name="X"), alex, when=at(100 - i))

    first = login(alex.user).get("/inbox/?show=unread").content.decode()
    second = login(alex.user).get("/inbox/?show=unread&page=2").content.decode()

    assert "Page 1 of 2" in first and 'href="?show=unread&amp;page=2"' in first
    assert "Pat04 X" in second and "Pat05 X" not in second


# The live "changed since" answer (V4) --------------------------------------------------------


def token_for(user: Any, **scope: Any) -> str:
    return live.token_issue(live.Scope(user_id=user.pk, **scope))


def poll(token: str, since: str = "") -> Any:
    return Client().get(f"/inbox/changes/?since={since}", HTTP_X_LIVE_TOKEN=token)


def test_nothing_changed_is_204_with_no_body_in_one_query(alex: Person, sam: Person) -> None:
    token = token_for(alex.user)
    first = poll(token)
    cursor = first.json()["cursor"]

    with CaptureQueriesContext(connection) as queries:
        again = poll(token, cursor)

    assert first.status_code == 200 and first.json()["unread"] == 1
    assert again.status_code == 204 and again.content == b""
    assert len(queries) == 1
    assert "django_session" not in queries[0]["sql"]


def test_a_new_reply_changes_the_cursor_and_the_count(alex: Person, sam: Person) -> None:
    token = token_for(alex.user)
    cursor = poll(token).json()["cursor"]

    received(sam, alex, "One more question")
    changed = poll(token, cursor)

    assert changed.status_code == 200
    assert changed.json()["unread"] == 2
    assert changed.json()["cursor"] != cursor


def test_a_status_change_of_the_callers_text_changes_the_cursor(alex: Person, sam: Person) -> None:
    text = sent(alex, sam, "See you then", status=Status.SENT)
    token = token_for(alex.user)
    cursor = poll(token).json()["cursor"]

    Message.objects.filter(pk=text.pk).update(
        status=Status.DELIVERED, updated_at=timezone.now() + timedelta(seconds=1)
    )

    assert poll(token, cursor).status_code == 200


def test_another_staff_members_reply_does_not_change_the_callers_cursor(
    alex: Person, blair: Person, sam: Person
) -> None:
    token = token_for(alex.user)
    cursor = poll(token).json()["cursor"]

    received(sam, blair, "for Blair")

    assert poll(token, cursor).status_code == 204


def test_administrators_watch_the_shared_inbox(admin_user: Any) -> None:
    token = token_for(admin_user, shared=True)
    cursor = poll(token).json()["cursor"]

    received(factories.student(), None, "hello?")
    changed = poll(token, cursor).json()

    assert changed["shared_unread"] == 1 and changed["unread"] == 0


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-token",
        signing.dumps([1, False, None], salt="another.salt"),
        signing.dumps(["x", False, None], salt=live.TOKEN_SALT),
        signing.dumps({"user": 1}, salt=live.TOKEN_SALT),
    ],
)
def test_a_missing_forged_or_foreign_token_is_refused(token: str) -> None:
    answer = poll(token)

    assert answer.status_code == 403
    assert answer.json() == {"detail": "This page's live updates have expired; reload the page."}


def test_an_expired_token_is_refused(alex: Person) -> None:
    token = token_for(alex.user)

    with time_machine.travel(timezone.now() + timedelta(seconds=live.TOKEN_MAX_AGE + 60)):
        assert poll(token).status_code == 403

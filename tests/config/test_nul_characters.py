"""NUL characters cannot be stored in PostgreSQL text: every entry point answers them clearly
(kept out of the text, a form error or a 400) instead of failing with a 500."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from messaging.models import Message
from people.models import Person
from tests import factories
from tests.twilio_bridge.webhook_client import INBOUND_PATH, new_sid, signed_post


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def inbound(**overrides: str) -> dict[str, str]:
    params = {
        "MessageSid": new_sid(),
        "From": "+12025550199",
        "To": "+12015550100",
        "Body": "hello",
    }
    params.update(overrides)
    return params


def test_an_inbound_text_with_a_nul_is_kept_without_it(config: Any) -> None:
    params = inbound(Body="see you\x00 at 10")

    response = signed_post(Client(), INBOUND_PATH, params)

    assert response.status_code == 200
    assert Message.objects.get(twilio_sid=params["MessageSid"]).body == "see you at 10"


def test_an_inbound_sender_with_a_nul_is_a_malformed_payload(config: Any) -> None:
    response = signed_post(Client(), INBOUND_PATH, inbound(From="+1202555\x000199"))

    assert response.status_code == 400
    assert not Message.objects.exists()


def test_searching_people_with_a_nul_answers_the_page(advisor: Any) -> None:
    factories.PersonFactory(first_name="Zora")

    response = login(advisor.user).get(reverse("home"), {"q": "Zo\x00ra"})

    assert response.status_code == 200
    assert [p.first_name for p in response.context["page"]] == ["Zora"]


def test_searching_the_usage_grid_with_a_nul_answers_the_page(admin_user: Any, config: Any) -> None:
    response = login(admin_user).get(reverse("sms-config-twilio"), {"q": "\x00"})

    assert response.status_code == 200


def test_a_prospect_file_with_a_nul_is_refused_at_its_field(admin_user: Any, config: Any) -> None:
    csv = (
        b"src_system_id,first_name,last_name,email,phone,phone_type\nP-1,Ana\x00,Lee,,2025550143,\n"
    )

    response = login(admin_user).post(
        reverse("prospect-upload"), {"file": SimpleUploadedFile("p.csv", csv)}
    )

    assert response.status_code == 200
    assert "NUL characters" in response.content.decode()
    assert not Person.objects.filter(src_system_id="P-1").exists()


def test_a_tampered_prospect_confirmation_with_a_nul_saves_nothing(
    admin_user: Any, config: Any
) -> None:
    text = (
        "src_system_id,first_name,last_name,email,phone,phone_type\nP-2,Ana\x00,Lee,,2025550143,\n"
    )

    response = login(admin_user).post(reverse("prospect-upload"), {"csv_text": text}, follow=True)

    assert response.status_code == 200
    assert "upload the file again" in response.content.decode()
    assert not Person.objects.filter(src_system_id="P-2").exists()

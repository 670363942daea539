"""The sending pace (`sender_segments_per_second`): 1 by default, read and changed through
`sms-configuration/` and the Twilio tab, whole numbers from 0 to 1000 only, each change in the
history."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from sms_admin import services
from sms_admin.models import ConfigurationChange, SmsConfiguration

URL = "/api/v1/sms-configuration/"


def test_a_new_installation_paces_each_number_at_one_segment_a_second(db: Any) -> None:
    assert services.configuration_get().sender_segments_per_second == 1


def test_the_pace_is_read_and_changed_through_the_api_with_its_history(
    admin_api: APIClient, admin_user: Any, config: Any
) -> None:
    assert admin_api.get(URL).json()["sender_segments_per_second"] == 0

    changed = admin_api.patch(URL, {"sender_segments_per_second": 3}, format="json")

    assert changed.status_code == 200, changed.json()
    assert changed.json()["sender_segments_per_second"] == 3
    assert SmsConfiguration.objects.get().sender_segments_per_second == 3
    change = ConfigurationChange.objects.filter(field="sender_segments_per_second").first()
    assert change is not None
    assert (change.old_value, change.new_value, change.changed_by) == ("0", "3", admin_user)


@pytest.mark.parametrize("value", [-1, 1001, 2**40, "fast", 1.5, None, ""])
def test_the_api_refuses_a_pace_outside_0_to_1000_naming_the_field(
    admin_api: APIClient, config: Any, value: Any
) -> None:
    refused = admin_api.patch(URL, {"sender_segments_per_second": value}, format="json")

    assert refused.status_code == 400
    assert "sender_segments_per_second" in refused.json()
    assert SmsConfiguration.objects.get().sender_segments_per_second == 0
    # Only the fixture's own change (1 -> 0) is in the history.
    assert ConfigurationChange.objects.filter(field="sender_segments_per_second").count() == 1


def test_the_service_refuses_a_pace_outside_0_to_1000(config: Any) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.configuration_update(actor=None, sender_segments_per_second=1001)
    assert "sender_segments_per_second" in refused.value.message_dict


def test_the_schema_documents_the_pace_and_its_bounds(admin_api: APIClient) -> None:
    schema = admin_api.get("/api/schema/", {"format": "json"}).json()

    field = schema["components"]["schemas"]["SmsConfiguration"]["properties"][
        "sender_segments_per_second"
    ]
    assert (field["minimum"], field["maximum"]) == (0, 1000)
    assert "0: no pacing" in field["description"]


def _tab(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_administrator_sets_the_pace_on_the_twilio_tab_explained_in_plain_words(
    admin_user: Any, config: Any
) -> None:
    page = _tab(admin_user).get(reverse("sms-config-twilio")).content.decode()
    assert "Segments a second per sender number" in page
    assert "gives up on texts still waiting after about 4 hours" in page
    assert "a cohort of 3,600 one-segment texts takes an hour" in page

    response = _tab(admin_user).post(
        reverse("sms-config-twilio"), {"save": "pacing", "sender_segments_per_second": "2"}
    )

    assert response.status_code == 302
    assert response["Location"].endswith("#pacing")
    assert SmsConfiguration.objects.get().sender_segments_per_second == 2
    assert ConfigurationChange.objects.filter(
        field="sender_segments_per_second", changed_by=admin_user, new_value="2"
    ).exists()


@pytest.mark.parametrize("value", ["1001", "-1", "", "one", "1.5"])
def test_the_twilio_tab_refuses_a_pace_outside_0_to_1000_next_to_the_field(
    admin_user: Any, config: Any, value: str
) -> None:
    response = _tab(admin_user).post(
        reverse("sms-config-twilio"), {"save": "pacing", "sender_segments_per_second": value}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a whole number of segments a second from 0 to 1000" in page
    assert 'id="id_sender_segments_per_second_error"' in page
    assert SmsConfiguration.objects.get().sender_segments_per_second == 0

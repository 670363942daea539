"""`manage.py seed_demo`: a demo institution to click through. Running it twice is harmless."""

from __future__ import annotations

import os
import random
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from people import services as people_services
from people.models import Person, PersonPhone, PhoneType, Role, SmsStatus
from sms_admin import services as sms_admin_services
from sms_admin.models import SenderNumber

FIRST = [
    "Ava",
    "Ben",
    "Chloe",
    "Diego",
    "Elif",
    "Farah",
    "Gus",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tess",
]
LAST = [
    "Okafor",
    "Lindqvist",
    "Haddad",
    "Moreau",
    "Tanaka",
    "Silva",
    "Novak",
    "Ibarra",
    "Kowalski",
    "Mensah",
    "Brennan",
    "Vasquez",
    "Cho",
    "Petrov",
    "Adeyemi",
]
PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-pass-2026")


class Command(BaseCommand):
    help = (
        "Create a demo institution: roles, phone types, 3 advisors, a faculty member, "
        "50 students, 5 numbers."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000/",
            help="where the demo will be served, for the closing message (`make run` passes "
            "http://$(DEMO_ADDR)/)",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        roles = {
            code: Role.objects.update_or_create(code=code, defaults={"name": name, "kind": kind})[0]
            for code, name, kind in [
                ("advisor", "Advisor", "staff"),
                ("faculty", "Faculty", "staff"),
                ("student", "Student", "student"),
            ]
        }
        types = {
            code: PhoneType.objects.update_or_create(code=code, defaults={"name": name})[0]
            for code, name in [("cell", "Cell"), ("home", "Home"), ("work", "Work")]
        }
        config = sms_admin_services.configuration_get()
        if config.default_sms_phone_type_id is None:
            sms_admin_services.configuration_update(
                actor=None,
                default_sms_phone_type=types["cell"],
                permitted_roles=[roles["advisor"]],
                sms_message_limit=1000,
                sms_phone_number_limit=5,
            )
        for i in range(5):
            SenderNumber.objects.get_or_create(number=f"+1201555{100 + i:04d}")

        User = get_user_model()
        admin, created = User.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            admin.set_password(PASSWORD)
            admin.save()
        self._person(
            "ADMIN-1", "Ada", "Administrator", "admin@example.edu", [roles["faculty"]], admin
        )

        # Three advisors (permitted to text) and one faculty member (staff who may not text).
        staff = [(f"advisor{i}", roles["advisor"]) for i in range(1, 4)]
        staff.append(("faculty1", roles["faculty"]))
        for i, (username, role) in enumerate(staff, start=1):
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(PASSWORD)
                user.save()
            person, created = self._person(
                f"STAFF-{i}",
                FIRST[i],
                f"{LAST[i]} ({role.name.lower()})",
                f"{username}@example.edu",
                [role],
                user,
            )
            if created:
                people_services.phone_create(
                    person=person, number=f"+1617555{2000 + i:04d}", phone_type=types["work"]
                )

        now = timezone.now()
        for i in range(1, 51):
            # One generator per student: the same student every run, whatever exists already.
            rng = random.Random(f"seed-demo-{i}")
            person, created = self._person(
                f"STU-{i:04d}",
                rng.choice(FIRST),
                rng.choice(LAST),
                # Some students have no email; student 39 has neither phone nor email (R5).
                "" if i % 17 == 0 or i == 39 else f"student{i}@example.edu",
                [roles["student"]],
                None,
            )
            if not created:
                continue
            # Every 13th student has no phone at all (email fallback), the others one to three.
            for j in range(0 if i % 13 == 0 else rng.randint(1, 3)):
                status = rng.choice(
                    [SmsStatus.DEFAULT] * 4 + [SmsStatus.ENABLED, SmsStatus.DISABLED]
                )
                verified = rng.random() < 0.5
                PersonPhone.objects.create(
                    person=person,
                    number=f"+1202555{i * 10 + j:04d}",
                    phone_type=rng.choice(
                        [types["cell"], types["cell"], types["home"], types["work"]]
                    ),
                    sms_status=status,
                    verified_at=now - timedelta(days=rng.randint(1, 400)) if verified else None,
                    verified_by=admin if verified else None,
                )

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready. Log in at {options['url']} as admin (administrator), "
                "advisor1 / advisor2 / advisor3 (advisors) or faculty1 (faculty, may not text); "
                f"password: {PASSWORD}"
            )
        )

    def _person(
        self, src: str, first: str, last: str, email: str, roles: list[Role], user: Any
    ) -> tuple[Person, bool]:
        """The person with source id `src`, created when missing; and whether it was created."""
        person = Person.objects.filter(src_system_id=src).first()
        if person is not None:
            return person, False
        person = people_services.person_create(
            first_name=first,
            last_name=last,
            email=email,
            src_system_id=src,
            roles=roles,
            user=user,
        )
        return person, True

"""factory_boy factories for the project's models."""

from __future__ import annotations

import itertools

import factory
from django.contrib.auth import get_user_model

from people.models import Person, PersonPhone, PhoneType, Role, RoleKind
from sms_admin.models import SenderNumber

_numbers = itertools.count(1000)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-1")


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role
        django_get_or_create = ("code",)

    code = "advisor"
    name = factory.LazyAttribute(lambda o: o.code.title())
    kind = RoleKind.STAFF


class PhoneTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneType
        django_get_or_create = ("code",)

    code = "cell"
    name = factory.LazyAttribute(lambda o: o.code.title())


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person
        skip_postgeneration_save = True

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"person{n}@example.edu")
    src_system_id = factory.Sequence(lambda n: f"SIS-{n}")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[Role] | None, **kwargs: object) -> None:
        if create and extracted:
            self.roles.set(extracted)


def student(**kwargs: object) -> Person:
    return PersonFactory(roles=[RoleFactory(code="student", kind=RoleKind.STUDENT)], **kwargs)


def staff(role_code: str = "advisor", **kwargs: object) -> Person:
    return PersonFactory(roles=[RoleFactory(code=role_code, kind=RoleKind.STAFF)], **kwargs)


class PhoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PersonPhone

    person = factory.SubFactory(PersonFactory)
    number = factory.LazyFunction(lambda: f"+1202555{next(_numbers) % 10000:04d}")
    phone_type = factory.SubFactory(PhoneTypeFactory)


class SenderNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SenderNumber
        django_get_or_create = ("number",)

    number = factory.LazyFunction(lambda: f"+1201555{next(_numbers) % 10000:04d}")

"""Token authentication for the REST API.

Its own module: DRF imports authentication classes while `rest_framework.views` loads, so this
must not import any view (config.api does).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Model, QuerySet
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from messaging.compiled import CompiledRead
from people.models import Person

User = get_user_model()


def _columns(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


_TOKEN, _USER, _PERSON = _columns(Token), _columns(User), _columns(Person)


def _token_with_user_and_person(key: Any) -> QuerySet[Any]:
    queryset: QuerySet[Any] = Token.objects.filter(key=key).values(
        *_TOKEN,
        *(f"user__{name}" for name in _USER),
        *(f"user__person__{name}" for name in _PERSON),
    )
    return queryset


# Every API request reads its token: compiled once, the read costs its round trip and a few
# objects instead of the ORM's compilation of a two-join select_related (messaging.compiled).
_token_read = CompiledRead(_token_with_user_and_person, arity=1)


def token_with_user(key: str) -> Token | None:
    """The token `key` with its user and the user's linked person (None when the user has
    none) already attached, as `select_related("user", "user__person")` gives them; one query.
    None when there is no such token."""
    rows = _token_read.rows(key)
    if not rows:
        return None
    row = rows[0]
    token = Token.from_db("default", _TOKEN, [row[name] for name in _TOKEN])
    user = User.from_db("default", _USER, [row[f"user__{name}"] for name in _USER])
    person = None
    if row["user__person__id"] is not None:
        person = Person.from_db(
            "default", _PERSON, [row[f"user__person__{name}"] for name in _PERSON]
        )
        Person.user.field.set_cached_value(person, user)
    Token.user.field.set_cached_value(token, user)
    User.person.related.set_cached_value(user, person)
    return token


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, reading the user's linked person in the same query: every
    API view asks for `request.user.person` (S1, staff checks), which would cost one more."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token = token_with_user(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return (token.user, token)

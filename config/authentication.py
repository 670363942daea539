"""Token authentication for the REST API.

Its own module: DRF imports authentication classes while `rest_framework.views` loads, so this
must not import any view (config.api does).
"""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, reading the user's linked person in the same query: every
    API view asks for `request.user.person` (S1, staff checks), which would cost one more."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        try:
            token = Token.objects.select_related("user", "user__person").get(key=key)
        except Token.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return (token.user, token)

"""The token's own permissions (auth/scopes)."""

from __future__ import annotations

from dingtalk.api._base import Resource
from dingtalk.api.models import AuthScopes


class Auth(Resource):
    """`client.auth`."""

    def scopes(self) -> AuthScopes:
        """The departments, users and user fields this token may read.

        Doc: obtain-the-permissions-of-the-address-book (auth/scopes).
        """
        return AuthScopes.from_body(self._get("auth/scopes"))

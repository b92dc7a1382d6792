"""OpenAPI: how an API key authenticates and the error responses every operation shares (the
seed routes' body errors in their own shape), for drf-spectacular (the auth extension registers
itself when ApiConfig.ready imports this)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from api.pagination import PAGE_PARAMETERS, is_paginated, serializer_component_name


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "dsk_<prefix>_<secret>",
                "description": "An API key: created in the admin or with "
                               "`manage.py create_api_key`, shown once."}


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="stable snake_case code, e.g. tenant_not_found")
    message = serializers.CharField()
    details = serializers.JSONField(help_text="field errors, or DingTalk's errcode and errmsg")


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


# Every /api/v1/ operation can answer these in the one error shape (config/exceptions.py).
ERROR_STATUSES = {
    "400": "invalid input (field errors in details) or DingTalk refused the request",
    "401": "no valid API key",
    "403": "DingTalk refused: a permission or scope the app lacks",
    "404": "no such tenant for this key, or DingTalk has no such object",
    "409": "the tenant is inactive, or the request conflicts with the current state",
    "429": "throttled (this key's rate, or DingTalk's): see Retry-After",
    "502": "DingTalk failed or could not be reached",
}
# And these, every operation that takes a body.
BODY_ERROR_STATUSES = {
    "413": "the body is too large (or an upload past DingTalk's size limit)",
    "415": "the body's Content-Type is not one the operation takes",
}


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error responses every operation shares, one
    description of the cursor parameters for every operation that answers a page (so each
    list states page_size's bounds), and component names that keep nested serializers apart."""

    def get_serializer_name(self, serializer, direction) -> str:
        cls = serializer if isinstance(serializer, type) else type(serializer)
        return serializer_component_name(cls)

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and self.method == "GET" and self._answers_a_page():
            names = {p["name"] for p in PAGE_PARAMETERS}
            kept = [p for p in operation.get("parameters", [])
                    if not (p.get("in") == "query" and p.get("name") in names)]
            operation["parameters"] = sorted([*kept, *PAGE_PARAMETERS],
                                             key=lambda p: (p["name"], p["in"]))
        return operation

    def _answers_a_page(self) -> bool:
        responses = self.get_response_serializers()
        if isinstance(responses, dict):
            responses = responses.get(200, responses.get("200"))
        return is_paginated(responses)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        if not self.path.startswith("/api/v1/"):
            return self._with_own_body_errors(responses)
        error = self._get_response_for_code(ErrorSerializer, "400", direction=direction)
        statuses = dict(ERROR_STATUSES)
        if self.method in ("POST", "PUT", "PATCH"):
            statuses.update(BODY_ERROR_STATUSES)
        for status_code, description in statuses.items():
            if status_code not in responses:
                responses[status_code] = {**error, "description": description}
        if self._takes_if_none_match():
            responses.setdefault("304", {"description": "not modified: the If-None-Match "
                                                        "ETag is still current (no body)"})
        return responses

    def _with_own_body_errors(self, responses: dict) -> dict:
        """Outside /api/v1/ (the seed's routes): the body errors (413, 415) in the view's own
        error shape, `schema_error_serializer` (the seed's {"msg"}), for each operation that
        takes a body; the parsers answer them before the view runs."""
        error_serializer = getattr(self.view, "schema_error_serializer", None)
        if error_serializer is None or self.method not in ("POST", "PUT", "PATCH") \
                or self.get_request_serializer() is None:
            return responses
        error = self._get_response_for_code(error_serializer, "400", direction="response")
        for status_code, description in BODY_ERROR_STATUSES.items():
            responses.setdefault(status_code, {**error, "description": description})
        return responses

    def _takes_if_none_match(self) -> bool:
        """A conditional read (the directory mirror's): it answers 304 to a current ETag."""
        return any(getattr(p, "name", None) == "If-None-Match"
                   for p in self.get_override_parameters())

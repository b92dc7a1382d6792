"""The seed routes' OpenAPI: every seed operation that takes a body documents the parsers' 415
(and 413) in the seed's own `{"msg"}` shape, as the routes answer them (checked live for every
seed route), not in /api/v1/'s `{"error"}` shape."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from api.services.keys import api_key_create
from tests.api.conftest import key_client
from tests.tenants.factories import SuiteFactory, TenantFactory

SEED = "/api/dingtalkserve/"


def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _seed_operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [(path, method, operation) for path, operations in schema["paths"].items()
            if path.startswith(SEED) for method, operation in operations.items()]


def _ref(response: dict) -> str:
    return response["content"]["application/json"]["schema"]["$ref"]


def test_seed_schema_lists_415_in_the_seeds_shape_for_each_operation_with_a_body():
    schema = _schema()
    operations = _seed_operations(schema)
    with_body = [(p, m, op) for p, m, op in operations if "requestBody" in op]
    assert len(with_body) >= 17  # the seed's eighteen routes, all but authScopes take fields
    for path, method, operation in with_body:
        responses = operation["responses"]
        for code in ("415", "413"):
            assert code in responses, (path, method, code)
            assert _ref(responses[code]) == "#/components/schemas/SeedMsg", (path, code)
    assert set(schema["components"]["schemas"]["SeedMsg"]["properties"]) == {"msg", "errcode"}
    # /api/v1/'s operations keep the shared {"error"} shape for theirs.
    webhook_create = schema["paths"]["/api/v1/webhooks/"]["post"]["responses"]["415"]
    assert _ref(webhook_create) == "#/components/schemas/Error"


def _seed_routes() -> list[str]:
    return sorted(p for p, _, _ in _seed_operations(_schema()))


@pytest.mark.django_db
@pytest.mark.parametrize("path", _seed_routes())
def test_seed_schema_an_unsupported_content_type_is_the_documented_415(path):
    suite = SuiteFactory()
    tenant = TenantFactory(suite=suite)
    client = key_client(api_key_create(name="k", suite=suite).plaintext)
    response = client.generic("POST", path, "userid=1", content_type="text/plain",
                              HTTP_X_CORP_ID=tenant.corp_id)
    assert response.status_code == 415, response.content
    assert set(response.json()) == {"msg"} and "text/plain" in response.json()["msg"]

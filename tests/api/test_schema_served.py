"""The OpenAPI schema and Swagger UI are served (without a key: they describe, they do not act)."""

import pytest

pytestmark = pytest.mark.django_db


def test_schema_served_openapi_3_with_the_key_scheme(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    assert "/api/v1/tenants/{corp_id}/" in schema["paths"]


def test_schema_served_swagger_ui_without_a_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page and "cdn.jsdelivr" not in page

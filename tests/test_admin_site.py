"""The admin's "View site" link leads somewhere real (the API docs), not to a 404 at /."""

import pytest

pytestmark = pytest.mark.django_db


def test_admin_site_view_site_link_is_the_api_docs(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert 'href="/api/docs/"' in page
    assert admin_client.get("/api/docs/").status_code == 200

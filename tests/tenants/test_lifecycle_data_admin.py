"""The data lifecycle in the admin: the tenant page's state, the export and delete actions (the
latter behind a confirmation page), the read-only audit rows, the suite's policy."""

from __future__ import annotations

import pytest
from django.contrib.messages import constants
from django.urls import reverse

from tenants.models import Suite, Tenant, TenantDeletion
from tenants.services.tenants import tenant_relieve
from tests.tenants.factories import SuiteFactory, TenantFactory
from tests.tenants.lifecycle_support import populate, tenant_rows

pytestmark = pytest.mark.django_db

SECRET = "pc-SECRET-in-admin"


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path):
    settings.TENANTS_EXPORT_DIR = str(tmp_path)
    return tmp_path


def _relieved():
    tenant = TenantFactory()
    populate(tenant, secret=SECRET)
    return tenant_relieve(suite=tenant.suite, corp_id=tenant.corp_id)


def _post_action(admin_client, action, tenants, **extra):
    return admin_client.post(reverse("admin:tenants_tenant_changelist"), {
        "action": action, "_selected_action": [t.pk for t in tenants], **extra}, follow=True)


def _messages(response):
    return [(m.level, m.message) for m in response.context["messages"]]


def test_lifecycle_admin_tenant_page_shows_what_happens_next(admin_client):
    tenant = _relieved()
    html = admin_client.get(reverse("admin:tenants_tenant_change", args=[tenant.pk])).content
    text = html.decode()
    assert "Scheduled: the daily sweep exports and deletes it" in text
    assert f"{tenant.data_delete_after:%Y-%m-%d}" in text
    assert SECRET not in text


def test_lifecycle_admin_export_action_writes_a_file(admin_client, _export_dir):
    tenant = _relieved()
    response = _post_action(admin_client, "export_data", [tenant])
    assert (constants.SUCCESS, "Export data: 1 done.") in _messages(response)
    [written] = list(_export_dir.iterdir())
    assert tenant.corp_id in written.name and SECRET not in written.read_text()
    assert Tenant.objects.get(pk=tenant.pk).data_export_path == str(written)


def test_lifecycle_admin_delete_asks_first_then_deletes_and_refuses_authorized(admin_client):
    tenant, authorized = _relieved(), TenantFactory()
    before = tenant_rows(tenant)
    page = _post_action(admin_client, "delete_data", [tenant, authorized])
    text = page.content.decode()
    assert "Yes, delete their data" in text and "refused: Authorized" in text
    assert tenant_rows(tenant) == before  # nothing happens before the confirmation

    response = _post_action(admin_client, "delete_data", [tenant, authorized], confirmed="yes")
    messages = _messages(response)
    assert (constants.SUCCESS, "Delete data: 1 done.") in messages
    assert any(level == constants.ERROR and "tenant_not_relieved" in text
               for level, text in messages)
    assert tenant_rows(tenant) == {}
    deletion = TenantDeletion.objects.get(corp_id=tenant.corp_id)
    assert (deletion.reason, deletion.operator) == (TenantDeletion.Reason.CUSTOMER_REQUEST,
                                                    "admin")

    audit = reverse("admin:tenants_tenantdeletion_changelist")
    assert deletion.corp_id in admin_client.get(audit).content.decode()
    change = reverse("admin:tenants_tenantdeletion_change", args=[deletion.pk])
    page = admin_client.get(change).content.decode()
    assert "messaging.Notification" in page and 'name="_save"' not in page
    assert admin_client.post(reverse("admin:tenants_tenantdeletion_delete",
                                     args=[deletion.pk]), {"post": "yes"}).status_code == 403


def test_lifecycle_admin_suite_policy_is_set_and_checked(admin_client):
    suite = SuiteFactory()
    change = reverse("admin:tenants_suite_change", args=[suite.pk])
    form = admin_client.get(change).context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update(template_ids="{}", data_policy="keep_until_requested", data_grace_days="9")
    data.pop("suite_key", None)
    assert admin_client.post(change, data).status_code == 302
    suite.refresh_from_db()
    assert (suite.data_policy, suite.data_grace_days) == (
        Suite.DataPolicy.KEEP_UNTIL_REQUESTED, 9)
    data.update(data_grace_days="99999")
    response = admin_client.post(change, data)
    assert response.status_code == 200
    assert "data_grace_days" in response.context["adminform"].form.errors

"""Helpers for the data-lifecycle tests: every row dingsuite holds for a tenant, counted per
table, and a tenant's worth of rows in every app made straight in the database."""

from __future__ import annotations

from datetime import timedelta

from django.apps import apps
from django.db.models import Q

from core import clock
from tenants.models import AccessToken, CallbackEvent, MonthlyCallCount, Tenant, TenantDeletion


def tenant_fk_models() -> list[tuple[type, str]]:
    """(model, field) of every table in the project with a foreign key to Tenant, the
    many-to-many link tables included; the audit table is what must remain."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or model is TenantDeletion:
            continue
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Tenant:
                found.append((model, field.name))
    return found


def tenant_rows(tenant: Tenant) -> dict[str, int]:
    """Rows per table that belong to the tenant (its suite's callback events for its corp too);
    zero counts left out."""
    counts: dict[str, int] = {}
    for model, name in tenant_fk_models():
        where = Q(**{name: tenant})
        if model is CallbackEvent and tenant.suite_id:
            where |= Q(suite_id=tenant.suite_id, corp_id=tenant.corp_id)
        n = model._default_manager.filter(where).count()
        if n:
            label = model._meta.label
            counts[label] = counts.get(label, 0) + n
    # Tied by corp id, not by a key: the admin-console SSO logins of the corp's admins.
    from identity.models import AdminSsoAssertion

    n = AdminSsoAssertion.objects.filter(Q(redeemed_by__isnull=True)
                                         | Q(redeemed_by_id=tenant.suite_id),
                                         corp_id=tenant.corp_id).count()
    if n:
        counts["identity.AdminSsoAssertion"] = n
    return counts


def populate(tenant: Tenant, *, secret: str = "pc-SECRET-permanent-code") -> dict[str, int]:
    """Rows of the tenant in tenants, messaging, identity and api, made directly; a permanent
    code inside a callback payload and a live token among them. -> tenant_rows()."""
    from api.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
    from api.services.keys import api_key_create
    from identity.models import AdminSsoAssertion, AdminSsoCredential, TenantUser
    from messaging.models import LedgerEntry, Notification, NotificationBatch, Recipient

    now = clock.now()
    CallbackEvent.objects.create(
        suite=tenant.suite, corp_id=tenant.corp_id, kind="org_suite_auth",
        dedupe_key=f"auth-{tenant.corp_id}", status=CallbackEvent.Status.DONE,
        payload={"CorpId": tenant.corp_id, "permanent_code": secret, "AuthCode": secret})
    AccessToken.objects.create(key=f"suite:{tenant.suite.suite_key}:corp:{tenant.corp_id}",
                               kind=AccessToken.Kind.CORP, suite=tenant.suite, tenant=tenant,
                               value=f"token-{secret}", expires_at=now + timedelta(hours=2))
    MonthlyCallCount.objects.create(tenant=tenant, month=now.date().replace(day=1), calls=7)
    notification = Notification.objects.create(
        tenant=tenant, request_digest="r" * 64, userids=["u1", "u2"], msg={
            "msgtype": "text", "text": {"content": "quarterly numbers"}},
        content_digest="c" * 64, status=Notification.Status.COMPLETED)
    batch = NotificationBatch.objects.create(notification=notification, tenant=tenant, seq=0,
                                             userids=["u1", "u2"], content_digest="c" * 64,
                                             status=NotificationBatch.Status.DONE)
    for userid in ("u1", "u2"):
        Recipient.objects.create(notification=notification, batch=batch, tenant=tenant,
                                 userid=userid, outcome=Recipient.Outcome.READ)
        LedgerEntry.objects.create(tenant=tenant, day=now.date(), userid=userid,
                                   content_digest="c" * 64)
    TenantUser.objects.create(tenant=tenant, userid="u1", unionid=f"union-{tenant.corp_id}",
                              name="Zhang San", first_seen_at=now, last_seen_at=now)
    credential, _ = AdminSsoCredential.objects.get_or_create(
        corp_id="dingisvowncorp", defaults={"sso_secret": "sso-secret-not-exported",
                                            "landing_url": "https://isv.example/admin"})
    AdminSsoAssertion.objects.create(
        credential=credential, digest=f"{tenant.pk:064d}", userid="boss",
        name="Li Si", email="li.si@customer.example", corp_id=tenant.corp_id,
        issued_at=now, expires_at=now + timedelta(minutes=2), redeemed_by=tenant.suite)
    endpoint = WebhookEndpoint.objects.filter(suite=tenant.suite).first() or \
        WebhookEndpoint.objects.create(suite=tenant.suite, url="https://isv.example/hook",
                                       secret="whsec-not-exported")
    event = WebhookEvent.objects.create(event_type="tenant.authorized", tenant=tenant,
                                        payload={"corp_id": tenant.corp_id}, created_at=now)
    WebhookDelivery.objects.create(event=event, endpoint=endpoint, created_at=now,
                                   status=WebhookDelivery.Status.SUCCESS)
    api_key_create(name=f"only {tenant.corp_id}", suite=tenant.suite, tenants=[tenant])
    return tenant_rows(tenant)

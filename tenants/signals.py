"""Lifecycle signals of a tenant: the tenants app's public hook for the apps above it.

Each is sent after the change is committed, with `sender=Tenant, tenant=<Tenant>`, and never
by a rolled-back change. Receivers run in the sending process (usually a Celery worker) and must
be quick and idempotent: enqueue work, never call DingTalk inline. Nothing inside `tenants`
listens to them; other apps connect in their AppConfig.ready().

- tenant_authorized: a corp authorized the suite (or authorized it again after a relieve).
- tenant_changed: its auth info or scopes changed (biz_type 4 change, scope update, corp names).
- tenant_relieved: it de-authorized the suite; its tokens are gone (stop its pending sends).
- tenant_app_stopped / tenant_app_restored: the corp's admin stopped or restored the app.
- tenant_suspended / tenant_resumed: an operator's hold was put on or lifted.
"""

from django.dispatch import Signal

tenant_authorized = Signal()
tenant_changed = Signal()
tenant_relieved = Signal()
tenant_app_stopped = Signal()
tenant_app_restored = Signal()
tenant_suspended = Signal()
tenant_resumed = Signal()

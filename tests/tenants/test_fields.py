"""Encryption at rest: raw columns hold ciphertext; keys rotate without losing old rows."""

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import connection

from tenants.models import CallbackEvent, Suite, Tenant

from .factories import CallbackEventFactory, SuiteFactory, TenantFactory

pytestmark = pytest.mark.django_db


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_fields_suite_secrets_not_in_raw_columns():
    suite = SuiteFactory()
    for column in ("suite_secret", "callback_token", "encoding_aes_key"):
        raw = _raw("tenants_suite", column, suite.pk)
        assert getattr(suite, column) not in raw
        assert raw.startswith("gAAAAA")  # a Fernet token
    reloaded = Suite.objects.get(pk=suite.pk)
    assert reloaded.suite_secret == suite.suite_secret
    assert reloaded.encoding_aes_key == suite.encoding_aes_key


def test_fields_permanent_code_and_payload_not_in_raw_columns():
    tenant = TenantFactory(legacy=True)
    assert tenant.permanent_code
    assert tenant.permanent_code not in _raw("tenants_tenant", "permanent_code", tenant.pk)
    event = CallbackEventFactory(payload={"permanent_code": "pc-very-secret-123"})
    assert "pc-very-secret-123" not in _raw("tenants_callbackevent", "payload", event.pk)
    stored = CallbackEvent.objects.get(pk=event.pk).payload
    assert stored == {"permanent_code": "pc-very-secret-123"}


def test_fields_empty_permanent_code_stays_empty():
    tenant = TenantFactory()
    assert _raw("tenants_tenant", "permanent_code", tenant.pk) == ""
    assert Tenant.objects.get(pk=tenant.pk).permanent_code == ""


def _rotated_keys(settings):
    new_key = Fernet.generate_key().decode("ascii")
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    return new_key, old_keys


def test_fields_rotation_old_rows_decrypt_and_save_reencrypts(settings):
    suite = SuiteFactory()
    old_raw = _raw("tenants_suite", "suite_secret", suite.pk)
    new_key, old_keys = _rotated_keys(settings)
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *old_keys]

    reloaded = Suite.objects.get(pk=suite.pk)
    assert reloaded.suite_secret == suite.suite_secret
    reloaded.save()
    new_raw = _raw("tenants_suite", "suite_secret", suite.pk)
    assert new_raw != old_raw
    assert Fernet(new_key).decrypt(new_raw.encode()).decode() == suite.suite_secret
    with pytest.raises(InvalidToken):
        Fernet(new_key).decrypt(old_raw.encode())


def test_fields_missing_key_is_a_clear_error(settings):
    suite = SuiteFactory()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode("ascii")]
    with pytest.raises(Exception, match="FIELD_ENCRYPTION_KEYS") as info:
        Suite.objects.get(pk=suite.pk)
    assert suite.suite_secret not in str(info.value)


def test_fields_rotate_keys_command_reencrypts_every_secret(settings):
    tenant = TenantFactory(legacy=True)
    suite = tenant.suite
    event = CallbackEventFactory(suite=suite, payload={"AuthCode": "abc"})
    new_key, old_keys = _rotated_keys(settings)
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *old_keys]

    call_command("rotate_keys", verbosity=0)

    only_new = Fernet(new_key)
    for table, column, pk in [
        ("tenants_suite", "suite_secret", suite.pk),
        ("tenants_suite", "callback_token", suite.pk),
        ("tenants_suite", "encoding_aes_key", suite.pk),
        ("tenants_tenant", "permanent_code", tenant.pk),
        ("tenants_callbackevent", "payload", event.pk),
    ]:
        only_new.decrypt(_raw(table, column, pk).encode())  # raises if still under an old key
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert Suite.objects.get(pk=suite.pk).suite_secret == suite.suite_secret
    assert Tenant.objects.get(pk=tenant.pk).permanent_code == tenant.permanent_code

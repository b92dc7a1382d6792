"""`manage.py tenant_export <corp_id> [--suite KEY] [--out PATH]`: one JSON file of everything
dingsuite holds for the tenant (no token, secret or permanent code), mode 0600."""

from django.core.management.base import BaseCommand, CommandError

from tenants.errors import ServiceError
from tenants.selectors.lifecycle import tenant_for_corp
from tenants.services.lifecycle_export import export_path_for, tenant_export_write


class Command(BaseCommand):
    help = ("Export everything dingsuite holds for a tenant to one JSON file (default: a new "
            "file in TENANTS_EXPORT_DIR). A corp with tenants of several suites needs --suite.")

    def add_arguments(self, parser):
        parser.add_argument("corp_id")
        parser.add_argument("--suite", dest="suite_key", default=None, help="the suite key")
        parser.add_argument("--out", default=None, help="the file to write (replaced)")

    def handle(self, *args, corp_id, suite_key, out, **options):
        try:
            tenant = tenant_for_corp(corp_id=corp_id, suite_key=suite_key)
            written = tenant_export_write(tenant=tenant,
                                          path=out or export_path_for(tenant=tenant))
        except ServiceError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        self.stdout.write(f"{written.path} ({written.size} bytes, sha256 {written.sha256})")

"""`manage.py tenant_delete_data <corp_id> --suite KEY [--yes]`: on the customer's request,
export then delete everything dingsuite holds for a relieved tenant (an audit row remains)."""

from django.core.management.base import BaseCommand, CommandError

from tenants.errors import ServiceError
from tenants.models import TenantDeletion
from tenants.selectors.lifecycle import tenant_for_corp
from tenants.services.lifecycle import tenant_data_delete


class Command(BaseCommand):
    help = ("Delete a relieved tenant's data now, on the customer's request: exported first "
            "(TENANTS_EXPORT_DIR) unless exported since the relieve. Refuses an authorized "
            "tenant. Asks for confirmation unless --yes.")

    def add_arguments(self, parser):
        parser.add_argument("corp_id")
        parser.add_argument("--suite", dest="suite_key", required=True, help="the suite key")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument("--operator", default="", help="who asked (kept in the audit row)")

    def handle(self, *args, corp_id, suite_key, yes, operator, **options):
        try:
            tenant = tenant_for_corp(corp_id=corp_id, suite_key=suite_key)
            if not yes and input(f"Delete every row of {tenant.corp_id} ({suite_key})? "
                                 "Type the corp id to confirm: ").strip() != tenant.corp_id:
                raise CommandError("not confirmed: nothing deleted")
            deletion = tenant_data_delete(tenant=tenant,
                                          reason=TenantDeletion.Reason.CUSTOMER_REQUEST,
                                          operator=operator or "manage.py")
        except ServiceError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        rows = ", ".join(f"{label} {n}" for label, n in sorted(deletion.counts.items()) if n)
        self.stdout.write(f"deleted {sum(deletion.counts.values())} rows ({rows or 'none'}); "
                          f"export {deletion.export_path} (sha256 {deletion.export_sha256})")

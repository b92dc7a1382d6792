"""What the data lifecycle refuses (tenants/services/lifecycle.py, the tenant_* commands).

Kept apart from tenants/errors.py, which had another owner when these were written; the codes
are as stable as theirs.
"""

from core.errors import ServiceError

__all__ = ["TenantAmbiguous", "TenantDataAlreadyDeleted", "TenantDataBusy",
           "TenantExportFailed", "TenantNotRelieved", "TenantReauthorized"]


class TenantNotRelieved(ServiceError):
    """Only a relieved tenant's data is deleted: an authorized (or stopped) tenant, or an
    internal app (the ISV's own corp, never relieved), is refused. Nothing was changed."""

    code = "tenant_not_relieved"
    http_status = 409


class TenantDataAlreadyDeleted(ServiceError):
    code = "tenant_data_already_deleted"
    http_status = 409


class TenantDataBusy(ServiceError):
    """A sweep or another operator is exporting and deleting this tenant right now."""

    code = "tenant_data_busy"
    http_status = 409


class TenantReauthorized(ServiceError):
    """The corp authorized the suite again while its data was being exported: nothing was
    deleted, and the tenant is live again (the export file stays)."""

    code = "tenant_reauthorized"
    http_status = 409


class TenantExportFailed(ServiceError):
    """The export file could not be written (the OS error's name in extra); nothing deleted."""

    code = "tenant_export_failed"
    http_status = 500


class TenantAmbiguous(ServiceError):
    """A corp id that names tenants of several suites (or an internal app): say which."""

    code = "tenant_ambiguous"
    http_status = 409

"""The directory app: above tenants, below messaging."""

from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "directory"
    verbose_name = "Directory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from directory import receivers
        from directory.services.incremental import contact_event_apply
        from tenants import signals
        from tenants.event_receivers import receive

        receive("contact_user", contact_event_apply)
        receive("contact_dept", contact_event_apply)
        signals.tenant_authorized.connect(receivers.on_tenant_authorized,
                                          dispatch_uid="directory.authorized")
        signals.tenant_changed.connect(receivers.on_tenant_changed,
                                       dispatch_uid="directory.changed")
        signals.tenant_app_restored.connect(receivers.on_tenant_active_again,
                                            dispatch_uid="directory.app_restored")
        signals.tenant_resumed.connect(receivers.on_tenant_active_again,
                                       dispatch_uid="directory.resumed")
        signals.tenant_relieved.connect(receivers.on_tenant_relieved,
                                        dispatch_uid="directory.relieved")

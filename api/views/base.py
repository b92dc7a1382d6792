"""What every /api/v1/ view shares: key authentication, per-key throttling, and the tenant
named by `<corp_id>` in the path, resolved through the key (404 for what the key cannot see)."""

from __future__ import annotations

from rest_framework.views import APIView

from api.auth import ApiKeyAuthentication, HasApiKey
from api.models import ApiKey
from api.selectors.tenants import api_tenant_get
from api.throttling import ApiKeyRateThrottle
from core import log_context
from tenants.models import Tenant


class KeyApi(APIView):
    """An endpoint for API keys only."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]
    throttle_classes = [ApiKeyRateThrottle]

    @property
    def api_key(self) -> ApiKey:
        return self.request.auth


class TenantApi(KeyApi):
    """An endpoint under /api/v1/tenants/<corp_id>/: `self.tenant` is resolved before the
    handler runs (after authentication, so an anonymous caller learns nothing)."""

    tenant: Tenant

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        # A method the view does not have is its 405 whatever the corp id: that says nothing
        # about which tenants exist.
        if hasattr(self, request.method.lower()):
            self.tenant = api_tenant_get(api_key=request.auth, corp_id=kwargs.get("corp_id"))
            log_context.set_tenant(self.tenant.corp_id)

"""dingsuite's admin site: Django's, with a home page that shows each suite's health first
(tenants/selectors/health.py), so an operator sees trouble without opening five lists."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class DingsuiteAdminSite(admin.AdminSite):
    site_header = "dingsuite"
    site_title = "dingsuite admin"
    index_title = "Operations"
    index_template = "admin/dingsuite_index.html"
    # The "View site" link: the API's documentation (there is no public site at /).
    site_url = "/api/docs/"

    def index(self, request, extra_context=None):
        from tenants.selectors.health import suites_health

        return super().index(request, {"suites_health": suites_health(),
                                       **(extra_context or {})})


class DingsuiteAdminConfig(AdminConfig):
    default_site = "config.admin_site.DingsuiteAdminSite"

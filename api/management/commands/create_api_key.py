"""manage.py create_api_key: a key for a suite (optionally some of its tenants) or an internal
app; prints the key once (it is stored hashed)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from api.errors import ApiKeyInvalid
from api.services.keys import api_key_create
from tenants.models import Suite, Tenant


class Command(BaseCommand):
    help = "Create an API key and print it (shown once)."

    def add_arguments(self, parser) -> None:
        owner = parser.add_mutually_exclusive_group(required=True)
        owner.add_argument("--suite", help="the suite's suite_key")
        owner.add_argument("--app", help="the internal app's appkey (or corp id, corpsecret)")
        parser.add_argument("--name", required=True)
        parser.add_argument("--tenant", action="append", default=[], metavar="CORP_ID",
                            help="limit the key to this tenant of the suite (repeatable)")
        parser.add_argument("--throttle-rate", default="", help='e.g. "600/min"')

    def handle(self, *args, **options) -> None:
        suite = app = None
        if options["suite"]:
            suite = Suite.objects.filter(suite_key=options["suite"]).first()
            if suite is None:
                raise CommandError(f"no suite with suite_key {options['suite']!r}")
        else:
            app = (Tenant.objects.filter(kind=Tenant.Kind.INTERNAL_APP, appkey=options["app"])
                   .first() or Tenant.objects.filter(kind=Tenant.Kind.INTERNAL_APP, appkey="",
                                                     corp_id=options["app"]).first())
            if app is None:
                raise CommandError(f"no internal app {options['app']!r}")
        tenants = []
        for corp_id in options["tenant"]:
            tenant = Tenant.objects.filter(suite=suite, corp_id=corp_id).first()
            if tenant is None:
                raise CommandError(f"the suite has no tenant {corp_id!r}")
            tenants.append(tenant)
        try:
            created = api_key_create(name=options["name"], suite=suite, app=app,
                                     tenants=tenants, throttle_rate=options["throttle_rate"])
        except ApiKeyInvalid as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(created.plaintext)

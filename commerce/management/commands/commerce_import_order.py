"""`manage.py commerce_import_order <suite_key> <order_id>`: read an order DingTalk never pushed
(or whose push was lost) by its id, verify it and record it as a push would."""

from django.core.management.base import BaseCommand, CommandError

from commerce.services.orders import market_order_import
from core.errors import ServiceError
from dingtalk.errors import DingTalkError
from tenants.models import Suite


class Command(BaseCommand):
    help = ("Import one market order by its id (GET /v1.0/appMarket/orders/{orderId}): for a "
            "push that never came. A settled order is shown as it is.")

    def add_arguments(self, parser):
        parser.add_argument("suite_key")
        parser.add_argument("order_id")

    def handle(self, *args, suite_key, order_id, **options):
        suite = Suite.objects.filter(suite_key=suite_key).first()
        if suite is None:
            raise CommandError(f"suite_not_found: no suite {suite_key!r}")
        try:
            order = market_order_import(suite=suite, order_id=order_id)
        except ServiceError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        except DingTalkError as exc:
            raise CommandError(f"DingTalk unreachable or busy, try again: {exc}") from exc
        tenant = order.tenant.corp_id if order.tenant_id else "no tenant yet"
        self.stdout.write(f"order {order.order_id} of {order.corp_id} ({tenant}): "
                          f"{order.status}")

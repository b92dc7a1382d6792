"""`manage.py register_app`: register or update an internal app; secrets from options or env."""

import os

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from tenants.models import Tenant
from tenants.selectors.apps import app_find
from tenants.services.apps import AppInvalid, app_register

# option dest -> environment variable
SECRET_SOURCES = {
    "appsecret": "DINGTALK_APPSECRET",
    "corpsecret": "DINGTALK_CORPSECRET",
    "callback_token": "DINGTALK_APP_CALLBACK_TOKEN",
    "encoding_aes_key": "DINGTALK_APP_ENCODING_AES_KEY",
}
_OTHER = {"appsecret": "corpsecret", "corpsecret": "appsecret"}


class Command(BaseCommand):
    help = ("Register a DingTalk internal app (or update it in place): --corp-id with --appkey "
            "and an appsecret, or (legacy) --corp-id and a corpsecret. Secrets may come from "
            "the environment (DINGTALK_APPSECRET, DINGTALK_CORPSECRET, "
            "DINGTALK_APP_CALLBACK_TOKEN, DINGTALK_APP_ENCODING_AES_KEY) so they stay out of "
            "the shell history. The callback token and AES key are optional.")

    def add_arguments(self, parser):
        parser.add_argument("--corp-id", required=True)
        parser.add_argument("--appkey", default="")
        parser.add_argument("--appsecret", dest="appsecret")
        parser.add_argument("--corpsecret", dest="corpsecret")
        parser.add_argument("--callback-token", dest="callback_token")
        parser.add_argument("--aes-key", dest="encoding_aes_key", help="EncodingAESKey (43 chars)")
        parser.add_argument("--agent-id", type=int)
        parser.add_argument("--name", dest="app_name", default="")
        parser.add_argument("--corp-name", default="")
        # No default: on an update, leaving it out keeps the stored choice.
        parser.add_argument("--callback-trailing-key", choices=Tenant.TrailingKey.values,
                            help="what DingTalk appends to callback plaintexts (PROTOCOL 8.1): "
                                 "corp_id (the default for a new app) or appkey")

    def handle(self, *args, **options):
        appkey, corp_id = options["appkey"], options["corp_id"]
        wanted = "appsecret" if appkey else "corpsecret"
        # The environment supplies only this kind of app's secret; an option of the other kind
        # is passed on, and refused by validation.
        secrets = {dest: options.get(dest) or (
                       os.environ.get(env_name, "") if dest != _OTHER[wanted] else "")
                   for dest, env_name in SECRET_SOURCES.items()}
        stored = app_find(app_key=appkey or corp_id)
        if stored is None and not secrets[wanted]:
            raise CommandError(f"{wanted}: pass --{wanted} or set {SECRET_SOURCES[wanted]}")
        try:
            tenant = app_register(
                corp_id=corp_id, appkey=appkey, agent_id=options["agent_id"],
                app_name=options["app_name"], corp_name=options["corp_name"],
                callback_trailing_key=options["callback_trailing_key"] or "", **secrets,
            )
        except AppInvalid as exc:
            details = "; ".join(f"{k}: {v}" for k, v in sorted(exc.extra["fields"].items()))
            raise CommandError(f"{exc.message} ({details})") from None
        path = reverse("tenants:app_callback", kwargs={"app_key": tenant.app_key_label})
        credential = "appkey + appsecret" if tenant.appkey else "legacy corpsecret"
        self.stdout.write(f"Internal app {tenant.app_key_label} of corp {tenant.corp_id} "
                          f"{'updated' if stored else 'registered'} ({credential}).")
        if tenant.callback_token and tenant.encoding_aes_key:
            self.stdout.write(f"Callback URL path to configure in DingTalk: {path}")
            self.stdout.write("Prefix it with this deployment's public https origin; the "
                              f"plaintext's trailing key is its {tenant.callback_trailing_key}.")
        else:
            self.stdout.write("No callback configured (pass --callback-token and --aes-key to "
                              "receive its pushes).")

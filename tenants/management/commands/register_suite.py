"""`manage.py register_suite`: register or update a suite; secrets from options or env."""

import os

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from tenants.models import Suite
from tenants.selectors.suites import suite_find
from tenants.services.suites import SuiteInvalid, suite_register

# option dest -> (environment variable, what to call it in messages)
SECRET_SOURCES = {
    "suite_secret": ("DINGTALK_SUITE_SECRET", "--suite-secret"),
    "callback_token": ("DINGTALK_CALLBACK_TOKEN", "--callback-token"),
    "encoding_aes_key": ("DINGTALK_ENCODING_AES_KEY", "--aes-key"),
}


def _template_ids(pairs: list[str] | None) -> dict | None:
    if not pairs:
        return None
    result = {}
    for pair in pairs:
        name, sep, template_id = pair.partition("=")
        if not sep or not name or not template_id:
            raise CommandError(f"--template-id wants NAME=ID, got {pair!r}")
        result[name] = template_id
    return result


class Command(BaseCommand):
    help = ("Register a DingTalk suite (or update it in place). Secrets may come from the "
            "environment (DINGTALK_SUITE_SECRET, DINGTALK_CALLBACK_TOKEN, "
            "DINGTALK_ENCODING_AES_KEY) so they stay out of the shell history.")

    def add_arguments(self, parser):
        parser.add_argument("--suite-key", required=True)
        parser.add_argument("--suite-secret", dest="suite_secret")
        parser.add_argument("--callback-token", dest="callback_token")
        parser.add_argument("--aes-key", dest="encoding_aes_key", help="EncodingAESKey (43 chars)")
        parser.add_argument("--suite-id", default="")
        parser.add_argument("--app-id", default="")
        parser.add_argument("--name", default="")
        # No defaults here: on an update, an option left out keeps the stored value (rotating
        # secrets must not flip an HTTP-push suite to SyncHTTP).
        parser.add_argument("--push-style", choices=Suite.PushStyle.values,
                            help="default for a new suite: sync_http")
        parser.add_argument("--message-api", choices=Suite.MessageApi.values,
                            help="default for a new suite: asyncsend_v2")
        parser.add_argument("--template-id", action="append", metavar="NAME=ID",
                            help="a sendbytemplate template id (repeatable)")

    def handle(self, *args, **options):
        secrets = {}
        for dest, (env_name, flag) in SECRET_SOURCES.items():
            value = options.get(dest) or os.environ.get(env_name, "")
            if not value:
                raise CommandError(f"{dest}: pass {flag} or set {env_name}")
            secrets[dest] = value
        suite_key = options["suite_key"]
        stored = suite_find(suite_key=suite_key)
        push_style = options["push_style"] or (
            stored.push_style if stored else Suite.PushStyle.SYNC_HTTP)
        message_api = options["message_api"] or (
            stored.message_api if stored else Suite.MessageApi.ASYNCSEND_V2)
        try:
            suite = suite_register(
                suite_key=suite_key, suite_id=options["suite_id"], app_id=options["app_id"],
                name=options["name"], push_style=push_style, message_api=message_api,
                template_ids=_template_ids(options["template_id"]), **secrets,
            )
        except SuiteInvalid as exc:
            details = "; ".join(f"{k}: {v}" for k, v in sorted(exc.extra["fields"].items()))
            raise CommandError(f"{exc.message} ({details})") from None
        path = reverse("tenants:suite_callback", kwargs={"suite_key": suite.suite_key})
        self.stdout.write(f"Suite {suite.suite_key} {'updated' if stored else 'registered'} "
                          f"(push style {suite.push_style}, message API {suite.message_api}).")
        self.stdout.write(f"Callback URL path to configure in DingTalk: {path}")
        self.stdout.write("Prefix it with this deployment's public https origin.")

"""`python -m devserver.seed`: dingsuite's side of the demo (the launcher runs it).

Reads {"suite", "app", "var_dir"} as JSON on stdin; registers the suite and the internal app
(both idempotent), and makes one API key for the suite and one for the app, kept in
<var_dir>/demo-api-keys.json (mode 0600) so every run prints the same working keys. Prints
{"api_key", "app_api_key"} as JSON. Local demo only: production keys are never stored in plain.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def _keys(var_dir: Path, suite, app) -> dict[str, str]:
    from api.services.keys import api_key_authenticate, api_key_create

    path = var_dir / "demo-api-keys.json"
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        kept = {}
    wanted = {"api_key": {"suite": suite}, "app_api_key": {"app": app}}
    for name, owner in wanted.items():
        key = api_key_authenticate(plaintext=kept.get(name, ""))
        if key is None:
            kept[name] = api_key_create(name=f"demo ({name})", **owner).plaintext
    path.write_text(json.dumps(kept))
    path.chmod(0o600)
    return kept


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from tenants.services.apps import app_register
    from tenants.services.suites import suite_register

    request = json.load(sys.stdin)
    spec, app_spec = request["suite"], request["app"]
    suite = suite_register(suite_key=spec["suite_key"], suite_secret=spec["suite_secret"],
                           callback_token=spec["token"], encoding_aes_key=spec["aes_key"],
                           suite_id=spec["suite_id"], app_id=spec["app_id"], name="Demo suite",
                           push_style="sync_http")
    app = app_register(corp_id=app_spec["corp_id"], appkey=app_spec["appkey"],
                       appsecret=app_spec["appsecret"], agent_id=app_spec["agent_id"],
                       app_name=app_spec["name"], corp_name="Demo Corp")
    print(json.dumps(_keys(Path(request["var_dir"]), suite, app)))


if __name__ == "__main__":
    main()

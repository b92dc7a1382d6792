"""The dingtalk package imports without Django (or any dingsuite Django app)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import importlib, json, pkgutil, sys
for blocked in ("django", "rest_framework", "celery", "config", "tenants", "messaging"):
    sys.modules[blocked] = None
import dingtalk

def fail(name):
    raise RuntimeError(f"could not import package {name}")

names = []
for info in pkgutil.walk_packages(dingtalk.__path__, "dingtalk.", onerror=fail):
    importlib.import_module(info.name)
    names.append(info.name)
dingtalk.DingTalkClient, dingtalk.SuiteApi
leaked = sorted(m for m in sys.modules
                if m.split(".")[0] in ("django", "rest_framework", "celery")
                and sys.modules[m] is not None)
print(json.dumps({"modules": names, "leaked": leaked}))
"""


def test_no_django_every_dingtalk_module_imports():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["leaked"] == []
    expected = {"dingtalk.errors", "dingtalk.signing", "dingtalk.crypto", "dingtalk.tokens",
                "dingtalk.credentials", "dingtalk.transport", "dingtalk.retry",
                "dingtalk.events", "dingtalk.events.parse", "dingtalk.events.types"}
    assert expected <= set(result["modules"])
    on_disk = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in (ROOT / "dingtalk").rglob("*.py")
        if p.name != "__init__.py"
    }
    assert on_disk <= set(result["modules"])

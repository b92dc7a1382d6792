"""The import-linter contracts in .importlinter: they hold on the code, and they bite when broken.

The contracts run through the `lint-imports` CLI in a subprocess (its report is the failure
message). The bite tests run the same contracts over a small stand-in tree of every layer, with
one forbidden import added.
"""

import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from importlinter.api import read_configuration

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".importlinter"
# Top-level packages outside the import graph: tests and benchmarks may import anything.
OUTSIDE_THE_GRAPH = {"tests", "bench"}


def _lint_imports(root: Path, config: Path = CONFIG) -> subprocess.CompletedProcess:
    # COLUMNS: the report wraps long contract names at the terminal width.
    env = dict(os.environ, PYTHONPATH=str(root), COLUMNS="250")
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()",
         str(config), "--no-cache", "--no-logo"],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )


def _top_level_packages(root: Path) -> set[str]:
    return {p.parent.name for p in root.glob("*/__init__.py")} - OUTSIDE_THE_GRAPH


def _layer_names() -> set[str]:
    contracts = read_configuration(str(CONFIG))["contracts_options"]
    layers = next(c["layers"] for c in contracts if c["type"] == "layers")
    return {name.strip("() ") for layer in layers for name in re.split(r"[|:]", layer)}


def test_architecture_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_architecture_graph_covers_every_package():
    # A package missing from root_packages is not in the graph, so no contract would see it.
    roots = set(read_configuration(str(CONFIG))["session_options"]["root_packages"])
    packages = _top_level_packages(ROOT)
    assert packages <= roots, f"add {sorted(packages - roots)} to root_packages in .importlinter"
    layered = _layer_names()
    assert roots <= layered, f"give {sorted(roots - layered)} a layer in .importlinter"


# Every layer, optional ones included, each importing only what the contracts allow.
STAND_IN = {
    "config/__init__.py": "import api\nimport dingtalk.emulator\n",
    "devserver/__init__.py": "import dingtalk.emulator.server\nimport tenants\n",
    "api/__init__.py": "import messaging\nimport identity\nimport commerce\n",
    "messaging/__init__.py": "import directory\n",
    "identity/__init__.py": "import tenants\n",
    "commerce/__init__.py": "import core\n",
    "directory/__init__.py": "import tenants\n",
    "tenants/__init__.py": "import django\nimport core.clock\n",
    "core/__init__.py": "",
    "core/clock.py": "import dingtalk.client\n",
    "dingtalk/__init__.py": "",
    "dingtalk/signing.py": "import hmac\n",
    "dingtalk/client.py": "import requests\nfrom dingtalk import tokens\n",
    "dingtalk/tokens.py": "",
    "dingtalk/isv.py": "",
    "dingtalk/connection.py": "",
    "dingtalk/credentials.py": "",
    "dingtalk/api/__init__.py": "",
    "dingtalk/emulator/__init__.py": "",
    "dingtalk/emulator/server.py": "from dingtalk import signing\n",
}

# (module, the import added to it, the contracts that must break: each named by how it begins)
VIOLATIONS = [
    ("dingtalk/signing.py", "import django\n", ("dingtalk is plain Python",)),
    ("dingtalk/signing.py", "import core\n", ("dingtalk is plain Python", "Layers")),
    ("core/clock.py", "import tenants\n", ("Layers",)),
    ("tenants/__init__.py", "import directory\n", ("Layers",)),
    ("config/__init__.py", "import devserver\n", ("Layers",)),
    ("messaging/__init__.py", "import identity\n", ("Layers",)),
    ("directory/__init__.py", "import api\n", ("Layers",)),
    ("tenants/__init__.py", "from dingtalk.emulator import server\n", ("tenants never imports",)),
    ("dingtalk/emulator/server.py", "from dingtalk import tokens\n", ("The emulator uses",)),
    ("dingtalk/emulator/server.py", "import dingtalk.api\n", ("The emulator uses",)),
]


def _stand_in(root: Path, extra: tuple[str, str] | None = None) -> Path:
    """Write the stand-in tree under root (plus one extra import) and its config; return that."""
    for name, source in STAND_IN.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(source)
    if extra:
        module, source = extra
        (root / module).write_text((root / module).read_text() + source)
    config = configparser.ConfigParser(interpolation=None)
    config.read(CONFIG)
    config["importlinter"]["root_packages"] = "\n" + "\n".join(sorted(_top_level_packages(root)))
    path = root / "importlinter.ini"
    with open(path, "w") as f:
        config.write(f)
    return path


def test_architecture_stand_in_tree_keeps_the_contracts(tmp_path):
    result = _lint_imports(tmp_path, _stand_in(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("module", "source", "contracts"), VIOLATIONS)
def test_architecture_contracts_break_on_a_forbidden_import(tmp_path, module, source, contracts):
    result = _lint_imports(tmp_path, _stand_in(tmp_path, (module, source)))
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [line for line in result.stdout.splitlines() if line.endswith(" BROKEN")]
    assert len(broken) == len(contracts), result.stdout
    assert all(any(line.startswith(c) for line in broken) for c in contracts), result.stdout


# Time --------------------------------------------------------------------------------------

# App code reads time from core.clock, which tests move; only the clock itself reads the host's.
_CLOCK_EXEMPT = {"core/clock.py"}
_HOST_TIME = ("timezone.now(", "time.time(", "datetime.now(", "datetime.utcnow(", "date.today(")


def _app_sources():
    for package in ("core", "tenants", "directory", "messaging", "identity", "commerce", "api"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in relative and relative not in _CLOCK_EXEMPT:
                yield relative, path.read_text()


def test_architecture_app_code_takes_time_from_core_clock():
    offenders = [f"{name}: {call}" for name, text in _app_sources() for call in _HOST_TIME
                 if call in text]
    assert offenders == [], "use core.clock.now() / core.clock.time() instead"

"""The emulator's imports: never dingsuite's client or token code, and no import cycles."""

import ast
from pathlib import Path

import dingtalk.emulator

ROOT = Path(dingtalk.emulator.__file__).parent
FORBIDDEN = ("dingtalk.client", "dingtalk.tokens", "dingtalk.isv", "dingtalk.connection",
             "dingtalk.api", "dingtalk.credentials")
# Names the dingtalk package re-exports from (or lazily loads) the forbidden modules.
FORBIDDEN_NAMES = {"DingTalkClient", "SuiteApi", "TokenManager", "TokenStore", "Token",
                   "InMemoryTokenStore", "AppCredentials", "CorpSecretCredentials",
                   "IsvCorpCredentials", "SuiteCredentials"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = ["dingtalk", "emulator", *path.relative_to(ROOT).with_suffix("").parts]
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module `name` imports at run time, at module level or in a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree, found, skip = ast.parse(path.read_text()), set(), set()
    for node in ast.walk(tree):  # not imports: `if TYPE_CHECKING:` blocks and logger names
        if (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                or isinstance(node, ast.Call) and ast.unparse(node.func).endswith("getLogger")):
            skip.update(id(inner) for inner in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
                if base == "dingtalk" and alias.name in FORBIDDEN_NAMES:
                    found.add(f"dingtalk.{alias.name}")
        elif isinstance(node, ast.Constant) and node.value in modules:
            found.add(node.value)  # importlib.import_module by name (app.HANDLER_MODULES)
    return found


def test_imports_emulator_never_imports_the_client_or_token_code():
    modules = _modules()
    bad = {(name, imported) for name, path in modules.items()
           for imported in _imports(name, path, modules)
           if imported.startswith(FORBIDDEN) or imported.removeprefix("dingtalk.")
           in FORBIDDEN_NAMES}
    assert not bad


def test_imports_emulator_modules_form_no_cycle():
    modules = _modules()
    graph = {name: _imports(name, path, modules) & set(modules) - {name}
             for name, path in modules.items()}
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            raise AssertionError(" -> ".join([*trail[trail.index(name):], name]))
        if name not in done:
            for imported in sorted(graph[name]):
                visit(imported, [*trail, name])
            done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_imports_loading_the_emulator_loads_no_client_code():
    """Not only no import statement: at run time too, `import dingtalk.emulator` (through the
    package's __init__) loads none of the client side."""
    import subprocess
    import sys

    code = ("import sys, dingtalk.emulator; "
            "print(sorted(m for m in sys.modules if m in {'dingtalk.client', 'dingtalk.isv', "
            "'dingtalk.tokens', 'dingtalk.credentials', 'dingtalk.connection', "
            "'dingtalk.transport', 'dingtalk.retry'} or m.startswith('dingtalk.api')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

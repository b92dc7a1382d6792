"""The README's "Using the library on its own" example, run as written against the emulator."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    """The first python block after the "Using the library on its own" heading."""
    section = README.read_text(encoding="utf-8").split("## Using the library on its own", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README has no python example under 'Using the library on its own'"
    return match.group(1)


def test_readme_example_runs_against_the_emulator(emulator):
    from devserver.demo import APP, MANAGER

    # The world `make run` builds (devserver/demo.py): its internal app and user manager01.
    corp = emulator.create_corp(users=3)
    emulator.contact_change(corp["corp_id"], "user_add_org", user=dict(MANAGER))
    emulator.create_app(corp["corp_id"], appkey=APP["appkey"], appsecret=APP["appsecret"],
                        agent_id=APP["agent_id"])
    # Everything runs as printed, on this test's emulator port.
    source = readme_example().replace("http://127.0.0.1:9000", emulator.base_url)
    assert APP["appkey"] in source and emulator.base_url in source
    scope: dict = {}
    exec(compile(source, "README.md", "exec"), scope)  # noqa: S102 (our own README text)
    scope["client"].close()
    assert scope["user"].userid == MANAGER["userid"]
    assert emulator.task(scope["task"].task_id)["recipients"] == 1

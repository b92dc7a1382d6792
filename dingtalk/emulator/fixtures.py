"""Fixture files: JSON describing corps, apps and suites to create at start (and on reset)."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .app import Emulator


def apply_fixture(emulator: "Emulator", fixture: dict) -> None:
    """{"config": {...}, "corps": [{"corp_id"?, "name"?, "users": 200, "apps": [{...}]}],
    "suites": [{"suite_key"?, ..., "authorize": [{"corp_id" | "corp_index", ...}]}]}"""
    state = emulator.state
    if fixture.get("config"):
        emulator.config.update(fixture["config"])
    created = []
    for spec in fixture.get("corps", []):
        corp = state.create_corp(users=int(spec.get("users", 0)), name=spec.get("name"),
                                 corp_id=spec.get("corp_id"), seed=spec.get("seed"))
        created.append(corp)
        for app in spec.get("apps", []):
            state.create_app(corp_id=corp.corp_id, **app)
    for spec in fixture.get("suites", []):
        spec = dict(spec)
        grants = spec.pop("authorize", [])
        suite = state.create_suite(**spec)
        for grant in grants:
            grant = dict(grant)
            index = grant.pop("corp_index", None)
            corp_id = grant.pop("corp_id", None) or created[int(index or 0)].corp_id
            grant.setdefault("activated", suite.push_style == "sync_http")
            state.authorize(suite_key=suite.suite_key, corp_id=corp_id, **grant)

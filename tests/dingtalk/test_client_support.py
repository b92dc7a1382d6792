"""Fixtures and helpers shared by the client, API and ISV tests (this module holds no tests)."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from dingtalk.client import DingTalkClient
from dingtalk.credentials import AppCredentials
from dingtalk.retry import RetryPolicy


@dataclass
class Sleeps:
    """A RetryPolicy sleep that records the delays instead of waiting."""

    delays: list = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class EmulatorClock:
    """The emulator's clock seen from the client: real time plus the emulator's offset."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.sync()

    def sync(self) -> None:
        self.offset = self.emulator.now_ms() / 1000.0 - time.time()

    def advance(self, seconds: float) -> None:
        self.emulator.advance(seconds)
        self.sync()

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class World:
    """One corp with an internal app, and a client for it that never really sleeps."""

    emulator: object
    corp: dict
    app: dict
    client: DingTalkClient
    sleeps: Sleeps

    @property
    def appkey(self) -> str:
        return self.app["appkey"]

    @property
    def agent_id(self) -> int:
        return self.app["agent_id"]

    def userids(self, n: int | None = None) -> list[str]:
        return self.corp["userids"][:n]

    def calls(self, endpoint: str) -> int:
        return self.emulator.counters()["calls"].get(endpoint, 0)

    def token_fetches(self) -> int:
        return self.emulator.counters()["token_fetches"]["gettoken"].get(self.appkey, 0)


def make_client(emulator, app: dict, *, sleeps: Sleeps | None = None, max_attempts: int = 3,
                **kwargs) -> DingTalkClient:
    retry = RetryPolicy(max_attempts=max_attempts, sleep=sleeps or Sleeps())
    kwargs.setdefault("timeout", (2.0, 5.0))
    return DingTalkClient(AppCredentials(app["appkey"], app["appsecret"]),
                          base_url=emulator.base_url, retry=retry, **kwargs)


@pytest.fixture(name="world")
def world_fixture(emulator):
    corp = emulator.create_corp(users=40)
    app = emulator.create_app(corp["corp_id"])
    sleeps = Sleeps()
    client = make_client(emulator, app, sleeps=sleeps)
    yield World(emulator, corp, app, client, sleeps)
    client.close()


def in_threads(n: int, call: Callable[[], object]) -> tuple[list, list[Exception]]:
    """Run `call` on n threads released together; -> (results, errors)."""
    barrier = threading.Barrier(n)
    results: list = []
    errors: list[Exception] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(call())
        except Exception as exc:  # returned to the test, which asserts on it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


def busiest_dept(emulator, corp_id: str) -> tuple[int, list[str]]:
    """The department with the most direct members, and those members."""
    members: dict[int, list[str]] = {}
    for user in emulator.get_corp(corp_id)["users"]:
        for dept in user["depts"]:
            members.setdefault(dept, []).append(user["userid"])
    dept_id = max(members, key=lambda d: len(members[d]))
    return dept_id, members[dept_id]

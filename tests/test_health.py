"""/healthz and /readyz: the process, and what it needs (database, broker, Redis)."""

import socket

import pytest

from config.celery import app as celery_app

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_health_healthz_answers(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_health_readyz_all_up(client, settings):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] == "ok"
    if settings.REDIS_URL:
        assert body["checks"]["redis"] == "ok"


def test_health_readyz_names_a_dead_redis(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["redis"] and body["checks"]["redis"].startswith("failed: ")
    assert str(settings.REDIS_URL) not in response.content.decode()


def test_health_readyz_names_a_dead_broker(client):
    # Celery reads Django's namespaced key before the plain one: set (and restore) both.
    keys = ("broker_url", "CELERY_BROKER_URL")
    old = {key: celery_app.conf.get(key) for key in keys}
    celery_app.conf.update({key: f"redis://127.0.0.1:{_closed_port()}/0" for key in keys})
    try:
        response = client.get("/readyz")
    finally:
        celery_app.conf.update(old)
    assert response.status_code == 503 and "broker" in response.json()["failed"]

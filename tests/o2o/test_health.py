import socket

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz_is_green_when_everything_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True, "redis": True, "broker": True}


def test_healthz_names_a_dead_redis_and_broker_with_503(client):
    dead = f"redis://127.0.0.1:{closed_port()}/0"
    with override_settings(REDIS_URL=dead, CELERY_BROKER_URL=dead):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["broker"]["ok"] is False
    assert "Connection" in body["checks"]["redis"]["error"]


def test_the_compose_healthcheck_is_answered_with_the_readmes_env_host(client):
    """docker-compose's web healthcheck asks 127.0.0.1 from inside the container; with the
    README's .env (a real host name in DJANGO_ALLOWED_HOSTS) and production's HTTPS
    redirect, that request once met DisallowedHost (400) and the stack never became
    healthy."""
    import re
    from pathlib import Path
    from urllib.parse import urlsplit

    import yaml

    root = Path(__file__).resolve().parents[2]
    readme_env = re.search(r"cat > \.env <<'ENV'\n(.*?)\nENV", (root / "README.md").read_text(),
                           re.S).group(1)
    hosts = re.search(r"^DJANGO_ALLOWED_HOSTS=(.+)$", readme_env, re.M).group(1).split(",")
    assert "127.0.0.1" not in hosts
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    probe = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    url = urlsplit(re.search(r"https?://[^'\"\s]+", probe).group())
    with override_settings(ALLOWED_HOSTS=hosts, SECURE_SSL_REDIRECT=True,
                           SECURE_REDIRECT_EXEMPT=[r"^healthz$"]):
        answer = client.get(url.path, HTTP_HOST=url.netloc)
        assert answer.status_code == 200, answer.content
        assert answer.json()["status"] == "ok"
        # Only the health check: any other page still refuses a host it does not serve.
        assert client.get("/", HTTP_HOST=url.netloc).status_code == 400
        assert client.get("/", HTTP_HOST=hosts[0], secure=True).status_code == 200

"""The production profile, the migrations and docker-compose.yml stay true."""

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "o2o.settings.production",
    "DJANGO_SECRET_KEY": "x" * 20 + "production-like-secret-key-for-check-deploy-0123456789",
    "DJANGO_ALLOWED_HOSTS": "shop.example.com",
    "SHOP_BASE_URL": "https://shop.example.com",
    "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/o2o"),
    "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    # A shop that can take money, send mail and texts, and link to itself.
    "STRIPE_SECRET_KEY": "sk_live_checkdeploy",
    "STRIPE_WEBHOOK_SECRET": "whsec_checkdeploy",
    "EMAIL_URL": "smtp+tls://shop:secret@smtp.example.com:587",
    "SMS_BACKEND": "yourshop.sms.AliyunBackend",
}


def clean_environ() -> dict[str, str]:
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE must not leak into a deploy check.
    return {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}


def manage(*args, env=None):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**clean_environ(), **(env or {})}, timeout=120)


def test_check_deploy_is_clean_under_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_reports_what_takes_no_money_or_sends_nothing():
    bare = {k: v for k, v in PRODUCTION_ENV.items()
            if k not in {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "EMAIL_URL",
                         "SMS_BACKEND"}} | {"SHOP_BASE_URL": "http://shop.example.com"}
    result = manage("check", "--deploy", env=bare)
    report = result.stdout + result.stderr
    assert result.returncode != 0, report  # errors stop it
    for check in ("o2o.E002", "o2o.W001", "o2o.W002", "o2o.W003"):
        assert check in report, (check, report)
    assert "No payment provider" in report
    gateway = manage("check", "--deploy", env={**PRODUCTION_ENV, "PAYMENT_TEST_GATEWAY": "1",
                                               "DEV_ENDPOINTS": "1"})
    report = gateway.stdout + gateway.stderr
    assert "o2o.E001" in report and "o2o.W004" in report
    no_webhook = manage("check", "--deploy", env={**PRODUCTION_ENV, "STRIPE_WEBHOOK_SECRET": ""})
    assert "o2o.E003" in no_webhook.stdout + no_webhook.stderr


def test_a_mail_providers_api_through_anymail_and_a_wrong_name_is_an_error():
    provider = {**{k: v for k, v in PRODUCTION_ENV.items() if k != "EMAIL_URL"},
                "EMAIL_PROVIDER": "mailgun",
                "ANYMAIL_MAILGUN_API_KEY": "key-checkdeploy",
                "ANYMAIL_MAILGUN_SENDER_DOMAIN": "mg.example.com"}
    shown = manage("shell", "-v", "0", "-c", "from django.conf import settings; "
                   "print(settings.EMAIL_BACKEND, sorted(settings.ANYMAIL.items()))",
                   env=provider)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split()[0] == "anymail.backends.mailgun.EmailBackend"
    assert "('MAILGUN_API_KEY', 'key-checkdeploy')" in shown.stdout
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=provider)
    assert result.returncode == 0, result.stdout + result.stderr
    wrong = manage("check", "--deploy", env={**provider, "EMAIL_PROVIDER": "mailgunn"})
    assert wrong.returncode != 0 and "o2o.E004" in wrong.stdout + wrong.stderr


def test_development_pages_are_not_served_in_production():
    probe = ("from django.urls import resolve, Resolver404\n"
             "for path in ('/bench/bare', '/api/docs/'):\n"
             "    try:\n        resolve(path); print('SERVED', path)\n"
             "    except Resolver404:\n        print('GONE', path)\n")
    result = manage("shell", "-c", probe, env=PRODUCTION_ENV)
    assert [line for line in result.stdout.splitlines() if line.startswith(("GONE", "SERVED"))] == [
        "GONE /bench/bare", "GONE /api/docs/"], (
        result.stdout + result.stderr)
    dev = manage("shell", "-c", probe, env={"DJANGO_SETTINGS_MODULE": "o2o.settings.dev"})
    assert "SERVED /bench/bare" in dev.stdout, dev.stdout + dev.stderr


@pytest.mark.parametrize("variable", ["DJANGO_SECRET_KEY", "SHOP_BASE_URL"])
def test_production_refuses_to_boot_without_its_secret_or_address(variable):
    env = {k: v for k, v in {**clean_environ(), **PRODUCTION_ENV}.items() if k != variable}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert variable in result.stderr


def test_models_and_migrations_agree():
    result = manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_five_services_and_their_commands_exist():
    services = compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    web = services["web"]["command"]
    assert web[0] == "gunicorn"
    module, _, attr = web[1].partition(":")
    assert hasattr(importlib.import_module(module), attr or "application")
    for name in ("worker", "beat"):
        command = services[name]["command"]
        assert command[:3] == ["celery", "-A", "o2o"]
        assert command[3] == name
        assert importlib.import_module(command[2]).celery_app.main == "o2o"
    migrate = services["migrate"]["command"]
    assert migrate[:2] == ["python", "manage.py"]
    assert (ROOT / "manage.py").exists()
    for executable in ("gunicorn", "celery"):
        assert shutil.which(executable, path=str(Path(sys.executable).parent)), executable


def test_compose_services_use_the_production_settings_and_the_shared_services():
    document = compose()
    shop = document["x-shop"]
    assert shop["environment"]["DJANGO_SETTINGS_MODULE"] == "o2o.settings.production"
    assert "@postgres:5432/" in shop["environment"]["DATABASE_URL"]
    assert shop["environment"]["REDIS_URL"].startswith("redis://redis:6379")
    assert importlib.util.find_spec("o2o.settings.production") is not None
    assert (ROOT / "Dockerfile").exists()

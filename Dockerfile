# The shop's image: one for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=o2o.settings.production

WORKDIR /app
RUN useradd --create-home --uid 1000 shop

COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir . && pip uninstall -y o2o-jewelry
COPY . .
RUN DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost SHOP_BASE_URL=https://build.invalid \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput \
 && mkdir -p /app/var/media && chown -R shop /app/var

USER shop
EXPOSE 8000
CMD ["gunicorn", "o2o.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]

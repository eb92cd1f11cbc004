# Concord API: gunicorn as a non-root user, configured entirely by environment.
# In production set DATABASE_URL (runtime role), CONCORD_OWNER_PASSWORD (migrations), CONCORD_ENV=production.
# The image carries no forces: the demo tenants/ stay out of it (.dockerignore). Mount your forces' files at
# /etc/concord/tenants (read-only), or build FROM this image and COPY them there; CONCORD_TENANTS_DIR moves it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CONCORD_ENV=production \
    CONCORD_BIND_HOST=0.0.0.0 \
    CONCORD_VAR_DIR=/var/lib/concord \
    CONCORD_TENANTS_DIR=/etc/concord/tenants \
    PORT=8000 \
    WEB_CONCURRENCY=2

WORKDIR /srv/concord
RUN groupadd --system concord && useradd --system --gid concord --home /srv/concord concord \
    && mkdir -p /var/lib/concord && chown concord:concord /var/lib/concord

COPY setup.cfg pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir -e . && chown -R concord:concord /srv/concord

USER concord
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz')"
# Migrations are a separate step: `docker run ... concord db upgrade && concord tenants apply`.
# gevent workers, their header timeout and the request-head limits (app/gunicorn_config.py reads CONCORD_BIND_HOST,
# PORT, WEB_CONCURRENCY); in production a load balancer or buffering proxy stands in front (docs/deployment.md).
CMD ["gunicorn", "--config", "app/gunicorn_config.py", "app.wsgi:app"]

# Concord API: gunicorn as a non-root user, configured entirely by environment (docs/deployment.md, "The image").
# In production set DATABASE_URL (runtime role), CONCORD_OWNER_PASSWORD (migrations), CONCORD_ENV=production.
# The image carries no forces: tenants/ stays out of it (.dockerignore). Mount the deployment's tenant files at
# /etc/concord/tenants (read-only), or build FROM this image and COPY them there; CONCORD_TENANTS_DIR moves it.
# The release step, before new tasks take traffic: `concord db upgrade && concord tenants apply` (the migrations
# travel in the wheel). Base pinned by exact version; add its digest (`@sha256:…`) where the registry is reachable.
ARG PYTHON_IMAGE=python:3.11.14-slim-trixie

# Builder: Concord as a wheel, built with the locked setuptools; nothing is compiled (every dependency has wheels).
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements/build.txt requirements/
RUN pip install --require-hashes -r requirements/build.txt
COPY setup.cfg pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
RUN pip wheel --no-deps --no-build-isolation --wheel-dir /wheels .

# Runtime: the locked dependencies (hashes required), then the wheel with no dependency of its own, in a venv that
# root owns; the concord user can read and run the code but write none of it.
FROM ${PYTHON_IMAGE}
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/concord/bin:$PATH \
    CONCORD_ENV=production \
    CONCORD_BIND_HOST=0.0.0.0 \
    CONCORD_VAR_DIR=/var/lib/concord \
    CONCORD_TENANTS_DIR=/etc/concord/tenants \
    PORT=8000 \
    WEB_CONCURRENCY=2

COPY requirements/app.txt /tmp/requirements.txt
COPY --from=builder /wheels /tmp/wheels
RUN python -m venv /opt/concord \
    && /opt/concord/bin/pip install --require-hashes -r /tmp/requirements.txt \
    && /opt/concord/bin/pip install --no-deps /tmp/wheels/*.whl \
    && /opt/concord/bin/python -m compileall -q /opt/concord/lib \
    && rm -rf /tmp/requirements.txt /tmp/wheels \
    && mkdir -p /etc/concord/tenants /var/lib/concord \
    && ln -s "$(/opt/concord/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/app/gunicorn_config.py" \
        /etc/concord/gunicorn_config.py \
    && groupadd --system --gid 10001 concord \
    && useradd --system --uid 10001 --gid concord --no-create-home --home-dir /var/lib/concord --shell /usr/sbin/nologin concord \
    && chown concord:concord /var/lib/concord

# By number, so a host or orchestrator can tell it is not root without the image's /etc/passwd.
USER 10001:10001
WORKDIR /var/lib/concord
EXPOSE 8000
# Liveness only (no database): the load balancer's target check is /readyz.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=2)"]
# gevent workers, their header timeout and the request-head limits (app/gunicorn_config.py reads CONCORD_BIND_HOST,
# PORT, WEB_CONCURRENCY); in production a load balancer stands in front (docs/deployment.md).
CMD ["gunicorn", "--config", "/etc/concord/gunicorn_config.py", "app.wsgi:app"]

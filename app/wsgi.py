"""The WSGI entry point gunicorn serves: refuses to start if the runtime role could bypass RLS."""
import gc
import logging
import time

from app import create_app
from app.db import check_runtime_role
from app.errors import is_database_outage

# A database that cannot be reached while a worker boots (the embedded server restarting, a failover) is waited
# for this long before the worker gives up: a worker that fails to boot stops gunicorn altogether.
BOOT_WAIT_SECONDS = 20

app = create_app()
_services = app.extensions["concord"]


def _check_runtime_roles() -> None:
    deadline = time.monotonic() + BOOT_WAIT_SECONDS
    while True:
        try:
            for engine in _services.databases.all_engines(_services.registry.tenants()).values():
                check_runtime_role(engine)
            return
        except Exception as exc:
            if not is_database_outage(exc) or time.monotonic() > deadline:
                raise
            logging.getLogger(__name__).warning("worker boot: waiting for the database (%s)", type(exc).__name__)
            time.sleep(1)


_check_runtime_roles()

# Everything loaded so far lives as long as the worker: keep it out of the garbage collector's full
# collections, which otherwise cost a busy request tens of milliseconds every few requests.
gc.freeze()

"""The WSGI entry point gunicorn serves: refuses to start if the runtime role could bypass RLS; gunicorn's own
error pages answer in the JSON error shape."""
import gc

from app import create_app, serving
from app.db import check_runtime_role

serving.json_error_pages()

app = create_app()
_services = app.extensions["concord"]
for _engine in _services.databases.all_engines(_services.registry.tenants()).values():
    check_runtime_role(_engine)

# Everything loaded so far lives as long as the worker: keep it out of the garbage collector's full
# collections, which otherwise cost a busy request tens of milliseconds every few requests.
gc.freeze()

"""The console's sign-in helpers, shared with tests/console."""
from tests.console.conftest import console, csrf  # noqa: F401

"""Runner-side helpers (hooks)."""
from . import hooks  # noqa: F401

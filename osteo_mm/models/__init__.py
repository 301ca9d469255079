"""Models: classifiers, heads, losses and self-supervised algorithms."""
from . import classifiers, heads, losses, selfsup  # noqa: F401

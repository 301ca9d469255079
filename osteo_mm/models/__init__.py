"""Models: classifiers, heads, losses and self-supervised algorithms."""
from . import classifiers, guidance, heads, losses, selfsup  # noqa: F401

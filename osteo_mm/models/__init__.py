"""Models: classifiers, heads, losses and self-supervised algorithms."""
from . import classifiers, guidance, heads, initializers, losses, selfsup  # noqa: F401

"""Models: classifiers, heads, losses and self-supervised algorithms."""
from . import (  # noqa: F401
    classifiers,
    data_preprocessors,
    guidance,
    heads,
    initializers,
    losses,
    selfsup,
)

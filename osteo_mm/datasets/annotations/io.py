"""Reading annotation files with errors that name the file."""
from __future__ import annotations

import json
import os.path as osp

from ..errors import XrayDataError


def load_json(path: str):
    """Parse a JSON file, or raise :class:`XrayDataError` naming it."""
    if not osp.isfile(path):
        raise XrayDataError(f'{path}: annotation file not found')
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise XrayDataError(f'{path}: not valid JSON ({err})') from err


def keep_label(label: str, labels) -> bool:
    """True when no label filter is set or ``label`` is one of ``labels``."""
    return not labels or label in labels

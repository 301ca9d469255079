"""Atomic file writes shared by all tools: a kill leaves the old file or the new one, never half."""
import json
import os
import os.path as osp
import tempfile
from typing import Any, Union


def write_atomic(path: str, data: Union[bytes, str]) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``.

    The file gets the usual permissions (``0o666`` minus the umask), not mkstemp's private
    ``0o600``.

    Args:
        path (str): Destination file; missing parent folders are created.
        data (bytes | str): Content (``str`` is encoded as UTF-8).
    """
    if isinstance(data, str):
        data = data.encode()
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp-', suffix=osp.basename(path))
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def dump_json_atomic(obj: Any, path: str, **kwargs) -> None:
    """Write ``obj`` as indented JSON atomically (``kwargs`` go to :func:`json.dumps`)."""
    kwargs.setdefault('indent', 2)
    write_atomic(path, json.dumps(obj, **kwargs))

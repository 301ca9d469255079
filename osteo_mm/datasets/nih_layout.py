"""Where the NIH ChestX-ray14 films lie: the archive as downloaded, or one flat folder.

The official archive unpacks ``images_001.tar.gz`` ... ``images_012.tar.gz`` into
``images_001/images/`` ... ``images_012/images/``; re-packed copies often use one ``images/``
folder. :func:`locate_nih_images` finds either under ``data_root`` and keeps one cached index
of every film path (``nih_image_index.txt`` in ``data_root``, or in the user cache folder when
``data_root`` is read-only), rebuilt when any image folder's modification time changes.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import os.path as osp

import numpy as np

from .errors import XrayDataError

INDEX_NAME = 'nih_image_index.txt'
NESTED_GLOB = 'images_*/images'
FLAT_DIR = 'images'
#: How many missing films an error message names.
MAX_LISTED = 5


def image_folders(data_root: str, img_dir: str | None = None) -> list[str]:
    """Image folders relative to ``data_root``: ``img_dir``, else the archive's own layout.

    Args:
        data_root (str): Dataset root.
        img_dir (str, optional): One folder relative to ``data_root``; ``None`` looks for
            ``images_*/images/`` and then ``images/``.

    Returns:
        list[str]: Folders relative to ``data_root`` (sorted).

    Raises:
        XrayDataError: If no image folder exists.
    """
    if img_dir is not None:
        folders = [img_dir] if osp.isdir(osp.join(data_root, img_dir)) else []
    else:
        folders = sorted(osp.relpath(p, data_root).replace(os.sep, '/')
                         for p in glob.glob(osp.join(glob.escape(data_root), NESTED_GLOB))
                         if osp.isdir(p))
        if not folders and osp.isdir(osp.join(data_root, FLAT_DIR)):
            folders = [FLAT_DIR]
    if not folders:
        where = img_dir if img_dir is not None else f'{NESTED_GLOB}/ or {FLAT_DIR}/'
        raise XrayDataError(f'{data_root}: no NIH image folder ({where}) found')
    return folders


def _signature(data_root: str, folders: list[str]) -> str:
    return json.dumps({f: os.stat(osp.join(data_root, f)).st_mtime_ns for f in folders},
                      sort_keys=True)


def _index_paths(data_root: str) -> list[str]:
    """The cached index in ``data_root``, then in the user cache folder."""
    key = hashlib.sha1(osp.abspath(data_root).encode()).hexdigest()[:16]
    cache = os.environ.get('XDG_CACHE_HOME') or osp.join(osp.expanduser('~'), '.cache')
    return [osp.join(data_root, INDEX_NAME), osp.join(cache, 'osteo_mm', f'nih_{key}.txt')]


def build_image_index(data_root: str, img_dir: str | None = None) -> list[str]:
    """Every film path relative to ``data_root``, from the cached index when it is current.

    Args:
        data_root (str): Dataset root.
        img_dir (str, optional): See :func:`image_folders`.

    Returns:
        list[str]: Relative paths (``images_001/images/00000001_000.png``, ...).

    Raises:
        XrayDataError: If no image folder exists.
    """
    folders = image_folders(data_root, img_dir)
    signature = _signature(data_root, folders)
    candidates = _index_paths(data_root)
    for path in candidates:
        if osp.isfile(path):
            with open(path) as f:
                if f.readline().rstrip('\n') == signature:
                    return f.read().splitlines()
    paths = []
    for folder in folders:
        with os.scandir(osp.join(data_root, folder)) as entries:
            paths += sorted(f'{folder}/{e.name}' for e in entries
                            if e.name.lower().endswith('.png') and e.is_file())
    text = signature + '\n' + '\n'.join(paths) + '\n'
    for path in candidates:  # the first writable place keeps it
        try:
            os.makedirs(osp.dirname(path), exist_ok=True)
            tmp = f'{path}.tmp{os.getpid()}'
            with open(tmp, 'w') as f:
                f.write(text)
            os.replace(tmp, path)
            break
        except OSError:
            continue
    return paths


def locate_nih_images(data_root: str, names: np.ndarray, img_dir: str | None = None,
                      check: bool = True) -> np.ndarray:
    """Paths relative to ``data_root`` of the films ``names`` (``00000001_000.png``, ...).

    Args:
        data_root (str): Dataset root.
        names (np.ndarray): Image names as in ``Data_Entry_2017.csv``.
        img_dir (str, optional): See :func:`image_folders`.
        check (bool): Require every film on disk (else return ``img_dir``/``images`` paths
            without looking, for metadata-only use). Defaults to True.

    Returns:
        np.ndarray: Relative paths (object array), in the order of ``names``.

    Raises:
        XrayDataError: If a film is missing (naming the first ones and the count) or one name
            lies in two folders.
    """
    names = np.asarray(names, dtype=object)
    if not check:
        prefix = (img_dir if img_dir is not None else FLAT_DIR) + '/'
        return np.array([prefix + n for n in names], dtype=object)
    where: dict[str, str] = {}
    clashes = []
    for rel in build_image_index(data_root, img_dir):
        name = rel.rsplit('/', 1)[-1]
        if name in where:
            clashes.append(f'{where[name]} and {rel}')
        where[name] = rel
    if clashes:
        raise XrayDataError(f'{data_root}: {len(clashes)} film name(s) in two image folders, '
                            f'e.g. {clashes[:MAX_LISTED]}')
    found = np.array([where.get(n, '') for n in names], dtype=object)
    missing = names[found == '']
    if len(missing):
        raise XrayDataError(
            f'{data_root}: {len(missing)} film(s) listed in the annotations are not in '
            f'{image_folders(data_root, img_dir)}: {list(missing[:MAX_LISTED])}'
            + (' ...' if len(missing) > MAX_LISTED else ''))
    return found

"""Unlabelled X-rays for self-supervised pre-training."""
from __future__ import annotations

import os
import os.path as osp
from typing import Sequence

import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from .csv_io import fail_duplicates, fail_rows, read_csv, require_columns
from .errors import XrayDataError

DEFAULT_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.dcm')


@DATASETS.register_module()
class UnlabeledXrayDataset(BaseDataset):
    """X-rays without labels (``gt_label = -1``), from a folder tree or a CSV list.

    With ``ann_file`` the CSV needs an ``image`` column (relative to ``data_root``) and may have
    ``patient_id``; without it every file under ``data_root`` whose suffix is in ``extensions``
    is used (sorted, so the order is reproducible). No image is opened.

    Args:
        data_root (str): Root folder of the images.
        ann_file (str): Optional CSV list, relative to ``data_root``. Defaults to ''.
        extensions (Sequence[str]): Suffixes taken from a folder tree (case-insensitive).
            Defaults to ('.png', '.jpg', '.jpeg', '.dcm').
        **kwargs: Other ``BaseDataset`` arguments (``pipeline``, ...).

    Examples:
        >>> from osteo_mm.datasets import UnlabeledXrayDataset
        >>> ds = UnlabeledXrayDataset('data/chest_pngs')  # doctest: +SKIP
        >>> ds.get_data_info(0)['gt_label']  # doctest: +SKIP
        -1
    """

    METAINFO = {'classes': ()}

    def __init__(self,
                 data_root: str,
                 ann_file: str = '',
                 extensions: Sequence[str] = DEFAULT_EXTENSIONS,
                 **kwargs) -> None:
        self.extensions = tuple(e.lower() for e in extensions)
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def _scan(self) -> list[str]:
        if not osp.isdir(self.data_root):
            raise XrayDataError(f'{self.data_root}: image folder not found')
        found = []
        for root, dirs, files in os.walk(self.data_root):
            dirs.sort()
            found += [osp.relpath(osp.join(root, f), self.data_root) for f in sorted(files)
                      if osp.splitext(f)[1].lower() in self.extensions]
        if not found:
            raise XrayDataError(f'{self.data_root}: empty dataset (no files ending in '
                                f'{self.extensions})')
        return found

    def load_data_list(self) -> list[dict]:
        """List the images.

        Returns:
            list[dict]: ``img_path``, ``img_id``, ``patient_id`` and ``gt_label=-1`` per image.

        Raises:
            XrayDataError: On an empty folder or a malformed CSV.
        """
        if self.ann_file:
            df = read_csv(self.ann_file)
            require_columns(df, ('image', ), self.ann_file)
            images = df['image'].str.strip()
            fail_rows(self.ann_file, images == '', 'empty image path')
            fail_duplicates(self.ann_file, images, 'image')
            if images.empty:
                raise XrayDataError(f'{self.ann_file}: empty dataset (no rows)')
            patients = (df['patient_id'].str.strip().to_numpy() if 'patient_id' in df
                        else np.full(len(df), ''))
            images = images.tolist()
        else:
            images = self._scan()
            patients = [''] * len(images)
        return [dict(img_path=osp.join(self.data_root, img), img_id=img.replace(os.sep, '/'),
                     patient_id=pid, gt_label=-1) for img, pid in zip(images, patients)]

    def extra_repr(self) -> list[str]:
        """Extra lines of ``repr(dataset)``."""
        return [f'Root: \t{self.data_root}', f'Image list: \t{self.ann_file or "(folder scan)"}']

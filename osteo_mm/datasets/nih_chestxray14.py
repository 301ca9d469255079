"""NIH ChestX-ray14 (Wang et al., CVPR 2017): 14 findings as a multi-label target."""
from __future__ import annotations

import os.path as osp

import numpy as np
import pandas as pd
from mmpretrain.datasets import MultiLabelDataset
from mmpretrain.registry import DATASETS

from .columnar import (
    ColumnarDataList,
    ColumnarDatasetMixin,
    complete_multilabel,
    text_column,
)
from .csv_io import fail_duplicates, fail_rows, read_csv, strip_few
from .errors import XrayDataError
from .labels import NIH_LABELS, NIH_NO_FINDING
from .nih_layout import locate_nih_images
from .patients import HOLDOUT_SPLITS, patient_holdout

SPLIT_FILES = {'trainval': 'train_val_list.txt', 'test': 'test_list.txt'}
#: ``split=`` values: the official lists, and the patient hold-out of ``train_val_list.txt``.
SPLITS = tuple(SPLIT_FILES) + HOLDOUT_SPLITS
#: Leading header names of both Data_Entry releases (the trailing names contain commas).
ENTRY_HEADER = ('Image Index', 'Finding Labels', 'Follow-up #', 'Patient ID', 'Patient Age',
                'Patient Gender', 'View Position')
#: Values per row: the 7 named columns + width, height, spacing x, spacing y.
ENTRY_VALUES = 11
#: BBox_List_2017.csv spells one finding differently from Data_Entry.
BBOX_ALIASES = {'Infiltrate': 'Infiltration'}


def read_data_entry(path: str) -> pd.DataFrame:
    """Read a ``Data_Entry_2017`` CSV of either release.

    The header's last two names contain commas (``OriginalImage[Width,Height]``), so rows have
    11 values under 9 names; the 2017 release also ends every line with a comma.

    Args:
        path (str): The CSV file.

    Returns:
        pd.DataFrame: Columns ``image``, ``findings``, ``patient_id``, ``view`` (str).

    Raises:
        XrayDataError: If the header or a row does not have the expected shape.
    """
    header = read_csv(path, header=None, nrows=1).iloc[0].str.strip().tolist()
    if tuple(header[:len(ENTRY_HEADER)]) != ENTRY_HEADER:
        raise XrayDataError(f'{path}: not a Data_Entry_2017 file; header starts with '
                            f'{header[:len(ENTRY_HEADER)]}, expected {list(ENTRY_HEADER)}')
    width = read_csv(path, header=None, skiprows=1, nrows=1).shape[1]
    if width < ENTRY_VALUES:
        raise XrayDataError(f'{path}: rows must have {ENTRY_VALUES} values (plus an optional '
                            f'trailing comma); found {width} columns')
    # Parse only the columns used (and the last value, and any trailing ones, for the shape
    # checks): the C parser skips building strings for the others (age, size, spacing).
    df = read_csv(path, header=None, skiprows=1,
                  usecols=[0, 1, 3, 6] + list(range(ENTRY_VALUES - 1, width)))
    if (df[list(range(ENTRY_VALUES, width))] != '').any(axis=None):
        raise XrayDataError(f'{path}: rows must have {ENTRY_VALUES} values (plus an optional '
                            f'trailing comma); found {width} columns')
    fail_rows(path, df[ENTRY_VALUES - 1] == '', f'row with fewer than {ENTRY_VALUES} values')
    return pd.DataFrame({'image': df[0].str.strip(), 'findings': strip_few(df[1]),
                         'patient_id': df[3].str.strip(), 'view': strip_few(df[6])})


def encode_findings(findings: pd.Series, path: str) -> np.ndarray:
    """Multi-hot (N, 14) float32 targets in :data:`NIH_LABELS` order.

    Args:
        findings (pd.Series): ``Finding Labels`` cells (``A|B`` or ``No Finding``).
        path (str): The CSV file (for messages).

    Returns:
        np.ndarray: The targets.

    Raises:
        XrayDataError: On an unknown finding or ``No Finding`` mixed with findings.
    """
    # Parsed once per distinct cell (about 800 in the real file), then indexed per row.
    codes, uniques = pd.factorize(findings.reset_index(drop=True))
    uniques = pd.Series(uniques)
    tokens = uniques.str.split('|').explode().str.strip()
    rows = tokens.index.to_numpy()
    token_codes = tokens.map({name: j for j, name in enumerate(NIH_LABELS)}).to_numpy()
    no_finding = np.zeros(len(uniques), dtype=bool)
    no_finding[rows[tokens.to_numpy() == NIH_NO_FINDING]] = True
    unknown = np.zeros(len(uniques), dtype=bool)
    unknown[rows[pd.isna(token_codes) & (tokens.to_numpy() != NIH_NO_FINDING)]] = True
    table = np.zeros((len(uniques), len(NIH_LABELS)), dtype=np.float32)
    known = ~pd.isna(token_codes)
    table[rows[known], token_codes[known].astype(np.int64)] = 1
    cells = findings.to_numpy()
    unknown = unknown[codes]
    fail_rows(path, unknown, f'unknown finding (expected {list(NIH_LABELS)} or '
              f'{NIH_NO_FINDING!r})', [repr(v) for v in cells[unknown]])
    no_finding, count = no_finding[codes], table.sum(1)[codes]
    fail_rows(path, no_finding & (count > 0), f'{NIH_NO_FINDING!r} mixed with findings')
    fail_rows(path, ~no_finding & (count == 0), 'empty Finding Labels')
    return table[codes]


def read_bbox_list(path: str) -> pd.DataFrame:
    """Read ``BBox_List_2017.csv`` (header ``Image Index,Finding Label,Bbox [x,y,w,h],,,``).

    Args:
        path (str): The CSV file.

    Returns:
        pd.DataFrame: Columns ``image``, ``label`` (index into NIH_LABELS) and ``x1, y1, x2,
        y2`` (float, original pixels).

    Raises:
        XrayDataError: On an unknown finding or a non-numeric / non-positive box.
    """
    df = read_csv(path, header=None, skiprows=1)
    if df.shape[1] < 6:
        raise XrayDataError(f'{path}: expected Image Index, Finding Label, x, y, w, h per row; '
                            f'found {df.shape[1]} columns')
    label = df[1].str.strip().replace(BBOX_ALIASES)
    index = label.map({name: i for i, name in enumerate(NIH_LABELS)})
    fail_rows(path, index.isna(), 'unknown finding', [repr(v) for v in label[index.isna()]])
    xywh = df[[2, 3, 4, 5]].apply(lambda c: pd.to_numeric(c.str.strip(), errors='coerce'))
    bad = ~np.isfinite(xywh.to_numpy()).all(1) | (xywh[[4, 5]].to_numpy() <= 0).any(1)
    fail_rows(path, bad, 'box is not four numbers x, y, w > 0, h > 0')
    x, y, w, h = (xywh[c].to_numpy() for c in (2, 3, 4, 5))
    return pd.DataFrame({'image': df[0].str.strip(), 'label': index.astype(int),
                         'x1': x, 'y1': y, 'x2': x + w, 'y2': y + h})


def _complete_nih_info(info: dict, row: int, shared: dict) -> None:
    """``ColumnarDataList`` hook: path, positive indices and the film's expert boxes."""
    complete_multilabel(info, row, shared)
    if row in shared['boxes']:
        coords, labels = shared['boxes'][row]
        info.update(gt_bboxes=coords.copy(), gt_bbox_labels=list(labels))


@DATASETS.register_module()
class NIHChestXray14Dataset(ColumnarDatasetMixin, MultiLabelDataset):
    """NIH ChestX-ray14: 112,120 frontal chest X-rays with 14 text-mined findings.

    Reads ``Data_Entry_2017.csv`` or ``Data_Entry_2017_v2020.csv`` without opening images.
    ``gt_score`` is the multi-hot target in :data:`NIH_LABELS` order and ``gt_label`` the list
    of positive indices. Directory layout::

        data_root/
            Data_Entry_2017.csv  train_val_list.txt  test_list.txt  BBox_List_2017.csv
            images_001/images/00000001_000.png ...  (the archive as downloaded; or one
            images/00000001_000.png ...             flat folder; see nih_layout.py)

    Args:
        data_root (str): Dataset root.
        ann_file (str): Data_Entry CSV relative to ``data_root``.
            Defaults to 'Data_Entry_2017.csv'.
        split (str, optional): 'trainval' or 'test' (the official patient-wise lists), 'train'
            or 'val' (``train_val_list.txt`` without / with a seeded hold-out of about
            ``val_fraction`` of its patients: model selection never sees ``test_list.txt``),
            or None for every row. Defaults to 'trainval'.
        split_file (str, optional): A custom list of image names (one a line, relative to
            ``data_root``) used instead of the official list (the hold-out, with 'train'/'val',
            is then carved from it).
        val_fraction (float): Fraction of patients held out for 'val'. Defaults to 0.1.
        split_seed (int): Seed of the hold-out. Defaults to 0.
        bbox_file (str, optional): ``BBox_List_2017.csv`` (relative to ``data_root``); adds
            ``gt_bboxes`` (x1, y1, x2, y2) and ``gt_bbox_labels`` to the images it covers.
        img_dir (str, optional): Image folder relative to ``data_root``; ``None`` finds
            ``images_*/images/`` (the downloaded archive), else ``images/``. Defaults to None.
        check_images (bool): Require every selected film on disk (an error names the missing
            ones); False skips the look for metadata-only use. Defaults to True.
        **kwargs: Other ``BaseDataset`` arguments (``pipeline``, ``test_mode``, ...).

    Examples:
        >>> from osteo_mm.datasets import NIHChestXray14Dataset
        >>> ds = NIHChestXray14Dataset('data/nih', split='test')  # doctest: +SKIP
        >>> ds.get_data_info(0)['gt_score'].shape  # doctest: +SKIP
        (14,)
    """

    METAINFO = {'classes': NIH_LABELS}

    def __init__(self,
                 data_root: str,
                 ann_file: str = 'Data_Entry_2017.csv',
                 split: str | None = 'trainval',
                 split_file: str | None = None,
                 val_fraction: float = 0.1,
                 split_seed: int = 0,
                 bbox_file: str | None = None,
                 img_dir: str | None = None,
                 check_images: bool = True,
                 **kwargs) -> None:
        if split is not None and split not in SPLITS:
            raise ValueError(f'split must be one of {SPLITS} or None, got {split!r}')
        self.split = split
        self.split_file = split_file
        self.val_fraction = val_fraction
        self.split_seed = split_seed
        self.bbox_file = bbox_file
        self.img_dir = img_dir
        self.check_images = check_images
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def _selected(self, images: pd.Series, patients: pd.Series) -> np.ndarray:
        """Rows of the split (all rows when no split is asked for)."""
        listed = self._listed(images)
        if self.split not in HOLDOUT_SPLITS:
            return listed
        held = np.zeros(len(images), dtype=bool)
        source = osp.join(self.data_root, self.split_file or SPLIT_FILES['trainval'])
        held[listed] = patient_holdout(patients[listed].to_numpy(), self.val_fraction,
                                       self.split_seed, source)
        return held if self.split == 'val' else listed & ~held

    def _listed(self, images: pd.Series) -> np.ndarray:
        """Rows listed in the split file (all rows when no split is asked for)."""
        official = 'trainval' if self.split in HOLDOUT_SPLITS else self.split
        list_file = self.split_file or (SPLIT_FILES[official] if official else None)
        if list_file is None:
            return np.ones(len(images), dtype=bool)
        list_path = osp.join(self.data_root, list_file)
        if not osp.isfile(list_path):
            raise XrayDataError(f'{list_path}: split list file not found')
        with open(list_path) as f:
            names = {line.strip() for line in f if line.strip()}
        unknown = names - set(images)
        if unknown:
            raise XrayDataError(f'{list_path}: {len(unknown)} image(s) are not in '
                                f'{self.ann_file}, e.g. {sorted(unknown)[:5]}')
        return images.isin(names).to_numpy()

    def load_data_list(self) -> ColumnarDataList:
        """Parse the metadata into a column-wise data list (dicts are built on access).

        Returns:
            ColumnarDataList: One entry per selected image.

        Raises:
            XrayDataError: On malformed CSV rows, unknown findings or split-list images.
        """
        df = read_data_entry(self.ann_file)
        fail_duplicates(self.ann_file, df['image'], 'image')
        targets = encode_findings(df['findings'], self.ann_file)
        keep = np.flatnonzero(self._selected(df['image'], df['patient_id']))
        if len(keep) == 0:
            raise XrayDataError(f'{self.ann_file}: empty dataset for split {self.split!r}')
        images, patients, views = (df[c].to_numpy()[keep] for c in ('image', 'patient_id', 'view'))
        rel = text_column(locate_nih_images(self.data_root, images, self.img_dir,
                                            self.check_images))
        boxes = self._boxes(images, df['image'].to_numpy()) if self.bbox_file else {}
        return ColumnarDataList(
            dict(img_rel=rel, img_id=rel, patient_id=text_column(patients),
                 view=text_column(views), gt_score=targets[keep]),
            build=_complete_nih_info, shared=dict(root=self.data_root, boxes=boxes))

    def _boxes(self, selected: np.ndarray, images: np.ndarray) -> dict[int, tuple]:
        """Expert boxes from ``bbox_file``: row of ``selected`` -> (boxes, labels)."""
        path = osp.join(self.data_root, self.bbox_file)
        table = read_bbox_list(path)
        unknown = ~table['image'].isin(images)
        fail_rows(path, unknown, f'image not in {self.ann_file}',
                  [repr(v) for v in table['image'][unknown]])
        coords = table[['x1', 'y1', 'x2', 'y2']].to_numpy(np.float32)
        labels = table['label'].to_numpy()
        rows = pd.Index(selected).get_indexer(table['image'])
        return {int(rows[idx[0]]): (coords[idx], labels[idx].tolist())
                for idx in table.groupby('image').indices.values() if rows[idx[0]] >= 0}

    def extra_repr(self) -> list[str]:
        """Extra lines of ``repr(dataset)``."""
        return [f'Annotation file: \t{self.ann_file}', f'Root: \t{self.data_root}',
                f'Split: \t{self.split_file or ""} {self.split}', f'Boxes: \t{self.bbox_file}']

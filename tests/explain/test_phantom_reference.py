"""Counterfactual shoulder-phantom films at the reference bone quality."""
import os.path as osp

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from osteo_mm.datasets.phantom import generate_shoulder
from osteo_mm.explain.phantom_reference import write_reference_phantom


def test_roi_phantom_counterfactual_differs_only_inside_the_roi(tmp_path):
    src = str(tmp_path / 'ph')
    generate_shoulder(src, 3, size=64, seed=4, fmt='png', signal_region='roi', progress=False)
    ref = str(tmp_path / 'ref')
    write_reference_phantom(src, ref, progress=False)
    a, b = (pd.read_csv(osp.join(d, 'labels.csv')) for d in (src, ref))
    pd.testing.assert_frame_equal(a.drop(columns='dti'), b.drop(columns='dti'))
    changed_inside = 0
    for image, mask in zip(a['image'], a['roi_mask']):
        orig = cv2.imread(osp.join(src, image), cv2.IMREAD_UNCHANGED).astype(int)
        counter = cv2.imread(osp.join(ref, image), cv2.IMREAD_UNCHANGED).astype(int)
        roi = cv2.imread(osp.join(src, mask), cv2.IMREAD_UNCHANGED) > 0
        # The film blur spreads the ROI's change by a pixel or two, no further.
        near = cv2.dilate(roi.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
        assert (orig[~near] == counter[~near]).all()
        changed_inside += int((orig[roi] != counter[roi]).any())
    assert changed_inside >= 2


def test_reference_needs_a_shoulder_phantom(tmp_path):
    with pytest.raises(ValueError, match='no shoulder phantom'):
        write_reference_phantom(str(tmp_path), str(tmp_path / 'ref'))


def test_reference_fill_end_to_end_on_the_roi_only_phantom(tmp_path):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    from osteo_mm.explain.analysis import build_split
    from osteo_mm.explain.intervention import build_reference_split, run_roi_intervention

    root = str(tmp_path / 'ph')
    generate_shoulder(root, 4, size=64, seed=2, fmt='png', signal_region='roi',
                      split_ratios=(0.5, 0.0, 0.5), progress=False)
    pipeline = [dict(type='LoadXrayFromFile'), dict(type='LoadRoiMask'),
                dict(type='PackXrayInputs')]
    cfg = Config(dict(test_dataloader=dict(
        batch_size=2, num_workers=0,
        dataset=dict(type='ShoulderXrayDataset', data_root=root, ann_file='labels.csv',
                     split='test', task='who3', pipeline=pipeline))))
    dataset, loader_cfg = build_split(cfg, 'test')
    reference = build_reference_split(cfg, 'test', str(tmp_path / 'ref'))
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='ImageClassifier', backbone=dict(type='ResNet', depth=18),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=3, in_channels=512),
        data_preprocessor=dict(num_classes=3, mean=[127.5] * 3, std=[64.0] * 3))).eval()
    table, summary = run_roi_intervention(model, dataset, loader_cfg, str(tmp_path / 'out'),
                                          fill='reference', controls=2, anatomy='all',
                                          reference_dataset=reference, n_boot=20,
                                          progress=False)
    assert len(table) == 2 and summary['fill'] == 'reference'
    # The counterfactual differs from the film only in and right around the ROI, so controls
    # a few pixels away change nothing; the ROI itself changes the output.
    assert (table['roi_effect'].abs() > 0).all()
    assert (table['control_effect'].abs() < 0.05 * table['roi_effect'].abs()).all()

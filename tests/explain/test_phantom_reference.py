"""Counterfactual shoulder-phantom films at the reference bone quality."""
import os.path as osp

import cv2
import numpy as np
import pandas as pd
import pytest

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

"""Prior maps (uniform, centre, dataset ROI) and the randomised-weights baseline."""
import os.path as osp
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from mmengine.config import Config

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'tools'))
from test_gradcam import run_main, write_checkpoint, write_config  # noqa: E402

from osteo_mm.explain.analysis import build_split, load_classifier  # noqa: E402
from osteo_mm.explain.priors import (  # noqa: E402
    centre_prior,
    dataset_roi_prior,
    prior_table,
    randomized_copy,
    scored_masks,
    uniform_prior,
)


@pytest.fixture
def tiny_setup(tmp_path):
    config = write_config(tmp_path)
    return config, write_checkpoint(config, str(tmp_path / 'model.pth'))


def _with_train_split(config: str) -> Config:
    cfg = Config.fromfile(config)
    cfg.train_dataloader = cfg.test_dataloader
    return cfg


def test_uniform_prior_scores_chance_and_centre_prior_peaks_in_the_middle():
    masks = np.zeros((3, 20, 30), np.uint8)
    masks[0, 2:6, 3:9] = 1
    masks[1, 10:20, 0:30] = 1
    masks[2, 0:1, 0:1] = 1
    table = prior_table('uniform', uniform_prior((20, 30)), masks, ['a', 'b', 'c'])
    share = masks.reshape(3, -1).mean(axis=1)
    np.testing.assert_allclose(table['energy_pointing_game'], share, atol=1e-6)
    np.testing.assert_allclose(table['saliency_auroc'], 0.5, atol=1e-6)
    assert (table['method'] == 'uniform').all() and (table['target_class'] == -1).all()
    centre = centre_prior((21, 21))
    assert np.unravel_index(centre.argmax(), centre.shape) == (10, 10)
    np.testing.assert_allclose(centre, centre[::-1, ::-1])
    np.testing.assert_allclose(centre[10, 10 + 5], np.exp(-25 / (2 * 5.25 ** 2)), rtol=1e-6)


def test_dataset_roi_prior_is_the_mean_training_mask_and_never_the_test_split(tiny_setup):
    config, _ = tiny_setup
    cfg = _with_train_split(config)  # training images = the scored ones, so the oracle is known
    prior, n = dataset_roi_prior(cfg, 'train', progress=False)
    dataset, _ = build_split(cfg, 'test')
    ids, masks, all_ids = scored_masks(dataset)
    assert n == len(ids) == len(all_ids) - 1  # the last image has no ROI
    np.testing.assert_allclose(prior, (masks > 0).mean(axis=0), atol=1e-6)
    with pytest.raises(ValueError, match='test split'):
        dataset_roi_prior(cfg, 'test')


def test_randomized_copy_changes_every_layer_and_leaves_the_model(tiny_setup):
    config, ckpt = tiny_setup
    model, _ = load_classifier(Config.fromfile(config), ckpt)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    clone = randomized_copy(model, seed=3)
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name])
    changed = [k for k, v in clone.state_dict().items()
               if v.dtype.is_floating_point and k.endswith('weight')
               and not torch.equal(v, before[k])]
    conv_fc = [k for k in before if k.endswith('weight') and before[k].dim() > 1]
    assert set(conv_fc) <= set(changed)


def test_cam_priors_tool_writes_priors_and_random_model(tiny_setup, tmp_path, monkeypatch):
    config, ckpt = tiny_setup
    cfg_path = tmp_path / 'with_train.py'
    cfg_path.write_text(f'_base_ = [{config!r}]\n'
                        'train_dataloader = {{_base_.test_dataloader}}\n')
    out = tmp_path / 'priors'
    assert run_main('analysis/cam_priors.py', [cfg_path, '--checkpoint', ckpt, '--out-dir', out,
                                               '--num-vis', '1'], monkeypatch) == 0
    tables = {n: pd.read_csv(out / f'{n}.csv') for n in ('uniform', 'centre', 'dataset_roi')}
    random = pd.read_csv(out / 'random_weights' / 'causality.csv')
    for table in (*tables.values(), random):
        assert table['img_id'].tolist() == [f'patient{i}/shoulder.png' for i in range(5)]
        assert np.isnan(table['energy_pointing_game'].iloc[-1])  # no ROI on the last image
    roi = tables['dataset_roi']['energy_pointing_game'][:4]
    assert (roi > tables['uniform']['energy_pointing_game'][:4]).all()
    assert run_main('analysis/cam_priors.py', [cfg_path, '--split', 'val', '--prior-split',
                                               'val'], monkeypatch) == 2

"""The experiment drivers moved from benchmarks/: configs they write and their pure helpers."""
import argparse
import os.path as osp
import runpy
import sys

import pandas as pd
import pytest
from mmengine.config import Config

from osteo_mm.experiments import cam_phantom_causality, data_efficiency_phantom, guided_shortcut

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_cam_phantom_config_sets_init_stride_size_and_guidance(tmp_path):
    args = argparse.Namespace(init_ckpt=str(tmp_path / 'spark.pth'), output_stride=16,
                              guided_weight=2.0, guided_loss='cosine', epochs=3, img_size=96,
                              batch_size=8, num_workers=0)
    path = cam_phantom_causality.write_config(str(tmp_path), 'g', str(tmp_path / 'data'), args,
                                              guided=True)
    cfg = Config.fromfile(path)
    assert cfg.model.type == 'GuidedImageClassifier'
    assert cfg.model.guidance == dict(type='CAMAlignmentGuidance', weight=2.0, loss='cosine')
    assert cfg.model.backbone.strides == (1, 2, 2, 1)
    assert cfg.model.backbone.init_cfg.checkpoint == str(tmp_path / 'spark.pth')
    assert cfg.train_cfg.max_epochs == 3 and cfg.img_size == 96
    assert any(t['type'] == 'LoadRoiMask' for t in cfg.train_pipeline)  # guidance needs ROIs


def test_roi_fraction_keeps_a_seeded_share_of_training_patients(tmp_path):
    rows = [dict(image=f'i{k}.png', patient_id=f'p{k // 2}', split='train' if k < 40 else 'test',
                 roi_mask=f'm{k}.png', roi_bbox='1,2,3,4') for k in range(50)]
    src, dst = tmp_path / 'labels.csv', tmp_path / 'train.csv'
    pd.DataFrame(rows).to_csv(src, index=False)
    kept = guided_shortcut.write_roi_fraction_csv(str(src), str(dst), 0.25, seed=3)
    out = pd.read_csv(dst, keep_default_na=False)
    train = out[out['split'] == 'train']
    assert kept == 10 == (train['roi_mask'] != '').sum()  # 5 of 20 patients, 2 films each
    with_roi = train[train['roi_mask'] != '']
    assert with_roi.groupby('patient_id').size().eq(2).all()  # whole patients
    assert (out.loc[out['split'] == 'test', 'roi_mask'] != '').all()  # test ROIs untouched


def test_data_efficiency_configs_shrink_the_recipe(tmp_path):
    configs = data_efficiency_phantom.write_configs(str(tmp_path), ['resnet18'],
                                                    str(tmp_path / 'shoulder'), 48, 2)
    cfg = configs['resnet18']
    assert cfg.img_size == 48 and cfg.train_cfg.max_epochs == 2
    assert cfg.train_dataloader.dataset.data_root == str(tmp_path / 'shoulder')


@pytest.mark.parametrize('tool', ['cam_phantom_causality.py', 'guided_shortcut.py',
                                  'data_efficiency_phantom.py', 'phantom_validation.py',
                                  'phantom_signal.py', 'mae_pretrain_phantom.py',
                                  'proxy_pretext_loss.py'])
def test_thin_tools_parse_their_options(tool, monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', [tool, '--help'])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(osp.join(ROOT, 'tools', 'analysis', tool), run_name='__main__')
    assert exit_info.value.code == 0 and 'usage:' in capsys.readouterr().out

"""tools/analysis/gradcam.py and the Grad-CAM runner on a tiny X-ray set with expert masks.

The helpers here (a PNG set with ROI masks listed in an MMEngine annotation file, a config using
the osteo_mm X-ray pipeline, a random-weight checkpoint) are reused by the predict and
cam_sanity tool tests.
"""
import json
import os
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import pandas as pd
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from tool_runner import ROOT

import osteo_mm  # noqa: F401
from osteo_mm.explain.analysis import build_split, load_classifier, load_maps, run_gradcam

ORI_H, ORI_W = 40, 56  # non-square originals: the maps must come back to this shape
CLASSES = ['not_osteoporosis', 'osteoporosis']

CONFIG = '''
_base_ = [{runtime!r}]
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=2, in_channels=512, topk=(1, )),
    data_preprocessor=dict(num_classes=2, mean=[127.5] * 3, std=[64.0] * 3))
pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='LoadRoiMask'),
    dict(type='XrayResize', scale=(64, 64)),
    dict(type='PackXrayInputs'),
]
test_dataloader = dict(
    batch_size=3, num_workers=0,
    dataset=dict(type='BaseDataset', ann_file={ann!r}, pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
test_evaluator = dict(type='Accuracy', topk=(1, ))
test_cfg = dict()
'''

# The config switch for accuracy + causality in one `tools/test.py` table.
CAM_TEST_CONFIG = '''
_base_ = ['./tiny_cam.py']
model = dict(type='CAMClassifier', cam_cfg=dict(method='gradcam', target='gt'))
test_evaluator = [dict(type='Accuracy', topk=(1, )), dict(type='CausalityMetric')]
'''


def write_xray_set(root: str, n: int = 5) -> str:
    """``n`` noisy PNGs with a bright 'bone' box; all but the last have an ROI mask.

    Returns:
        str: The MMEngine-format annotation file (``metainfo`` + ``data_list``).
    """
    rng = np.random.default_rng(0)
    data_list = []
    for i in range(n):
        folder = osp.join(root, f'patient{i}')
        os.makedirs(folder, exist_ok=True)
        img = rng.integers(0, 80, (ORI_H, ORI_W), dtype=np.uint8)
        img[10:30, 20 + i:40 + i] = 200
        cv2.imwrite(osp.join(folder, 'shoulder.png'), img)
        info = dict(img_path=osp.join(folder, 'shoulder.png'), img_id=f'patient{i}/shoulder.png',
                    patient_id=f'patient{i}', gt_label=i % 2)
        if i < n - 1:
            mask = np.zeros((ORI_H, ORI_W), np.uint8)
            mask[10:30, 20 + i:40 + i] = 255
            cv2.imwrite(osp.join(folder, 'roi.png'), mask)
            info['roi_mask_path'] = osp.join(folder, 'roi.png')
        data_list.append(info)
    ann = osp.join(root, 'ann.json')
    with open(ann, 'w') as f:
        json.dump(dict(metainfo=dict(classes=CLASSES), data_list=data_list), f)
    return ann


def write_config(tmp_path) -> str:
    """A tiny ResNet-18 config whose test split is :func:`write_xray_set`."""
    ann = write_xray_set(str(tmp_path / 'data'))
    path = tmp_path / 'tiny_cam.py'
    path.write_text(CONFIG.format(
        runtime=osp.join(ROOT, 'configs', '_base_', 'default_runtime.py'), ann=ann))
    return str(path)


def write_checkpoint(config: str, path: str) -> str:
    """Save the config's model with seeded random weights and class names in the meta."""
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=CLASSES))), path)
    return path


def run_main(tool: str, args: list, monkeypatch) -> int:
    """Run ``tools/<tool>`` in this process as ``python tools/<tool> ARGS``; return the exit code.

    In-process keeps the tests fast on a shared 2-core box (no second import of torch/MMPretrain).
    """
    monkeypatch.setattr(sys, 'argv', [tool] + [str(a) for a in args])
    try:
        runpy.run_path(osp.join(ROOT, 'tools', tool), run_name='__main__')
    except SystemExit as exc:
        return exc.code
    return 0


@pytest.fixture
def tiny_cam_setup(tmp_path):
    config = write_config(tmp_path)
    return config, write_checkpoint(config, str(tmp_path / 'model.pth'))


def _run(config, checkpoint, out_dir, **kwargs):
    cfg = Config.fromfile(config)
    dataset, loader_cfg = build_split(cfg, 'test')
    model, meta = load_classifier(cfg, checkpoint)
    assert meta['classes'] == CLASSES
    return run_gradcam(model, dataset, loader_cfg, out_dir, **kwargs)


def test_runner_writes_maps_overlays_and_causality_table(tiny_cam_setup, tmp_path):
    out = str(tmp_path / 'cam')
    table = _run(*tiny_cam_setup, out, method='gradcam', target='gt', num_vis=2)
    ids = [f'patient{i}/shoulder.png' for i in range(5)]
    assert table['img_id'].tolist() == ids
    assert table['target_class'].tolist() == [0, 1, 0, 1, 0]  # gt labels
    on_disk = pd.read_csv(osp.join(out, 'causality.csv'))
    assert list(on_disk.columns[:4]) == ['img_id', 'method', 'target_class', 'zero_map']
    assert set(on_disk['zero_map']) <= {0, 1}
    for score in ('pointing_game', 'energy_pointing_game', 'roi_area_share', 'iou_otsu',
                  'dice_otsu', 'iou_top20', 'dice_top20', 'saliency_auroc',
                  'relevance_rank_accuracy'):
        assert on_disk[score].iloc[:4].notna().all(), score
        assert np.isnan(on_disk[score].iloc[4]), score  # last image has no expert ROI
    maps = load_maps(out, ids[0])
    assert maps['cam'].shape == (64, 64) and maps['cam_ori'].shape == (ORI_H, ORI_W)
    assert sorted(os.listdir(osp.join(out, 'vis'))) == ['patient0', 'patient1']
    overlay = cv2.imread(osp.join(out, 'vis', 'patient0', 'shoulder.png.png'))
    assert overlay.shape == (64, 3 * 64, 3)
    assert not [f for _, _, files in os.walk(out) for f in files if f.startswith('.tmp_')]


def test_runner_resumes_without_recomputing_finished_images(tiny_cam_setup, tmp_path):
    out = str(tmp_path / 'cam')
    _run(*tiny_cam_setup, out, num_vis=0)
    first = osp.join(out, 'maps', 'patient0', 'shoulder.png.npz')
    lost = osp.join(out, 'maps', 'patient3', 'shoulder.png.npz')
    os.remove(lost)  # as if the run had been killed before this image
    stamp = os.stat(first).st_mtime_ns
    table = _run(*tiny_cam_setup, out, num_vis=0)
    assert osp.isfile(lost) and os.stat(first).st_mtime_ns == stamp
    assert len(table) == 5
    with pytest.raises(ValueError, match='use another --out-dir'):
        _run(*tiny_cam_setup, out, method='eigencam')
    with pytest.raises(ValueError, match='not gradcam of the log-odds'):
        _run(*tiny_cam_setup, out, score='log-odds')


def test_cli_runs_end_to_end_and_rejects_bad_input(tiny_cam_setup, tmp_path, monkeypatch,
                                                   capsys):
    config, ckpt = tiny_cam_setup
    out = str(tmp_path / 'cli')
    assert run_main('analysis/gradcam.py', [config, ckpt, '--method', 'gradcam++', '--target',
                                            'pred', '--out-dir', out, '--num-vis', '1',
                                            '--score', 'log-odds'],
                    monkeypatch) == 0
    captured = capsys.readouterr()
    assert '5 images' in captured.out and 'gradcam++ CAMs' in captured.err  # tqdm bar
    assert len(pd.read_csv(osp.join(out, 'causality.csv'))) == 5
    with np.load(osp.join(out, 'maps', 'patient0', 'shoulder.png.npz')) as stored:
        assert str(stored['cam_score']) == 'log-odds'
    assert run_main('analysis/gradcam.py', [config, ckpt, '--target', 'best'], monkeypatch) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: target must be 'gt', 'pred' or a class index, got 'best'"]


def test_tools_test_reports_accuracy_and_causality_in_one_table(tiny_cam_setup, tmp_path,
                                                               monkeypatch):
    _, ckpt = tiny_cam_setup
    config = tmp_path / 'tiny_cam_causality.py'
    config.write_text(CAM_TEST_CONFIG)
    metrics = str(tmp_path / 'metrics.json')
    assert run_main('test.py', [config, ckpt, '--work-dir', tmp_path / 'work', '--out-metrics',
                                metrics], monkeypatch) == 0
    result = json.load(open(metrics))
    assert 'accuracy/top1' in result and result['causality/num_scored'] == 4
    assert 0 <= result['causality/saliency_auroc'] <= 1


def test_cli_input_attribution_with_deletion_insertion_aucs(tiny_cam_setup, tmp_path,
                                                            monkeypatch):
    config, ckpt = tiny_cam_setup
    out = str(tmp_path / 'ig')
    args = [config, ckpt, '--method', 'integrated-gradients', '--ig-steps', '4',
            '--faithfulness-steps', '2', '--out-dir', out, '--num-vis', '1']
    assert run_main('analysis/gradcam.py', args, monkeypatch) == 0
    table = pd.read_csv(osp.join(out, 'causality.csv'))
    assert (table['method'] == 'integrated-gradients').all()
    # Deletion/insertion need no ROI: every image, the ROI-less last one included.
    for column in ('deletion_auc', 'insertion_auc'):
        assert table[column].between(0, 1).all(), column
    assert np.isnan(table['energy_pointing_game'].iloc[4])
    assert osp.isfile(osp.join(out, 'vis', 'patient0', 'shoulder.png.png'))
    with pytest.raises(ValueError, match='deletion/insertion steps'):
        _run(config, ckpt, out, method='integrated-gradients', faithfulness_steps=4)

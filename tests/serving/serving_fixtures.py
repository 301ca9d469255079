"""Tiny model, phantom DICOMs and helpers shared by the serving tests and benchmarks.

(A uniquely named module, as tests/tool_runner.py: several folders have a conftest.py.)
"""
import os.path as osp
import runpy
import socket
import sys
import time

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import osteo_mm  # noqa: F401  (registers the transforms and datasets)
from osteo_mm.datasets.phantom import generate_shoulder
from osteo_mm.utils.threshold_record import append_record, weights_sha256

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLASSES = ['not_osteoporosis', 'osteoporosis']

CONFIG = '''
_base_ = [{base!r}]
img_size = 32
data_root = {root!r}
data_preprocessor = dict(mean=[127.5] * 3, std=[64.0] * 3)
# Stride 1 in the last two stages: a 4 x 4 last feature map at 32 px, so CAMs have a shape.
model = dict(backbone=dict(strides=(1, 2, 1, 1)))
test_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='LoadRoiMask'),
    dict(type='XrayResize', scale=img_size),
    dict(type='XrayCenterCrop', crop_size=img_size),
    dict(type='PackXrayInputs'),
]
_loader = dict(batch_size=4, num_workers=0, persistent_workers=False)
val_dataloader = dict(dataset=dict(data_root=data_root, pipeline=test_pipeline), **_loader)
test_dataloader = dict(dataset=dict(data_root=data_root, pipeline=test_pipeline), **_loader)
train_dataloader = dict(dataset=dict(data_root=data_root), **_loader)
val_evaluator = dict(n_boot=0)  # no bootstrap CIs: the tests compare probabilities
test_evaluator = dict(n_boot=0)
'''
VIT_MODEL = '''
# A two-block deit-tiny: the ViT code path at a fraction of the export time.
model = dict(_delete_=True, type='ImageClassifier',
             backbone=dict(type='VisionTransformer', img_size=32, patch_size=8,
                           arch=dict(embed_dims=192, num_layers=2, num_heads=3,
                                     feedforward_channels=768)),
             neck=None,
             head=dict(type='VisionTransformerClsHead', num_classes=2, in_channels=192))
'''


def make_phantom(root: str, num_patients: int = 12, size: int = 64) -> str:
    """A shoulder phantom of DX DICOMs (Modality DX, BodyPartExamined SHOULDER)."""
    return generate_shoulder(root, num_patients=num_patients, size=size, seed=0, fmt='dicom',
                             split_ratios=(0.5, 0.17, 0.33), progress=False)


def make_model(tmp: str, vit: bool = False, threshold: float = 0.5) -> tuple:
    """Config, checkpoint (seeded initial weights, MMEngine format) and threshold record.

    Returns:
        tuple[str, str]: Config path and checkpoint path (``youden_threshold.json`` beside it).
    """
    data = osp.join(tmp, 'phantom')
    if not osp.isdir(data):
        make_phantom(data)
    base = osp.join(ROOT, 'configs', 'resnet', 'resnet18_phantom-shoulder-binary.py')
    config = osp.join(tmp, 'tiny_vit.py' if vit else 'tiny_resnet.py')
    with open(config, 'w') as f:
        f.write(CONFIG.format(base=base, root=data + '/') + (VIT_MODEL if vit else ''))
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    model.init_weights()
    work = osp.join(tmp, 'work_vit' if vit else 'work')
    import os
    os.makedirs(work, exist_ok=True)
    ckpt = osp.join(work, 'epoch_1.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=CLASSES), epoch=1, iter=3)), ckpt)
    append_record(osp.join(work, 'youden_threshold.json'), dict(
        threshold=threshold, method='youden', pos_label=1, num_samples=2, epoch=1, iter=3,
        weights_sha256=weights_sha256(model.state_dict())))
    return config, ckpt


def free_port() -> int:
    """A free localhost TCP port chosen now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    """Poll ``predicate`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f'timed out after {timeout} s waiting for {what}')


def run_main(tool: str, args: list, monkeypatch) -> int:
    """Run ``tools/<tool> ARGS`` in this process; return its exit code."""
    monkeypatch.setattr(sys, 'argv', [tool] + [str(a) for a in args])
    try:
        runpy.run_path(osp.join(ROOT, 'tools', tool), run_name='__main__')
    except SystemExit as exc:
        return exc.code or 0
    return 0

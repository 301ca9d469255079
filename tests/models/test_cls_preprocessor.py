"""XrayClsDataPreprocessor: channels-last hand-over, same numbers as MMPretrain's."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import osteo_mm  # noqa: F401

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', 'configs')
NORM = dict(mean=[127.5] * 3, std=[64.0] * 3, num_classes=2)


def _classifier(preprocessor):
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='ImageClassifier', data_preprocessor=preprocessor,
        backbone=dict(type='ResNet', depth=18), neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=2, in_channels=512))).eval()


def test_channels_last_inputs_give_the_same_logits_as_mmpretrains_preprocessor():
    batch = dict(inputs=[torch.randint(0, 256, (3, 48, 40), dtype=torch.uint8)
                         for _ in range(3)])
    ours = _classifier(dict(type='XrayClsDataPreprocessor', channels_last=True, **NORM))
    ref = _classifier(dict(type='ClsDataPreprocessor', **NORM))
    ref.load_state_dict(ours.state_dict())
    with torch.no_grad():
        a = ours.data_preprocessor(dict(batch))
        b = ref.data_preprocessor(dict(batch))
        assert a['inputs'].is_contiguous(memory_format=torch.channels_last)
        assert not b['inputs'].is_contiguous(memory_format=torch.channels_last)
        assert torch.equal(a['inputs'], b['inputs'])  # same values, other layout
        torch.testing.assert_close(ours(a['inputs']), ref(b['inputs']), rtol=1e-4, atol=1e-5)
    off = _classifier(dict(type='XrayClsDataPreprocessor', **NORM))
    assert off.data_preprocessor(dict(batch))['inputs'].is_contiguous()


def test_gpu_throughput_recipe_switches():
    cfg = Config.fromfile(osp.join(CONFIGS, 'resnet', 'resnet50_nih-cxr14_bf16-channels-last.py'))
    base = Config.fromfile(osp.join(CONFIGS, 'resnet', 'resnet50_nih-cxr14.py'))
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper' and cfg.optim_wrapper.dtype == 'bfloat16'
    assert cfg.optim_wrapper.optimizer.fused is True
    assert cfg.optim_wrapper.optimizer.lr == base.optim_wrapper.optimizer.lr
    init_default_scope('mmpretrain')
    pre = MODELS.build(cfg.data_preprocessor)
    assert type(pre).__name__ == 'XrayClsDataPreprocessor' and pre.channels_last
    torch.testing.assert_close(pre.mean.flatten(), torch.tensor(base.data_preprocessor.mean))
    assert cfg.model == base.model and cfg.train_dataloader == base.train_dataloader

"""Transfer from MAE / SparK checkpoints: every classifier backbone tensor is loaded."""
import os.path as osp
import runpy
import sys
from unittest import mock

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from osteo_mm.models.converters import backbone_state_dict, check_load

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MAE_CPU = osp.join(ROOT, 'configs/mae/mae_deit-t-p16_1xb32-coslr-8e_phantom-chest-128px.py')
SPARK_CPU = osp.join(ROOT,
                     'configs/spark/spark_sparse-resnet18_1xb32-coslr-8e_phantom-chest-128px.py')
MAE_FT = osp.join(ROOT, 'configs/mae/benchmarks/deit-tiny_shoulder-binary_mae-ft.py')
MAE_LINEAR = osp.join(ROOT, 'configs/mae/benchmarks/deit-tiny_shoulder-binary_mae-linear.py')
SPARK_FT = osp.join(ROOT, 'configs/spark/benchmarks/resnet18_shoulder-binary_spark-ft.py')
SPARK50_FT = osp.join(ROOT, 'configs/spark/benchmarks/resnet50_shoulder-binary_spark-ft.py')
SPARK_LINEAR = osp.join(ROOT,
                        'configs/spark/benchmarks/resnet18_shoulder-binary_spark-linear.py')


def _tool(script, *args):
    """Run ``tools/<script>`` in this process as its command line would; return the exit code."""
    with mock.patch.object(sys, 'argv', [script, *map(str, args)]):
        try:
            runpy.run_path(osp.join(ROOT, 'tools', script), run_name='__main__')
        except SystemExit as exit_:
            return exit_.code
    return 0

def _pretrain_checkpoint(config, path, size=64):
    """Build a pretraining model at ``size`` px, perturb it, save it like the Runner does."""
    cfg = Config.fromfile(config)
    if cfg.model.type == 'MAE':
        cfg.model.backbone.img_size = size
        cfg.model.neck.num_patches = (size // 16)**2
    else:
        cfg.model.input_size = size
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    with torch.no_grad():  # make every tensor distinguishable from any initialisation
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(torch.rand_like(tensor))
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1)), path)
    return backbone_state_dict(torch.load(path))


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp('ckpt')
    mae, spark = str(root / 'mae.pth'), str(root / 'spark.pth')
    return dict(mae=(mae, _pretrain_checkpoint(MAE_CPU, mae)),
                spark=(spark, _pretrain_checkpoint(SPARK_CPU, spark)))


@pytest.mark.parametrize('config, kind', [(MAE_FT, 'mae'), (MAE_LINEAR, 'mae'),
                                          (SPARK_FT, 'spark'), (SPARK_LINEAR, 'spark')],
                         ids=osp.basename)
def test_finetune_config_loads_every_backbone_tensor(config, kind, checkpoints):
    path, pretrained = checkpoints[kind]
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg.checkpoint = path
    if kind == 'mae':
        cfg.model.backbone.img_size = 64
    classifier = MODELS.build(cfg.model)
    classifier.init_weights()  # the path the Runner takes before training
    own = classifier.backbone.state_dict()
    assert set(own) == set(pretrained)  # no key renaming needed, nothing left over
    for key, value in own.items():
        assert torch.equal(value, pretrained[key]), f'{key} was not loaded'


@pytest.mark.parametrize('config', [MAE_FT, SPARK_FT, SPARK50_FT], ids=osp.basename)
def test_finetune_optimizer_builds(config):
    cfg = Config.fromfile(config)
    cfg.model.backbone.pop('init_cfg')
    model = MODELS.build(cfg.model)
    init_default_scope('mmpretrain')  # as the Runner does with the config's default_scope
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lrs = {group['lr'] for group in wrapper.optimizer.param_groups}
    if cfg.optim_wrapper.get('constructor') == 'LearningRateDecayOptimWrapperConstructor':
        base = cfg.optim_wrapper.optimizer.lr
        rate = cfg.optim_wrapper.paramwise_cfg.layer_decay_rate
        assert max(lrs) == pytest.approx(base) and min(lrs) < base * rate**3  # decayed stem
    else:
        assert lrs == {cfg.optim_wrapper.optimizer.lr}


def test_transfer_configs_freeze_for_linear_probe():
    linear = MODELS.build(Config.fromfile(MAE_LINEAR).model)
    trainable = {n for n, p in linear.named_parameters() if p.requires_grad}
    assert trainable == {'head.layers.head.weight', 'head.layers.head.bias'}
    cnn = MODELS.build(Config.fromfile(SPARK_LINEAR).model)
    assert {n for n, p in cnn.named_parameters() if p.requires_grad} == {'head.fc.weight',
                                                                        'head.fc.bias'}


def test_check_load_reports_missing_and_mismatched(checkpoints):
    _, weights = checkpoints['mae']
    vit = MODELS.build(dict(type='VisionTransformer', arch='deit-tiny', img_size=64))
    report = check_load(vit, weights)
    assert report.complete and not report.unexpected
    partial = {k: v for k, v in weights.items() if not k.startswith('layers.11.')}
    partial['ln1.weight'] = torch.ones(7)
    report = check_load(vit, partial)
    assert not report.complete
    assert report.mismatched == ['ln1.weight']
    assert len(report.missing) == 12 and all(k.startswith('layers.11.') for k in report.missing)


def test_tool_extracts_backbone_and_reports(tmp_path, checkpoints, capsys):
    src, weights = checkpoints['mae']
    dst = str(tmp_path / 'backbone.pth')
    vit_config = osp.join(ROOT, 'configs/vit/deit-tiny_shoulder-binary.py')
    # The classifier config is at 224 px: the 64-px position embedding is resized on load.
    assert _tool('model_converters/mim2backbone.py', src, dst, '--config', vit_config,
                 '--strict') == 0
    assert f'loaded {len(weights)}/{len(weights)} backbone tensors (all)' in capsys.readouterr().out
    saved = torch.load(dst)['state_dict']
    assert set(saved) == {f'backbone.{k}' for k in weights}
    spark_src, _ = checkpoints['spark']
    assert _tool('model_converters/mim2backbone.py', spark_src, dst, '--config', vit_config,
                 '--strict') == 2
    out = capsys.readouterr()
    assert 'missing (' in out.out
    assert out.err.strip().startswith('error: ')

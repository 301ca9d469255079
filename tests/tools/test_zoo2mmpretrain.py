"""Weights from torchvision / timm / Hugging Face: converted modules reproduce the source models.

The source models are built with random weights by their own libraries (nothing is downloaded);
every parameter and buffer is perturbed so that a mis-mapped tensor cannot hide behind an
initial value (e.g. BatchNorm running statistics of 0 and 1).
"""
import os.path as osp
import runpy
import sys
from unittest import mock

import pytest
import torch
import torchvision
from mmengine.config import Config
from mmpretrain.registry import MODELS

from osteo_mm.models import zoo_converters as zoo
from osteo_mm.models.converters import backbone_state_dict, check_load

timm_vit = pytest.importorskip('timm.models.vision_transformer')
transformers = pytest.importorskip('transformers')

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEIT_T = osp.join(ROOT, 'configs/vit/deit-tiny_shoulder-binary.py')


def _tool(*args):
    script = osp.join(ROOT, 'tools/model_converters/zoo2mmpretrain.py')
    with mock.patch.object(sys, 'argv', [script, *map(str, args)]):
        try:
            runpy.run_path(script, run_name='__main__')
        except SystemExit as exit_:
            return exit_.code
    return 0


def randomized(model, seed=0):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith('running_var'):
                tensor.mul_(0.5 + torch.rand(tensor.shape, generator=gen))
            elif tensor.is_floating_point():
                tensor.add_(0.02 * torch.randn(tensor.shape, generator=gen))
    return model


@pytest.mark.parametrize('depth', [18, 50])  # 34 shares 18's BasicBlock path
def test_torchvision_resnet_parity_through_the_tool(tmp_path, depth, capsys):
    src = randomized(getattr(torchvision.models, f'resnet{depth}')(weights=None))
    torch.save(src.state_dict(), tmp_path / 'tv.pth')
    assert _tool('torchvision-resnet', tmp_path / 'tv.pth', tmp_path / 'out.pth') == 0
    assert 'parity OK' in capsys.readouterr().out
    weights = backbone_state_dict(torch.load(tmp_path / 'out.pth'))
    report = check_load(MODELS.build(dict(type='ResNet', depth=depth)), weights)
    assert report.complete and not report.unexpected


def test_resnet_parity_catches_a_swapped_tensor():
    state = randomized(torchvision.models.resnet18(weights=None)).state_dict()
    converted = zoo.convert_torchvision_resnet(state)
    assert zoo.check_torchvision_resnet(state, converted, img_size=32).max_abs_diff <= 1e-5
    converted['layer2.0.bn1.running_var'] = converted['layer2.0.bn2.running_var']
    assert not zoo.check_torchvision_resnet(state, converted, img_size=32).ok


def test_not_a_resnet_is_refused_naming_the_file(tmp_path, capsys):
    torch.save({'encoder.weight': torch.zeros(2)}, tmp_path / 'other.pth')
    assert _tool('torchvision-resnet', tmp_path / 'other.pth', tmp_path / 'out.pth') == 2
    err = capsys.readouterr().err
    assert 'other.pth' in err and "unexpected keys ['encoder.weight']" in err
    assert not (tmp_path / 'out.pth').exists()


def _timm_deit_t(pool, num_classes):
    torch.manual_seed(0)
    return randomized(timm_vit.VisionTransformer(
        img_size=32, patch_size=16, embed_dim=192, depth=12, num_heads=3,
        num_classes=num_classes, global_pool=pool, fc_norm=pool == 'avg'))


@pytest.mark.parametrize('pool, num_classes', [('token', 2), ('avg', 0)])
def test_timm_vit_parity_and_fine_tuning_load(tmp_path, pool, num_classes, capsys):
    # 'token': DeiT/ViT; 'avg' + fc_norm: how MAE fine-tuned ViTs pool.
    from safetensors.torch import save_file
    save_file(_timm_deit_t(pool, num_classes).state_dict(), tmp_path / 'vit.safetensors')
    assert _tool('timm-vit', tmp_path / 'vit.safetensors', tmp_path / 'out.pth',
                 '--arch', 'deit-t', '--img-size', 32) == 0
    assert 'parity OK' in capsys.readouterr().out
    # The docs' recipe: a deit-t classifier at another image size takes every tensor.
    cfg = Config.fromfile(DEIT_T)
    cfg.model.backbone.pop('init_cfg', None)
    if pool == 'avg':  # docs/experiments.md: fc_norm checkpoints pool like MAE fine-tuning
        cfg.model.backbone.update(out_type='avg_featmap', final_norm=False)
    backbone = MODELS.build(cfg.model).backbone
    report = check_load(backbone, backbone_state_dict(torch.load(tmp_path / 'out.pth')))
    assert report.complete and not report.unexpected, report.summary()


def test_timm_vit_parity_catches_a_transposed_qkv():
    state = _timm_deit_t('token', 0).state_dict()
    converted = zoo.convert_timm_vit(state)
    q, k, v = converted['layers.3.attn.qkv.weight'].chunk(3)
    converted['layers.3.attn.qkv.weight'] = torch.cat([k, q, v])
    assert not zoo.check_timm_vit(state, converted, 'deit-t', 32).ok


def test_timm_wrong_image_size_is_a_one_line_error(tmp_path, capsys):
    torch.save(_timm_deit_t('token', 0).state_dict(), tmp_path / 'vit.pth')
    assert _tool('timm-vit', tmp_path / 'vit.pth', tmp_path / 'out.pth', '--arch', 'deit-t') == 2
    err = capsys.readouterr().err
    assert ('vit.pth: weights do not fit a timm ViT deit-t with patch 16 at 224 px: pos_embed '
            'has 5 tokens, not 197 (--img-size 32?)') in err
    assert len(err.strip().splitlines()) == 1


def test_timm_distilled_deit_is_refused():
    state = dict(_timm_deit_t('token', 0).state_dict(), dist_token=torch.zeros(1, 1, 192))
    with pytest.raises(zoo.ConversionError, match='dist_token.*distilled DeiT'):
        zoo.convert_timm_vit(state)


def _hf_mae():
    config = transformers.ViTMAEConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        image_size=32, patch_size=8, decoder_hidden_size=16, decoder_num_hidden_layers=1,
        decoder_num_attention_heads=2, decoder_intermediate_size=32, mask_ratio=0.75)
    torch.manual_seed(0)
    return randomized(transformers.ViTMAEForPreTraining(config))


def test_hf_vitmae_parity_through_the_tool(tmp_path, capsys):
    _hf_mae().save_pretrained(tmp_path / 'hf')
    assert _tool('hf-vitmae', tmp_path / 'hf', tmp_path / 'mae.pth') == 0
    assert 'parity OK' in capsys.readouterr().out
    state = torch.load(tmp_path / 'mae.pth')['state_dict']
    mae = zoo.build_mmpretrain_mae(transformers.ViTMAEConfig.from_pretrained(tmp_path / 'hf'))
    missing, unexpected = mae.load_state_dict(state, strict=False)
    assert not missing and not unexpected


def test_hf_vitmae_parity_catches_a_decoder_error():
    source = _hf_mae()
    converted = zoo.convert_hf_vitmae(source.state_dict())
    report, _ = zoo.check_hf_vitmae(source, converted)
    assert report.ok
    converted['neck.decoder_pos_embed'] = converted['neck.decoder_pos_embed'].flip(1)
    assert not zoo.check_hf_vitmae(source, converted)[0].ok


def test_hf_folder_without_config_is_refused(tmp_path, capsys):
    assert _tool('hf-vitmae', tmp_path, tmp_path / 'mae.pth') == 2
    assert 'not a Hugging Face model folder' in capsys.readouterr().err

"""load_classifier must normalise inputs exactly as training (MMEngine's Runner) did.

Regression: before the fix, a top-level ``data_preprocessor`` (where the dataset base configs
and the phantom-validation configs put mean/std) was ignored, so analyses fed raw 0-255 pixels
to a model trained on normalised ones (saturated log-odds of several hundred, AUC at chance).
"""
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import osteo_mm  # noqa: F401
from osteo_mm.explain.analysis import load_classifier

MODEL = dict(type='ImageClassifier', backbone=dict(type='ResNet', depth=18),
             neck=dict(type='GlobalAveragePooling'),
             head=dict(type='LinearClsHead', num_classes=2, in_channels=512))


def _checkpoint(path) -> str:
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    torch.save(dict(state_dict=MODELS.build(dict(MODEL)).state_dict()), str(path))
    return str(path)


def _logits(model, raw: torch.Tensor) -> torch.Tensor:
    data = model.data_preprocessor(dict(inputs=list(raw)), False)
    with torch.no_grad():
        return model(data['inputs'], mode='tensor')


def _reference_logits(model, raw: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """Oracle: the same weights on inputs normalised by hand."""
    with torch.no_grad():
        return model(((raw.float() - mean) / std), mode='tensor')


def test_top_level_data_preprocessor_is_applied(tmp_path):
    ckpt = _checkpoint(tmp_path / 'm.pth')
    cfg = Config(dict(model=dict(MODEL), default_scope='mmpretrain',
                      data_preprocessor=dict(num_classes=2, mean=[127.5] * 3, std=[64.0] * 3)))
    model, _ = load_classifier(cfg, ckpt)
    raw = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator()
                        .manual_seed(1))
    got = _logits(model, raw)
    torch.testing.assert_close(got, _reference_logits(model, raw, 127.5, 64.0))
    # Unnormalised inputs give clearly different scores: the test can fail.
    assert not torch.allclose(got, _reference_logits(model, raw, 0.0, 1.0), atol=1e-2)


def test_model_level_data_preprocessor_wins_as_in_the_runner(tmp_path):
    ckpt = _checkpoint(tmp_path / 'm.pth')
    cfg = Config(dict(model=dict(MODEL, data_preprocessor=dict(num_classes=2, mean=[100.0] * 3,
                                                                std=[50.0] * 3)),
                      default_scope='mmpretrain',
                      data_preprocessor=dict(num_classes=2, mean=[127.5] * 3, std=[64.0] * 3)))
    model, _ = load_classifier(cfg, ckpt)
    raw = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator()
                        .manual_seed(2))
    torch.testing.assert_close(_logits(model, raw), _reference_logits(model, raw, 100.0, 50.0))

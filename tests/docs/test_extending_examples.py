"""The code in docs/extending.md runs as documented (a proxy task and a metric)."""
import os
import os.path as osp
import re
import sys

import numpy as np
import torch
from mmengine.config import Config
from mmpretrain.registry import METRICS, MODELS
from mmpretrain.structures import DataSample
from sklearn.metrics import brier_score_loss
from tool_runner import ROOT

import osteo_mm  # noqa: F401


def _doc_blocks() -> dict:
    text = open(osp.join(ROOT, 'docs', 'extending.md')).read()
    blocks = re.findall(r'```python\n(.*?)```', text, flags=re.S)
    named = {}
    for block in blocks:
        first = block.splitlines()[0]
        if first.startswith('# ') and '/' in first:
            named[first[2:].strip()] = block
    return named


def _install_project(tmp_path) -> dict:
    blocks = _doc_blocks()
    for rel in ('my_project/flip.py', 'my_project/brier.py',
                'configs/my_project/flip_resnet18_phantom-shoulder.py'):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(blocks[rel])
    (tmp_path / 'my_project' / '__init__.py').write_text('')
    os.symlink(osp.join(ROOT, 'configs', '_base_'), tmp_path / 'configs' / '_base_')
    sys.path.insert(0, str(tmp_path))
    return blocks


def test_flip_prediction_example_trains_one_step(tmp_path):
    _install_project(tmp_path)
    try:
        cfg = Config.fromfile(
            str(tmp_path / 'configs' / 'my_project' / 'flip_resnet18_phantom-shoulder.py'))
        import my_project.flip  # noqa: F401  (what custom_imports does)
        model = MODELS.build(cfg.model)
    finally:
        sys.path.remove(str(tmp_path))
    images = torch.rand(3, 3, 32, 32)
    captured = {}
    original = model.head.loss

    def spy(feats, labels):
        captured['labels'] = labels
        return original(feats, labels)

    model.head.loss = spy
    losses = model.loss(images)
    losses['loss'].backward()
    assert captured['labels'].tolist() == [0, 0, 0, 1, 1, 1]
    assert model.backbone.conv1.weight.grad is not None
    assert abs(losses['loss'].item() - np.log(2)) < 1.0


def test_brier_score_example_matches_sklearn(tmp_path):
    _install_project(tmp_path)
    try:
        import my_project.brier  # noqa: F401
    finally:
        sys.path.remove(str(tmp_path))
    rng = np.random.default_rng(0)
    probs, labels = rng.random(50), rng.integers(0, 2, 50)
    samples = [DataSample().set_pred_score(torch.tensor([1 - p, p])).set_gt_label(int(y))
               .to_dict() for p, y in zip(probs, labels)]
    metric = METRICS.build(dict(type='BrierScore'))
    metric.process(None, samples)
    result = metric.evaluate(len(samples))
    assert np.isclose(result['brier/score'], brier_score_loss(labels, probs))

"""No config evaluates its test loop on the validation data (nothing is chosen on test, and
nothing reported as test was seen by checkpoint selection)."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

ROOT = osp.join(osp.dirname(__file__), '..', '..', 'configs')
# Leaf configs and the dataset bases. (A leaf's `test_dataloader = val_dataloader` is merged by
# MMEngine onto the base's test loader, so it keeps the test split; a base's would not.)
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, '**', '*.py'), recursive=True)
                 if '_base_' not in p or '_base_/datasets' in p)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_test_loop_does_not_read_the_validation_data(path):
    cfg = Config.fromfile(path)
    val, test = cfg.get('val_dataloader'), cfg.get('test_dataloader')
    if not val or not test:
        return
    assert test.dataset.to_dict() != val.dataset.to_dict(), f'{path}: test loop = val loop'

"""Research-scale switches of the thin tools: prepare_xray --format array, train --compile."""
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool(rel):
    spec = importlib.util.spec_from_file_location(osp.basename(rel)[:-3], osp.join(ROOT, rel))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prepare_xray_format_array(tmp_path, capsys, monkeypatch):
    tool = _tool('tools/dataset_converters/prepare_xray.py')
    (tmp_path / 'src').mkdir()
    for i in range(3):
        cv2.imwrite(str(tmp_path / 'src' / f'{i}.png'), np.full((40, 30 + i), 9 * i, np.uint8))
    monkeypatch.setattr('sys.argv', ['prepare_xray.py', '--format', 'array', '--max-side', '32',
                                     '--shard-size', '2', '--no-progress',
                                     str(tmp_path / 'src'), str(tmp_path / 'cache')])
    tool.main()
    assert 'converted: 3' in capsys.readouterr().out
    assert np.load(tmp_path / 'cache' / 'images_00001.npy').shape == (1, 32, 32)
    with pytest.raises(SystemExit) as err:  # bad input: one line, exit code 2
        monkeypatch.setattr('sys.argv', ['prepare_xray.py', '--format', 'array',
                                         str(tmp_path / 'missing'), str(tmp_path / 'c2')])
        tool.main()
    assert err.value.code == 2
    assert 'missing' in capsys.readouterr().err


def test_train_compile_flag_sets_mmengine_compile():
    tool = _tool('tools/train.py')
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper'), auto_scale_lr=dict(enable=False),
                      train_dataloader=dict(num_workers=0)))
    out = tool.merge_args(cfg.copy(), tool.parse_args(['x.py', '--compile']))
    assert out.compile is True
    assert tool.merge_args(cfg.copy(), tool.parse_args(['x.py'])).get('compile') is None

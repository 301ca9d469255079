"""dataset_stats: counts per split, class, view and patient from a config, printed and as CSV."""
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).parents[2]
TOOL = ROOT / 'tools' / 'analysis' / 'dataset_stats.py'
CONFIG = ROOT / 'configs' / '_base_' / 'datasets' / 'shoulder_xray_who3.py'


def load_tool():
    spec = importlib.util.spec_from_file_location('dataset_stats_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_counts_from_a_config(tmp_path, capsys):
    (tmp_path / 'labels.csv').write_text(
        'image,patient_id,label,view,split\n'
        'a.png,P1,osteoporosis,AP,train\nb.png,P1,osteoporosis,Y,train\n'
        'c.png,P2,normal,AP,train\nd.png,P3,osteopenia,AP,val\n')
    out = tmp_path / 'stats.csv'
    load_tool().main.__wrapped__([str(CONFIG), '--splits', 'train', 'val', '--out', str(out),
                                  '--cfg-options', f'data_root={tmp_path}'])
    assert 'osteoporosis' in capsys.readouterr().out
    table = pd.read_csv(out).set_index(['split', 'group', 'key'])
    assert table.loc[('train', 'total', 'all')].tolist() == [3, 2]
    assert table.loc[('train', 'class', 'osteoporosis')].tolist() == [2, 1]
    assert table.loc[('train', 'class', 'osteopenia')].tolist() == [0, 0]
    assert table.loc[('train', 'view', 'AP')].tolist() == [2, 2]
    assert table.loc[('val', 'class', 'osteopenia')].tolist() == [1, 1]


def test_missing_dataloader_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr('sys.argv', ['dataset_stats.py', str(CONFIG), '--splits', 'calib'])
    with pytest.raises(SystemExit) as exit_info:
        load_tool().main()
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith('error: config')

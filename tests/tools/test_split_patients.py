"""split_patients: grouped by patient, stratified by label, seeded, no overlap, clear errors."""
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from osteo_mm.datasets.tools import assign_folds, assign_splits

TOOL = Path(__file__).parents[2] / 'tools' / 'dataset_converters' / 'split_patients.py'


def load_tool():
    spec = importlib.util.spec_from_file_location('split_patients_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table(n_patients=60, seed=0):
    """Patients with 1-3 images each; a third of the patients have osteoporosis."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_patients):
        label = ['normal', 'osteopenia', 'osteoporosis'][p % 3]
        rows += [dict(image=f'p{p}_{k}.dcm', patient_id=f'P{p:03d}', label=label)
                 for k in range(rng.integers(1, 4))]
    return pd.DataFrame(rows)


def test_splits_are_patient_disjoint_stratified_and_seeded():
    df = table()
    split = assign_splits(df, 'x.csv', (0.7, 0.15, 0.15), seed=1)
    per_split = {s: set(df.patient_id[split == s]) for s in ('train', 'val', 'test')}
    assert not (per_split['train'] & per_split['val'] or per_split['train'] & per_split['test']
                or per_split['val'] & per_split['test'])
    assert sum(map(len, per_split.values())) == 60
    assert 36 <= len(per_split['train']) <= 48 and len(per_split['test']) >= 6
    for s in ('train', 'test'):  # every class is represented in each split
        assert set(df.label[split == s]) == {'normal', 'osteopenia', 'osteoporosis'}
    assert split.equals(assign_splits(df, 'x.csv', (0.7, 0.15, 0.15), seed=1))
    assert not split.equals(assign_splits(df, 'x.csv', (0.7, 0.15, 0.15), seed=2))


def test_folds_cover_every_patient_once():
    df = table()
    folds = assign_folds(df, 'x.csv', 5)
    assert sorted(folds.unique()) == [0, 1, 2, 3, 4]
    for k in range(5):
        assert set(df.label[folds == k]) == {'normal', 'osteopenia', 'osteoporosis'}
    assert (pd.Series(folds).groupby(df.patient_id).nunique() == 1).all()


def test_cli_writes_split_files_and_refuses_to_overwrite(tmp_path, capsys, monkeypatch):
    ann = tmp_path / 'labels.csv'
    table().to_csv(ann, index=False)
    tool = load_tool()
    tool.main.__wrapped__([str(ann), '--out-dir', str(tmp_path / 'out'), '--add-column',
                           str(tmp_path / 'with_split.csv')])
    assert 'patient overlap between splits: none' in capsys.readouterr().out
    parts = [pd.read_csv(tmp_path / 'out' / f'{s}.csv') for s in ('train', 'val', 'test')]
    assert sum(len(p) for p in parts) == len(table())
    assert set(pd.read_csv(tmp_path / 'with_split.csv')['split']) == {'train', 'val', 'test'}
    monkeypatch.setattr('sys.argv', ['split_patients.py', str(ann), '--out-dir',
                                     str(tmp_path / 'out')])
    with pytest.raises(SystemExit) as exit_info:
        tool.main()
    assert exit_info.value.code == 2
    assert 'error: output file(s) exist' in capsys.readouterr().err


def test_cli_reports_a_bad_label_on_one_line(tmp_path, capsys, monkeypatch):
    ann = tmp_path / 'labels.csv'
    ann.write_text('image,patient_id,label\na.dcm,P1,normal\nb.dcm,P2,brittle\n')
    monkeypatch.setattr('sys.argv', ['split_patients.py', str(ann), '--out-dir', str(tmp_path)])
    with pytest.raises(SystemExit):
        load_tool().main()
    err = capsys.readouterr().err
    assert err.startswith('error: ') and "line 3: 'brittle'" in err and err.count('\n') == 1

"""tools/analysis/roi_intervention.py on the tiny X-ray set of the Grad-CAM tool tests."""
import json

import numpy as np
import pandas as pd
from test_gradcam import run_main, write_checkpoint, write_config

from osteo_mm.explain.intervention import CSV_COLUMNS


def test_tool_writes_table_and_summary_and_resumes(tmp_path, monkeypatch, capsys):
    config = write_config(tmp_path)
    ckpt = write_checkpoint(config, str(tmp_path / 'model.pth'))
    out = tmp_path / 'out'
    args = [config, ckpt, '--out-dir', out, '--controls', '2', '--n-boot', '50',
            '--anatomy', 'all']
    assert run_main('analysis/roi_intervention.py', args, monkeypatch) == 0
    table = pd.read_csv(out / 'roi_intervention.csv')
    assert list(table.columns) == list(CSV_COLUMNS)
    assert table['img_id'].tolist() == [f'patient{i}/shoulder.png' for i in range(5)]
    # The last image has no ROI: no effect, counted, not dropped.
    assert np.isnan(table['roi_effect'].iloc[-1]) and table['roi_effect'].iloc[:4].notna().all()
    # A 23x32 px ROI in a 64 px input leaves no room for a control beside it on some films.
    placed = table['n_controls'].iloc[:4]
    assert placed.isin([0, 2]).all() and (placed == 2).any()
    assert table['control_effect'].iloc[:4].isna().tolist() == (placed == 0).tolist()
    summary = json.loads((out / 'roi_intervention_summary.json').read_text())
    assert summary['n_no_region'] == 1 and summary['n_no_controls'] == int((placed == 0).sum())
    assert summary['n_patients'] == int((placed == 2).sum())
    assert summary['fill'] == 'blur' and summary['unit'] == 'patient'
    # A rerun finds every image journalled and gives the same table; other settings refused.
    assert run_main('analysis/roi_intervention.py', args, monkeypatch) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / 'roi_intervention.csv'), table)
    capsys.readouterr()
    assert run_main('analysis/roi_intervention.py', args + ['--fill', 'mean'], monkeypatch) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'fill' in err[0]


def test_reference_fill_needs_a_phantom(tmp_path, monkeypatch, capsys):
    config = write_config(tmp_path)
    ckpt = write_checkpoint(config, str(tmp_path / 'model.pth'))
    code = run_main('analysis/roi_intervention.py',
                    [config, ckpt, '--out-dir', tmp_path / 'o', '--fill', 'reference'],
                    monkeypatch)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and 'reference' in err[0]

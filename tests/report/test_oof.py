"""Out-of-fold predictions as compare_models inputs; calibration parts of the report."""
import numpy as np
import pandas as pd
import pytest

from osteo_mm.report import RecordError, compare_models
from osteo_mm.report.oof import load_oof_predictions


def write_oof(path, seed=0, n=40, repeats=2, fold_seed=0, shift=0.0):
    """Synthetic oof_preds.csv: 2 images per patient, folds by patient, per-fold thresholds."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 3 == 0).astype(int)
    rows = []
    for r in range(repeats):
        folds = np.random.default_rng(fold_seed + r).integers(0, 3, n // 2).repeat(2)
        for i in range(n):
            p = float(np.clip(0.3 + shift * y[i] + rng.normal(0, 0.2), 0.01, 0.99))
            rows.append(dict(img_id=f'img{i:03d}', patient_id=f'P{i // 2}', gt_label=y[i],
                             pred_label=int(p >= 0.5), pred_score=max(p, 1 - p),
                             prob_not_osteoporosis=1 - p, prob_osteoporosis=p,
                             threshold=0.3 + 0.05 * folds[i], repeat=r, fold=folds[i]))
    pd.DataFrame(rows).to_csv(path, index=False)
    return pd.DataFrame(rows)


def test_repeat_averaged_and_single_repeat_views(tmp_path):
    frame = write_oof(tmp_path / 'a.csv')
    avg = load_oof_predictions(str(tmp_path / 'a.csv'))
    mean = frame.groupby('img_id')['prob_osteoporosis'].mean().sort_index()
    assert np.allclose(avg.score, mean.to_numpy())
    thr = frame.groupby('img_id')['threshold'].mean().sort_index().to_numpy()
    assert (avg.y_pred == (avg.score >= thr)).all()
    one = load_oof_predictions(str(tmp_path / 'a.csv'), repeat=1)
    part = frame[frame['repeat'] == 1].sort_values('img_id')
    # each image called at its own fold's threshold
    assert (one.y_pred == (part['prob_osteoporosis'] >= part['threshold']).to_numpy()).all()
    with pytest.raises(RecordError, match='no repeat 5'):
        load_oof_predictions(str(tmp_path / 'a.csv'), repeat=5)


def test_incomplete_repeat_is_an_error(tmp_path):
    frame = write_oof(tmp_path / 'a.csv')
    frame.iloc[1:].to_csv(tmp_path / 'bad.csv', index=False)
    with pytest.raises(RecordError, match='exactly once'):
        load_oof_predictions(str(tmp_path / 'bad.csv'))


def test_compare_models_accepts_oof_files_sharing_folds(tmp_path):
    write_oof(tmp_path / 'scratch.csv', seed=1)
    write_oof(tmp_path / 'spark.csv', seed=2, shift=0.3)
    out = tmp_path / 'report'
    written = compare_models([str(tmp_path / 'scratch.csv'), str(tmp_path / 'spark.csv')],
                             str(out), n_boot=50)
    html = open(written['html']).read()
    assert 'OUT-OF-FOLD' in html
    assert 'Decision curve' in html and 'Reliability diagram' in html
    table = pd.read_csv(written['calibration_csv'], index_col=0)
    assert set(table.index) == {'scratch', 'spark'}
    assert {'brier', 'calibration_slope', 'calibration_intercept', 'ece'} <= set(table.columns)
    write_oof(tmp_path / 'other.csv', seed=3, fold_seed=7)
    with pytest.raises(RecordError, match='different folds'):
        compare_models([str(tmp_path / 'scratch.csv'), str(tmp_path / 'other.csv')],
                       str(tmp_path / 'r2'), n_boot=50)

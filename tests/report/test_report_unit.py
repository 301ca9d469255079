import json

import numpy as np
import pandas as pd

from osteo_mm.report.compare import compare_models


def write_predictions(tmp_path, patients):
    """Two models on 40 images; ``patients`` maps image index -> patient id."""
    rng = np.random.default_rng(0)
    y = (np.arange(40) // 4) % 2  # both images of a patient share the label
    paths = []
    for name, strength in (('cnn', 2.0), ('vit', 0.7)):
        p = 1 / (1 + np.exp(-(2 * y - 1) * strength - rng.normal(0, 1, 40)))
        pd.DataFrame(dict(img_id=[f'img{i:03d}' for i in range(40)],
                          patient_id=[patients(i) for i in range(40)], gt_label=y,
                          pred_label=(p >= 0.5).astype(int), pred_score=np.maximum(p, 1 - p),
                          prob_not_osteoporosis=1 - p, prob_osteoporosis=p)).to_csv(
                              tmp_path / f'{name}.csv', index=False)
        paths.append(str(tmp_path / f'{name}.csv'))
    return paths


def test_report_states_unit_patients_and_images(tmp_path):
    paths = write_predictions(tmp_path, lambda i: f'P{i // 2:02d}')
    written = compare_models(paths, str(tmp_path / 'out'), n_boot=20)
    report = open(written['markdown']).read()
    assert 'Unit of analysis: the patient (20 patients, 40 images' in report
    assert 'clustered by patient when a patient has several images' in report
    assert 'treats images as independent' not in report
    metrics = pd.read_csv(written['metrics_csv'], index_col=0)
    assert set(metrics['n_patients']) == {20} and set(metrics['n_images']) == {40}
    assert set(metrics['unit']) == {'patient'}
    pairwise = json.load(open(written['pairwise_json']))
    tests = {row['metric']: row['test'] for row in pairwise}
    assert tests == {'auc': 'delong-obuchowski1997', 'accuracy': 'mcnemar-obuchowski1998'}
    assert all(row['n_patients'] == 20 and row['n_images'] == 40 for row in pairwise)


def test_report_without_patient_ids_says_images_are_the_unit(tmp_path):
    paths = write_predictions(tmp_path, lambda i: '')
    written = compare_models(paths, str(tmp_path / 'out'), n_boot=20)
    report = open(written['markdown']).read()
    assert 'Unit of analysis: the image (40 images; the predictions carry no patient id' in report
    tests = {row['metric']: row['test'] for row in json.load(open(written['pairwise_json']))}
    assert tests['auc'] == 'delong' and tests['accuracy'].startswith('mcnemar-')

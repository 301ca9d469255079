import importlib.util
import json
import os.path as osp
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
spec = importlib.util.spec_from_file_location(
    'compare_models_tool', osp.join(ROOT, 'tools', 'analysis', 'compare_models.py'))
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)


def run_tool(monkeypatch, *args):
    monkeypatch.setattr(sys, 'argv', ['compare_models.py', *map(str, args)])
    tool.main()


@pytest.fixture
def records(tmp_path):
    """Two models on 40 images of 20 patients, with causality files and overlay PNGs."""
    rng = np.random.default_rng(0)
    ids = [f'shoulder/{i:03d}.dcm' for i in range(40)]
    y = np.arange(40) % 2
    paths = dict(preds=[], cams=[], dirs=[])
    for name, strength in (('cnn', 3.0), ('vit', 0.5)):
        p = 1 / (1 + np.exp(-(2 * y - 1) * strength - rng.normal(0, 1, 40)))
        pd.DataFrame(dict(img_id=ids, patient_id=[f'PSEUDO{i // 2:02d}' for i in range(40)],
                          gt_label=y, pred_label=(p >= 0.5).astype(int),
                          pred_score=np.maximum(p, 1 - p), prob_not_osteoporosis=1 - p,
                          prob_osteoporosis=p)).to_csv(tmp_path / f'{name}.csv', index=False)
        cam_dir = tmp_path / f'{name}_cam'
        (cam_dir / 'vis' / 'shoulder').mkdir(parents=True)
        pd.DataFrame(dict(img_id=ids, method='gradcam', target_class=1,
                          roi_area_share=0.2, energy_pointing_game=rng.random(40),
                          pointing_game=rng.integers(0, 2, 40), iou_otsu=rng.random(40))).to_csv(
                              cam_dir / 'causality.csv', index=False)
        for img_id in ids[:30]:  # like gradcam.py --num-vis 30: not every image has an overlay
            Image.new('RGB', (96, 32), (200, 30, 30)).save(cam_dir / 'vis' / f'{img_id}.png')
        paths['preds'].append(tmp_path / f'{name}.csv')
        paths['cams'].append(cam_dir / 'causality.csv')
        paths['dirs'].append(cam_dir)
        prior_dir = tmp_path / f'{name}_priors'
        random_dir = prior_dir / 'random_weights'
        random_dir.mkdir(parents=True)
        pd.DataFrame(dict(img_id=ids, method='gradcam', target_class=1, roi_area_share=0.2,
                          energy_pointing_game=0.2 + 0.05 * rng.random(40),
                          pointing_game=rng.integers(0, 2, 40), iou_otsu=0.1)).to_csv(
                              random_dir / 'causality.csv', index=False)
        paths.setdefault('priors', []).append(prior_dir)
        for prior, level in (('uniform', 0.2), ('centre', 0.3), ('dataset_roi', 0.45)):
            pd.DataFrame(dict(img_id=ids, method=prior, target_class=-1, roi_area_share=0.2,
                              energy_pointing_game=level, pointing_game=level,
                              iou_otsu=level)).to_csv(prior_dir / f'{prior}.csv', index=False)
        effects = tmp_path / f'{name}_roi.csv'
        pd.DataFrame(dict(img_id=ids, patient_id=[f'PSEUDO{i // 2:02d}' for i in range(40)],
                          target_class=1, roi_effect=strength + rng.normal(0, 0.3, 40),
                          control_effect=rng.normal(0, 0.3, 40))).to_csv(effects, index=False)
        paths.setdefault('effects', []).append(effects)
    return paths


def test_report_tool_writes_every_output(tmp_path, monkeypatch, records, capsys):
    out = tmp_path / 'report'
    run_tool(monkeypatch, '--preds', *records['preds'], '--names', 'CNN', 'ViT',
             '--cam', *records['cams'], '--images-dir', *records['dirs'], '--out', out,
             '--n-boot', 30, '--priors', *records['priors'], '--roi-effects', *records['effects'])
    assert 'report.html' in capsys.readouterr().out
    expected = ['metrics.csv', 'metrics.json', 'pairwise.csv', 'pairwise.json', 'ranking.csv',
                'ranking.json', 'baselines.csv', 'baselines.json', 'roi_effects.csv',
                'roi_effects.json', 'report.md', 'report.html', 'roc.png', 'calibration.png',
                'causality.png', 'gallery.png', 'reliability.png', 'decision_curve.png',
                'calibration.csv']
    for name in expected:
        assert (out / name).stat().st_size > 0, name
    for png in ('roc.png', 'gallery.png'):
        assert Image.open(out / png).size[0] > 100

    metrics = json.loads((out / 'metrics.json').read_text())
    assert set(metrics) == {'CNN', 'ViT'} and metrics['CNN']['auc'] > metrics['ViT']['auc']
    pairwise = pd.read_csv(out / 'pairwise.csv')
    # roi_area_share describes the expert ROI, not the model: reported but not tested.
    assert metrics['CNN']['cam_roi_area_share'] == pytest.approx(0.2)
    assert set(pairwise['metric']) == {'auc', 'accuracy', 'cam_energy_pointing_game',
                                       'cam_pointing_game', 'cam_iou_otsu'}
    assert pairwise[['p_value', 'p_holm']].notna().all().all()
    ranking = pd.read_csv(out / 'ranking.csv', index_col=0)
    assert 'lift of energy_pointing_game over its best trivial prior' in ranking['rule'].iloc[0]
    assert 'combined' not in ranking  # nothing adds AUC to an overlap score
    baselines = pd.read_csv(out / 'baselines.csv').set_index(['model', 'score'])
    energy = baselines.loc[('CNN', 'energy_pointing_game')]
    assert energy['best_prior'] == 'dataset_roi'  # uniform 0.2 < centre 0.3 < ROI prior 0.45
    assert energy['lift'] == pytest.approx(energy['model_mean'] - 0.45)
    assert energy['uniform'] == pytest.approx(0.2) and energy['random_weights'] < 0.26
    effects = pd.read_csv(out / 'roi_effects.csv', index_col=0)
    assert effects.loc['CNN', 'difference'] > effects.loc['ViT', 'difference']

    page = (out / 'report.html').read_text()
    # roc, calibration, reliability, decision curve, causality, gallery
    assert page.count('src="data:image/png;base64,') == 6
    summary = page[page.index('<h2>Summary</h2>'):page.index('<h2>Per-model metrics')]
    assert 'CNN ranks first of 2 models' in summary and 'survive' in summary
    assert 'its decision depends causally on the roi' in summary.lower()  # CNN: 3 vs 0
    assert 'dataset ROI prior' in summary and 'randomised-weights copy' in summary
    # One collapsible pairwise table per metric, and every baseline score (iou_otsu is not a
    # key score: it shows only there).
    assert page.count('<details>') == 5 + 1
    main_table = page[page.index('<h2>Causality against chance'):page.index('<details>')]
    assert 'energy_pointing_game' in main_table and 'iou_otsu' not in main_table
    assert page.index('<h2>Summary</h2>') < page.index('<table')  # the summary opens it
    assert 'http://' not in page and 'https://' not in page  # self-contained
    for name in expected:  # pseudonymous patient ids stay out of every output
        assert b'PSEUDO' not in (out / name).read_bytes(), name


def test_rerun_without_cams_replaces_outputs(tmp_path, monkeypatch, records):
    out = tmp_path / 'report'
    run_tool(monkeypatch, '--preds', *records['preds'], '--cam', *records['cams'],
             '--images-dir', *records['dirs'], '--out', out, '--n-boot', 5)
    assert (out / 'causality.png').exists() and (out / 'gallery.png').exists()
    run_tool(monkeypatch, '--preds', *records['preds'], '--out', out, '--n-boot', 20)
    assert not (out / 'causality.png').exists() and not (out / 'gallery.png').exists()
    assert 'ranking by AUC only' in (out / 'report.md').read_text()
    assert 'not assessed' in (out / 'report.md').read_text()  # no ROI intervention given
    assert not list(out.glob('*.tmp'))


@pytest.mark.parametrize('extra, message', [
    (['--names', 'A'], 'got 1 names for 2 predictions files'),
    (['--cam', 'nope.csv', 'nope.csv'], 'file not found: nope.csv'),
    (['--positive-class', 'fracture'], "missing column 'prob_fracture'"),
    (['--priors', 'nope'], "needs the models' causality files"),
])
def test_bad_input_prints_one_line_error(tmp_path, monkeypatch, records, capsys, extra,
                                         message):
    with pytest.raises(SystemExit) as exit_info:
        run_tool(monkeypatch, '--preds', *records['preds'], '--out', tmp_path / 'o', *extra)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: ') and message in err and '\n' not in err

"""The end-to-end demo pipeline at toy scale (tiny phantoms, one epoch per training)."""
import glob
import os.path as osp

import pandas as pd

from osteo_mm.experiments.demo import Demo


def test_demo_runs_end_to_end_and_resumes(tmp_path, capsys):
    demo = Demo(str(tmp_path / 'demo'), scale='toy')
    report = demo.run()
    assert osp.isfile(report) and '<html' in open(report).read().lower()
    page = open(report).read()
    # The report opens with its results summary (toy scale runs no baselines, and says so).
    assert page.index('<h2>Summary</h2>') < page.index('<table')
    assert 'ranks first of 4 models' in page and 'not assessed' in page
    names = ['resnet18_scratch', 'resnet18_spark', 'deit-tiny_scratch', 'deit-tiny_mae']
    for name in names:
        preds = pd.read_csv(demo.path('runs', name, 'preds.csv'))
        assert {'img_id', 'prob_osteoporosis', 'gt_label', 'threshold'} <= set(preds.columns)
        cam = pd.read_csv(demo.path('runs', name, 'cam', 'causality.csv'))
        assert sorted(cam['img_id']) == sorted(preds['img_id'])
    # The fine-tuned models really started from the pre-training checkpoints.
    for name, source in (('resnet18_spark', 'pretrain_spark'), ('deit-tiny_mae', 'pretrain_mae')):
        log = open(demo.path('logs', f'train_{name}.log')).read()
        assert source in log and 'Pretrained' in log
    assert len(glob.glob(demo.path('steps', '*.done'))) == 2 + 2 + 4 * 3 + 1

    capsys.readouterr()
    Demo(str(tmp_path / 'demo'), scale='toy').run()  # a rerun redoes nothing
    out = capsys.readouterr().out
    assert out.count('done earlier, skipped') == 17 and ' s\n' not in out

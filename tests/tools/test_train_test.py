"""tools/train.py, tools/test.py and tools/dist_train.sh on a tiny CPU config."""
import json
import os
import os.path as osp
import re

from tool_runner import ROOT, TINY_CONFIG, run_tool, tiny_options


def _last_val_accuracy(work_dir: str) -> float:
    run = sorted(d for d in os.listdir(work_dir) if re.fullmatch(r'\d{8}_\d{6}', d))
    lines = open(osp.join(work_dir, run[-1], 'vis_data', 'scalars.json')).read().splitlines()
    values = [json.loads(line)['accuracy/top1'] for line in lines if 'accuracy/top1' in line]
    return values[-1]


def test_train_resume_and_test_reproduce_validation(tmp_path, tiny_folder):
    work_dir = str(tmp_path / 'work')
    opts = tiny_options(tiny_folder)
    run_tool(['tools/train.py', TINY_CONFIG, '--work-dir', work_dir] + opts, cwd=ROOT)
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))
    info = json.load(open(osp.join(work_dir, 'run_info.json')))
    assert info['seed'] == 0 and info['versions']['mmpretrain'] == '1.2.0'

    # Auto-resume continues at epoch 3: epochs 1-2 are not trained again.
    proc = run_tool(['tools/train.py', TINY_CONFIG, '--work-dir', work_dir, '--resume']
                    + opts + ['train_cfg.max_epochs=3'], cwd=ROOT)
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 2' in log or 'Load checkpoint from' in log
    assert 'Epoch(train) [3]' in log and 'Epoch(train) [1]' not in log
    val_acc = _last_val_accuracy(work_dir)

    metrics_file = str(tmp_path / 'metrics.json')
    run_tool(['tools/test.py', TINY_CONFIG, osp.join(work_dir, 'epoch_3.pth'), '--work-dir',
              work_dir, '--out-metrics', metrics_file] + opts, cwd=ROOT)
    assert json.load(open(metrics_file))['accuracy/top1'] == val_acc


def test_dist_train_two_cpu_ranks(tmp_path, tiny_folder):
    work_dir = str(tmp_path / 'dist')
    proc = run_tool(['bash', 'tools/dist_train.sh', TINY_CONFIG, '2', '--work-dir', work_dir]
                    + tiny_options(tiny_folder) + ['train_cfg.max_epochs=1'], cwd=ROOT,
                    env={'PORT': '29531'})
    log = proc.stdout + proc.stderr
    assert 'Distributed training: True' in log
    assert json.load(open(osp.join(work_dir, 'run_info.json')))['world_size'] == 2
    # 24 images, batch 4 per rank, 2 ranks -> 3 iterations per epoch on each rank.
    assert 'Epoch(train) [1][3/3]' in log
    checkpoints = sorted(f for f in os.listdir(work_dir) if f.endswith('.pth'))
    assert checkpoints == ['epoch_1.pth']


def test_bad_cli_input_gives_one_line_error(tmp_path):
    bad_cfg = tmp_path / 'bad.py'
    bad_cfg.write_text('model = dict(type="ImageClassifier"\n')
    cases = [
        (['tools/train.py', str(tmp_path / 'missing.py')], 'config file not found'),
        (['tools/train.py', str(bad_cfg)], 'syntax error'),
        (['tools/test.py', TINY_CONFIG, str(tmp_path / 'missing.pth')],
         'checkpoint file not found'),
        (['tools/train.py', TINY_CONFIG, '--resume', str(tmp_path / 'gone.pth')],
         'checkpoint file not found'),
    ]
    for args, message in cases:
        proc = run_tool(args, cwd=ROOT, check=False)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith('error: ') and message in lines[0], lines

"""tools/dataset_converters/make_phantom.py: a thin CLI over the phantom generators."""
import csv
import importlib.util
import os.path as osp
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
_spec = importlib.util.spec_from_file_location(
    'make_phantom', osp.join(ROOT, 'tools', 'dataset_converters', 'make_phantom.py'))
make_phantom = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_phantom)


def test_shoulder_and_chest_commands(tmp_path):
    out = make_phantom.run(['shoulder', '--out', str(tmp_path / 's'), '--num-patients', '8',
                            '--size', '32', '--seed', '1', '--format', 'png',
                            '--shortcut-rate', '1.0', '--shortcut-splits', 'train,val,test',
                            '--no-progress'])
    assert out == str(tmp_path / 's' / 'labels.csv')
    with open(out, newline='') as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 8
    assert {row['marker'] for row in rows} == {'0', '1'}
    # rate 1.0 in every split: the marker is present exactly on the osteoporosis films
    for row in rows:
        assert row['marker'] == str(int(row['label'] == 'osteoporosis'))
    chest = make_phantom.run(['chest', '--out', str(tmp_path / 'c'), '--num-patients', '2',
                              '--size', '32', '--images-per-patient', '2', '--test-ratio', '0.5',
                              '--no-progress'])
    with open(osp.join(tmp_path, 'c', 'test_list.txt')) as file:
        assert len(file.read().split()) == 2
    assert chest.endswith('Data_Entry_2017.csv')


def test_signal_region_is_recorded_and_a_resume_must_match(tmp_path):
    import json

    args = ['shoulder', '--out', str(tmp_path / 's'), '--num-patients', '3', '--size', '32',
            '--format', 'png', '--no-progress']
    make_phantom.run(args + ['--signal-region', 'roi'])
    with open(tmp_path / 's' / 'phantom.json') as file:
        assert json.load(file)['signal_region'] == 'roi'
    make_phantom.run(args + ['--signal-region', 'roi'])  # same settings: resumes (nothing to do)
    with pytest.raises(make_phantom.UserInputError):
        make_phantom.run(args)  # the default 'anatomy' is another run


def test_pose_shift_is_recorded_and_a_resume_must_match(tmp_path):
    import json

    args = ['shoulder', '--out', str(tmp_path / 's'), '--num-patients', '3', '--size', '32',
            '--format', 'png', '--no-progress']
    make_phantom.run(args + ['--pose-shift', '0.2'])
    with open(tmp_path / 's' / 'phantom.json') as file:
        assert json.load(file)['pose_shift'] == 0.2
    with pytest.raises(make_phantom.UserInputError):
        make_phantom.run(args)  # the default shift is another run
    make_phantom.run(args[:2] + [str(tmp_path / 'd')] + args[3:] + ['--pose-shift', '0.06'])
    with open(tmp_path / 'd' / 'phantom.json') as file:
        assert 'pose_shift' not in json.load(file)  # the default is not recorded


@pytest.mark.parametrize('argv, message', [
    (['chest', '--num-patients', '2', '--format', 'png'], '--format: not an option of the chest'),
    (['shoulder', '--num-patients', '2', '--test-ratio', '0.3'], '--test-ratio: not an option'),
    (['shoulder', '--num-patients', '2', '--shortcut-splits', 'train'], 'need --shortcut-rate'),
    (['shoulder', '--num-patients', '0'], '--num-patients must be >= 1'),
    (['shoulder', '--num-patients', '2', '--split-ratios', '0.5,0.5,0.5'], 'summing to 1'),
    (['chest', '--num-patients', '2', '--signal-region', 'roi'], '--signal-region: not an option'),
    (['shoulder', '--num-patients', '2', '--pose-shift', '0.3'], 'must be in [0, 0.25]'),
])
def test_bad_input_is_one_line_error(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.setattr(sys, 'argv', ['make_phantom.py'] + argv + ['--out', str(tmp_path / 'o')])
    with pytest.raises(SystemExit) as exit_info:
        make_phantom.main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: ') and message in err and '\n' not in err

"""No output of the pipeline carries DICOM patient identifiers (issue: reliability/privacy).

Shoulder phantom DICOMs get sentinel PatientName/PatientID/dates/institution; then every tool a
study uses runs on them and every file it writes (CSV, JSON, PNG, NPZ, logs, checkpoints,
reports) is scanned byte-wise for the sentinels.
"""
import glob
import os
import os.path as osp

import pydicom
from tool_runner import ROOT, run_tool

SENTINELS = {
    'PatientName': 'ZZSENTINEL^NAME',
    'PatientID': 'ZZSENTINELPID',
    'PatientBirthDate': '18991231',
    'StudyDate': '18990101',
    'InstitutionName': 'ZZSENTINEL HOSPITAL',
    'ReferringPhysicianName': 'ZZSENTINEL^DOCTOR',
}
CONFIG = osp.join(ROOT, 'configs', 'demo', 'resnet18_phantom-shoulder_demo.py')


def _plant_identifiers(data_root: str) -> int:
    files = [f for f in glob.glob(osp.join(data_root, '**', '*'), recursive=True)
             if osp.isfile(f) and not f.endswith(('.csv', '.png', '.json', '.txt'))]
    count = 0
    for path in files:
        try:
            ds = pydicom.dcmread(path)
        except pydicom.errors.InvalidDicomError:
            continue
        for keyword, value in SENTINELS.items():
            setattr(ds, keyword, value)
        ds.save_as(path)
        count += 1
    return count


def _leaks(folder: str) -> list:
    needles = [v.encode() for v in SENTINELS.values()] + [b'ZZSENTINEL']
    found = []
    for path in glob.glob(osp.join(folder, '**', '*'), recursive=True):
        if osp.isfile(path):
            data = open(path, 'rb').read()
            found += [(path, n) for n in needles if n in data]
    return found


def test_no_dicom_identifier_reaches_any_output(tmp_path):
    data = str(tmp_path / 'shoulder')
    run_tool(['tools/dataset_converters/make_phantom.py', 'shoulder', '--out', data,
              '--num-patients', '24', '--size', '64', '--seed', '3', '--format', 'dicom',
              '--no-progress'], cwd=ROOT)
    assert _plant_identifiers(data) == 24
    out = tmp_path / 'outputs'
    work = str(out / 'run')
    data_opts = [f'{s}_dataloader.dataset.data_root={data}/' for s in ('train', 'val', 'test')]
    small = ['train_cfg.max_epochs=1', 'train_dataloader.batch_size=8',
             'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
             'test_dataloader.num_workers=0']
    run_tool(['tools/train.py', CONFIG, '--work-dir', work, '--cfg-options'] + data_opts + small,
             cwd=ROOT)
    ckpt = open(osp.join(work, 'last_checkpoint')).read().strip()
    for out_file in ('preds.csv', 'preds.json'):
        run_tool(['tools/test.py', CONFIG, ckpt, '--work-dir', work, '--out',
                  osp.join(work, out_file), '--cfg-options'] + data_opts + small, cwd=ROOT)
    cam_dir = str(out / 'cam')
    run_tool(['tools/analysis/gradcam.py', CONFIG, ckpt, '--out-dir', cam_dir, '--num-vis', '4',
              '--cfg-options'] + data_opts + small, cwd=ROOT)
    dicoms = sorted(glob.glob(osp.join(data, 'images', '**', '*.dcm'), recursive=True))[:2]
    run_tool(['tools/predict.py', CONFIG, ckpt] + dicoms + ['--out-dir', str(out / 'predict')],
             cwd=ROOT)
    run_tool(['tools/analysis/compare_models.py', '--preds', osp.join(work, 'preds.csv'),
              '--cam', osp.join(cam_dir, 'causality.csv'), '--images-dir', cam_dir,
              '--out', str(out / 'report'), '--n-boot', '50'], cwd=ROOT)
    run_tool(['tools/analysis/dataset_stats.py', CONFIG, '--out', str(out / 'stats.csv'),
              '--cfg-options'] + data_opts, cwd=ROOT)
    mapping = str(tmp_path / 'private_mapping.csv')
    run_tool(['tools/dataset_converters/prepare_xray.py', data, str(out / 'cache'),
              '--deidentify', '--mapping-file', mapping, '--max-side', '64', '--workers', '1',
              '--no-progress'], cwd=ROOT)

    written = [f for f in glob.glob(str(out / '**' / '*'), recursive=True) if osp.isfile(f)]
    kinds = {osp.splitext(f)[1] for f in written}
    assert {'.csv', '.json', '.png', '.pth', '.log', '.html'} <= kinds, kinds
    assert _leaks(str(out)) == []
    # Sanity check of the scanner itself: the source DICOMs do contain the sentinels.
    assert _leaks(data)
    assert os.path.getsize(mapping) > 0

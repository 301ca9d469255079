"""The base dataset configs build and produce packed samples from tiny fixtures."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import DATASETS
from test_public_datasets import chexpert_csv, nih_root

import osteo_mm  # noqa: F401  (registers the datasets and transforms)

CFG = str(Path(__file__).parents[2] / 'configs' / '_base_' / 'datasets' / '{}.py')


def build(name, loader, root, **overrides):
    cfg = Config.fromfile(CFG.format(name))[loader]['dataset']
    cfg.update(data_root=root, serialize_data=False, **overrides)
    return DATASETS.build(cfg)


def write_images(root, names, shape=(40, 48)):
    rng = np.random.default_rng(0)
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), rng.integers(0, 255, shape, dtype=np.uint8))


@pytest.mark.parametrize('name, classes', [('shoulder_xray', 2), ('shoulder_xray_who3', 3)])
def test_shoulder_configs_pack_image_and_roi(tmp_path, name, classes):
    write_images(tmp_path, ['a.png', 'b.png', 'c.png'])
    (tmp_path / 'labels.csv').write_text(
        'image,patient_id,t_score,roi_bbox,split\n'
        'a.png,p1,-3.1,"2,2,44,36",train\nb.png,p2,-1.5,,val\nc.png,p3,0.2,,test\n')
    cfg = Config.fromfile(CFG.format(name))
    assert cfg.data_preprocessor.num_classes == classes
    sample = build(name, 'train_dataloader', str(tmp_path))[0]
    assert sample['inputs'].shape == (3, 224, 224)
    ds = sample['data_samples']
    # The box leaves a 2 px border of the 48 x 40 film, so no random crop (area >= 8 %) can miss
    # it: the check below is deterministic (a small box made it fail in about 1 run of 5).
    assert ds.has_roi and ds.roi_mask.shape == (224, 224) and ds.roi_mask.any()
    val = build(name, 'val_dataloader', str(tmp_path))[0]['data_samples']
    assert not val.has_roi and val.gt_label.item() == (0 if classes == 2 else 1)


def test_nih_config_packs_multilabel_targets_and_expert_boxes(tmp_path):
    root = nih_root(tmp_path)
    write_images(tmp_path / 'images', ['00000002_000.png', '00000003_000.png'])
    sample = build('nih_cxr14', 'test_dataloader', root)[1]
    ds = sample['data_samples']
    assert ds.gt_score.shape == (14, ) and ds.gt_score[[0, 13]].tolist() == [1, 1]
    assert ds.has_roi and ds.roi_mask.dtype == torch.uint8


def test_chexpert_config_uses_frontal_views(tmp_path):
    root = chexpert_csv(tmp_path)
    write_images(tmp_path, ['train/patient00001/study1/view1_frontal.jpg',
                            'train/patient00002/study2/view1_frontal.jpg'])
    (tmp_path / 'valid.csv').write_text((tmp_path / 'train.csv').read_text())
    ds = build('chexpert', 'test_dataloader', root)
    assert len(ds) == 2 and ds[1]['inputs'].shape == (3, 224, 224)


def _patients(ds):
    return {ds.get_data_info(i)['patient_id'] for i in range(len(ds))}


def test_nih_config_validates_on_a_patient_holdout_and_tests_on_test_list_only(tmp_path):
    # 40 patients with 1-3 images; the official lists put 30 in train_val, 10 in test.
    rows, trainval, test = [], [], []
    for p in range(1, 41):
        for k in range(1 + p % 3):
            name = f'{p:08d}_{k:03d}.png'
            rows.append(f'{name},No Finding,{k},{p},050Y,F,PA,1,1,0.1,0.1')
            (trainval if p <= 30 else test).append(name)
    root = nih_root(tmp_path, rows=rows)
    (tmp_path / 'images').mkdir()  # the dataset checks that every listed film exists
    for name in trainval + test:
        (tmp_path / 'images' / name).write_bytes(b'')
    (tmp_path / 'train_val_list.txt').write_text('\n'.join(trainval) + '\n')
    (tmp_path / 'test_list.txt').write_text('\n'.join(test) + '\n')
    train, val, test_ds = (build('nih_cxr14', f'{s}_dataloader', root, bbox_file=None)
                           for s in ('train', 'val', 'test'))
    tr, va, te = _patients(train), _patients(val), _patients(test_ds)
    assert not (tr & va) and not (tr & te) and not (va & te)
    assert len(va) == 3 and tr | va == {str(p) for p in range(1, 31)}  # 10 % of 30 patients
    assert te == {str(p) for p in range(31, 41)} and len(test_ds) == len(test)
    assert len(train) + len(val) == len(trainval)
    again = build('nih_cxr14', 'val_dataloader', root)
    assert _patients(again) == va  # seeded: train and val always agree
    assert _patients(build('nih_cxr14', 'val_dataloader', root, split_seed=1)) != va


def test_chexpert_config_validates_on_train_csv_patients_and_tests_on_valid_csv(tmp_path):
    from test_public_datasets import CHEX_HEADER
    rows = [f'CheXpert-v1.0-small/train/patient{p:05d}/study{k}/view1_frontal.jpg,F,50,Frontal,'
            'AP,1.0,,,,,,,,,,,,,' for p in range(1, 21) for k in range(1, 3)]
    (tmp_path / 'train.csv').write_text('\n'.join([CHEX_HEADER] + rows) + '\n')
    (tmp_path / 'valid.csv').write_text('\n'.join([CHEX_HEADER] + [
        r.replace('/train/', '/valid/').replace('patient000', 'patient640') for r in rows[:6]])
        + '\n')
    train, val, test = (build('chexpert', f'{s}_dataloader', str(tmp_path))
                        for s in ('train', 'val', 'test'))
    tr, va, te = _patients(train), _patients(val), _patients(test)
    assert not (tr & va) and not (tr & te) and not (va & te)
    assert len(va) == 2 and len(tr) == 18 and len(test) == 6
    assert all(test.get_data_info(i)['img_id'].startswith('valid/') for i in range(6))


def test_unlabeled_config_skips_unreadable_files(tmp_path):
    write_images(tmp_path, ['x/1.png'])
    (tmp_path / 'x' / '2.png').write_bytes(b'not a png')
    ds = build('unlabeled_xray', 'train_dataloader', str(tmp_path))
    assert len(ds) == 2
    sample = ds[1]  # the bad file is logged and another index is served
    assert sample['inputs'].shape == (3, 224, 224) and sample['data_samples'].gt_label.item() == -1

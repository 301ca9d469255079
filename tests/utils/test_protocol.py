"""The protocol guard's pieces: overlap counting, evaluator check, one-line errors."""
import pytest
from mmengine.config import Config

from osteo_mm.datasets import XrayDataError
from osteo_mm.utils.cli import one_line
from osteo_mm.utils.protocol import (
    ProtocolError,
    check_test_evaluators,
    dataset_ids,
    find_overlap,
)


class Items:
    def __init__(self, infos):
        self.infos = infos

    def __len__(self):
        return len(self.infos)

    def get_data_info(self, i):
        return dict(self.infos[i])


def test_overlap_counts_images_and_patients_per_pair_against_brute_force():
    ids = {'train': (['a', 'b', 'c'], ['P1', 'P2', '']),
           'val': (['d', 'e'], ['P3', '']),
           'test': (['c', 'f', 'g'], ['P2', 'P3', 'P3'])}
    overlap = find_overlap(ids)
    assert set(overlap) == {'train/test', 'val/test'}  # unknown patients ('') never match
    for pair, found in overlap.items():
        a, b = pair.split('/')
        images = sorted(set(ids[a][0]) & set(ids[b][0]))
        patients = sorted((set(ids[a][1]) & set(ids[b][1])) - {''})
        assert (found['images'], found['patients']) == (len(images), len(patients))
        assert found['image_examples'] == images and found['patient_examples'] == patients
    assert find_overlap({'train': (['a'], ['P1']), 'val': (['b'], ['P2'])}) == {}


def test_datasets_without_img_id_are_compared_by_path(tmp_path):
    ds = Items([dict(img_path=str(tmp_path / 'x' / '..' / 'a.png'), gt_label=0),
                dict(img_id='b.png', img_path='/elsewhere/b.png', patient_id='P9')])
    images, patients = dataset_ids(ds)
    assert images == [str(tmp_path / 'a.png'), 'b.png'] and patients == ['', 'P9']


def test_column_wise_dataset_ids_equal_the_per_item_dicts(tmp_path):
    from osteo_mm.datasets import NIHChestXray14Dataset
    lines = ['Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,'
             'View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]']
    lines += [f'{i:08d}_000.png,No Finding,0,{i // 2},40,M,PA,1,1,0.1,0.1' for i in range(9)]
    (tmp_path / 'Data_Entry_2017.csv').write_text('\n'.join(lines) + '\n')
    ds = NIHChestXray14Dataset(str(tmp_path), split=None, check_images=False, indices=[8, 1, 4])
    fast = dataset_ids(ds)
    slow = dataset_ids(Items([ds.get_data_info(i) for i in range(len(ds))]))
    assert fast == slow == (['images/00000008_000.png', 'images/00000001_000.png',
                             'images/00000004_000.png'], ['4', '0', '2'])


def test_a_test_evaluator_choosing_its_threshold_on_the_test_split_is_refused():
    youden = Config(dict(test_evaluator=[dict(type='Accuracy'),
                                         dict(type='BinaryDiagnosticMetric')]))
    with pytest.raises(ProtocolError, match="threshold='youden'"):
        check_test_evaluators(youden)
    check_test_evaluators(Config(dict(test_evaluator=dict(
        type='BinaryDiagnosticMetric', threshold='from_val', threshold_file='t.json'))))
    check_test_evaluators(Config(dict(test_evaluator=dict(type='BinaryDiagnosticMetric',
                                                          threshold=0.3))))


def test_an_error_from_a_dataloader_worker_becomes_its_own_one_line_message():
    from torch._utils import ExceptionWrapper
    try:
        raise XrayDataError('/data/x.png: cannot decode the image')
    except XrayDataError:
        wrapped = ExceptionWrapper(where='in DataLoader worker process 0')
    with pytest.raises(XrayDataError) as err:
        wrapped.reraise()
    assert '\n' in str(err.value)  # what PyTorch hands over: the worker's traceback
    assert one_line(err.value) == '/data/x.png: cannot decode the image'
    assert one_line(ValueError('a\n  b')) == 'a b'
    assert one_line(XrayDataError('class `ShoulderXrayDataset` in osteo_mm/datasets/shoulder.py: '
                                  '/d/labels.csv: bad')) == '/d/labels.csv: bad'


def test_threshold_override_reaches_every_binary_metric_and_needs_one(tmp_path):
    import torch

    from osteo_mm.utils.protocol import bind_test_threshold
    ckpt = str(tmp_path / 'epoch_1.pth')
    torch.save(dict(meta=dict(epoch=1), state_dict=dict(w=torch.ones(2))), ckpt)
    cfg = Config(dict(work_dir=str(tmp_path), test_evaluator=[
        dict(type='BinaryDiagnosticMetric', threshold='from_val', threshold_file='none.json'),
        dict(type='BinaryDiagnosticMetric', threshold=0.5)]))
    record = bind_test_threshold(cfg, ckpt, 0.2)
    assert [e.threshold for e in cfg.test_evaluator] == [0.2, 0.2]
    assert record['threshold_source'] == 'override' and record['checkpoint']['epoch'] == 1
    with pytest.raises(ProtocolError, match='--threshold applies'):
        bind_test_threshold(Config(dict(test_evaluator=dict(type='Accuracy'))), ckpt, 0.2)
    with pytest.raises(FileNotFoundError, match='none.json.*--threshold'):
        bind_test_threshold(Config(dict(work_dir=str(tmp_path), test_evaluator=dict(
            type='BinaryDiagnosticMetric', threshold='from_val', threshold_file='none.json'))),
            ckpt)

"""tools/deployment/export_onnx.py: parity, dynamic batch, metadata, and Grad-CAM == CAM."""
import json
import os.path as osp

import numpy as np
import onnxruntime as ort
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from serving_fixtures import CLASSES, make_model, run_main

from osteo_mm.explain.analysis import build_split, load_classifier
from osteo_mm.explain.cam import BatchCAM
from osteo_mm.serving.engine import OnnxEngine, TorchEngine, cam_from_class_maps
from osteo_mm.serving.export import check_parity, read_metadata
from osteo_mm.serving.provenance import model_version, read_threshold_record
from osteo_mm.utils.threshold_record import append_record, checkpoint_fingerprint


@pytest.fixture(scope='module')
def exported(tiny_resnet):
    tmp, config, ckpt = tiny_resnet
    out = osp.join(tmp, 'resnet.onnx')
    mp = pytest.MonkeyPatch()
    try:
        code = run_main('deployment/export_onnx.py', [config, ckpt, '--out', out], mp)
    finally:
        mp.undo()
    assert code == 0
    cfg = Config.fromfile(config)
    model, _ = load_classifier(cfg, ckpt)
    dataset, _ = build_split(cfg, 'test')
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    return dict(tmp=tmp, config=config, ckpt=ckpt, onnx=out, cfg=cfg, model=model,
                batch=batch, n=len(dataset))


def test_parity_on_the_test_split_dynamic_batch_and_metadata(exported):
    report = json.load(open(exported['onnx'] + '.parity.json'))
    assert report['passed'] and report['split'] == 'test'
    assert report['num_images'] == exported['n'] >= 3
    assert report['max_abs_diff'] <= 1e-4 and report['class_mismatches'] == 0
    session = ort.InferenceSession(exported['onnx'], providers=['CPUExecutionProvider'])
    assert [o.name for o in session.get_outputs()] == ['logits', 'features', 'class_maps']
    raw = torch.stack(exported['batch']['inputs']).float()
    model = exported['model']
    with torch.no_grad():
        ref = model(model.data_preprocessor(exported['batch'], False)['inputs'],
                    mode='tensor').numpy()
    for size in (1, exported['n']):  # the batch axis is dynamic
        got = session.run(['logits'], {'input': raw[:size].numpy()})[0]
        np.testing.assert_allclose(got, ref[:size], atol=1e-4, rtol=0)
    meta = read_metadata(session)
    assert meta['class_names'] == CLASSES
    assert meta['model_version'] == model_version(exported['ckpt'])
    assert meta['threshold']['threshold'] == 0.5 and meta['threshold']['pos_label'] == 1
    provenance = meta['threshold']['provenance']
    assert provenance['source'] == 'youden_threshold.json' and provenance['method'] == 'youden'
    assert (provenance['epoch'], provenance['iter'], provenance['num_samples']) == (1, 3, 2)
    assert provenance['weights_sha256'] == checkpoint_fingerprint(exported['ckpt'])[
        'weights_sha256']
    assert meta['preprocessing']['test_pipeline'] == \
        [dict(t) for t in exported['cfg'].test_dataloader.dataset.pipeline]
    assert meta['preprocessing']['mean'] == [127.5] * 3
    assert meta['cam']['feature_layer'] == 'backbone.layer4'


def test_parity_check_catches_a_different_model(exported):
    model = exported['model']
    with torch.no_grad():
        saved = model.head.fc.bias.clone()
        model.head.fc.bias += torch.tensor([0.0, 1e-3])
        try:
            report = check_parity(model, exported['cfg'], exported['onnx'])
        finally:
            model.head.fc.bias.copy_(saved)
    assert not report['passed'] and 5e-4 < report['max_abs_diff'] < 2e-3


def test_gradcam_equals_cam_for_global_pooling_and_linear_head(exported):
    model = exported['model']
    session = ort.InferenceSession(exported['onnx'], providers=['CPUExecutionProvider'])
    raw = torch.stack(exported['batch']['inputs']).float()
    logits, features, maps = session.run(None, {'input': raw.numpy()})
    # The exported maps are CAM (Zhou et al.): fc weights applied to the feature map.
    weight = model.head.fc.weight.detach().numpy()
    np.testing.assert_allclose(maps, np.einsum('kd,bdhw->bkhw', weight, features), atol=1e-4)
    classes = logits.argmax(1)
    cams = np.stack([cam_from_class_maps(maps[i, c], raw.shape[-2:])
                     for i, c in enumerate(classes)])
    assert cams.max() > 0.99 and cams.std() > 0.05  # non-trivial maps
    inputs = model.data_preprocessor(exported['batch'], False)['inputs']
    for backend in ('grad-cam', 'device'):  # the library itself, and our batched version
        grad_cam = BatchCAM(model, method='gradcam', backend=backend)(inputs, list(classes))
        np.testing.assert_allclose(grad_cam.cams, cams, atol=1e-5, rtol=0)


def test_onnx_engine_scores_films_like_the_torch_engine(exported):
    films = [exported['batch']['data_samples'][i].img_path for i in range(2)]
    threshold = read_threshold_record(osp.join(osp.dirname(exported['ckpt']),
                                               'youden_threshold.json'), exported['ckpt'])
    torch_engine = TorchEngine(exported['cfg'], exported['ckpt'], threshold, 'tiny',
                               model_version(exported['ckpt']))
    onnx_engine = OnnxEngine(exported['onnx'])
    assert onnx_engine.describe() == dict(torch_engine.describe(), engine='onnx',
                                          model_name='tiny_resnet', evidence_map='cam')
    for film in films:
        a, b = torch_engine.predict(film), onnx_engine.predict(film)
        assert a.probability == pytest.approx(b.probability, abs=1e-5)
        assert a.label == b.label and a.cam.shape == b.cam.shape == (64, 64)
        np.testing.assert_allclose(a.cam, b.cam, atol=1e-4)


def test_vit_exports_logits_only_with_parity(tmp_path, monkeypatch):
    config, ckpt = make_model(str(tmp_path), vit=True)
    out = str(tmp_path / 'vit.onnx')
    assert run_main('deployment/export_onnx.py', [config, ckpt, '--out', out], monkeypatch) == 0
    report = json.load(open(out + '.parity.json'))
    assert report['passed'] and report['max_abs_diff'] <= 1e-4 and report['num_images'] >= 3
    engine = OnnxEngine(out)
    assert engine.outputs == ['logits'] and engine.metadata['cam'] is None
    film = osp.join(str(tmp_path), 'phantom', 'images', 'PH0001_0.dcm')
    assert engine.predict(film).cam is None


def test_threshold_of_another_checkpoint_is_refused(exported, tmp_path, monkeypatch, capsys):
    record = tmp_path / 'youden_threshold.json'
    append_record(str(record), dict(threshold=0.3, method='youden', pos_label=1, epoch=2,
                                    iter=6, weights_sha256='0' * 64))
    code = run_main('deployment/export_onnx.py', [
        exported['config'], exported['ckpt'], '--out', str(tmp_path / 'x.onnx'),
        '--threshold-file', str(record), '--no-verify'], monkeypatch)
    assert code == 2
    err = capsys.readouterr().err
    assert 'threshold of another checkpoint (epoch 2, iter 6' in err and 'epoch_1.pth' in err
    assert not (tmp_path / 'x.onnx').exists()

"""onnxruntime / PyTorch CPU throughput of the exported classifiers (same graph, same threads).

Both sides run :class:`osteo_mm.serving.export.OnnxWrapper` (data preprocessor + model, and for
ResNet the feature map and class maps the service uses): PyTorch eager under ``no_grad``, and
the ONNX file written with :func:`~osteo_mm.serving.export.export_onnx`'s exporter settings in
onnxruntime's CPU provider, with its default busy-waiting threads and with spinning off (as the
service runs it). Runs alternate; the median of ``--repeats`` timed runs of
``--iters`` forwards is reported, per wall-clock second and per CPU second of the process
(``time.process_time``, all threads), since on a shared machine the wall clock swings with the
other jobs. Weights are random (speed does not depend on them). Results: docs/benchmarks.md,
"Serving".

Example::

    .venv/bin/python benchmarks/onnx_throughput.py --threads 2 --batch 1 8
"""
import argparse
import json
import os.path as osp
import statistics
import tempfile
import time
import warnings

import onnxruntime as ort
import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import osteo_mm  # noqa: F401
from osteo_mm.serving.export import OnnxWrapper, has_cam_head

MODELS_CFG = {
    'resnet18': dict(type='ImageClassifier', backbone=dict(type='ResNet', depth=18),
                     neck=dict(type='GlobalAveragePooling'),
                     head=dict(type='LinearClsHead', num_classes=2, in_channels=512),
                     data_preprocessor=dict(mean=[127.5] * 3, std=[64.0] * 3)),
    'deit-tiny': dict(type='ImageClassifier',
                      backbone=dict(type='VisionTransformer', arch='deit-tiny', img_size=224,
                                    patch_size=16),
                      neck=None,
                      head=dict(type='VisionTransformerClsHead', num_classes=2,
                                in_channels=192),
                      data_preprocessor=dict(mean=[127.5] * 3, std=[64.0] * 3)),
}


def timed(fn, iters):
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(iters):
        fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench(name, size, batch, threads, iters, repeats, tmp):
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(MODELS_CFG[name])
    model.init_weights()
    wrapper = OnnxWrapper(model.eval(), has_cam_head(model)).eval()
    x = torch.rand(batch, 3, size, size) * 255
    path = osp.join(tmp, f'{name}.onnx')
    outputs = ['logits', 'features', 'class_maps'] if wrapper.with_cam else ['logits']
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter('ignore')
        torch.onnx.export(wrapper, (x, ), path, input_names=['input'], output_names=outputs,
                          dynamic_axes={'input': {0: 'batch'}}, opset_version=17, dynamo=False)
    torch.set_num_threads(threads)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
    options.add_session_config_entry('session.intra_op.allow_spinning', '0')
    quiet = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
    feed = {'input': x.numpy()}

    def run_torch():
        with torch.no_grad():
            wrapper(x)

    def run_ort():
        session.run(None, feed)

    def run_quiet():
        quiet.run(None, feed)

    run_torch(), run_ort(), run_quiet()  # warm-up
    res = {'torch': [], 'onnxruntime': [], 'onnxruntime_nospin': []}
    for _ in range(repeats):
        res['torch'].append(timed(run_torch, iters))
        res['onnxruntime'].append(timed(run_ort, iters))
        res['onnxruntime_nospin'].append(timed(run_quiet, iters))
    row = dict(model=name, img_size=size, batch=batch, threads=threads)
    for key, runs in res.items():
        row[f'{key}_img_per_s'] = batch * iters / statistics.median(r[0] for r in runs)
        row[f'{key}_img_per_cpu_s'] = batch * iters / statistics.median(r[1] for r in runs)
    row['ratio_wall'] = row['onnxruntime_img_per_s'] / row['torch_img_per_s']
    row['ratio_cpu'] = row['onnxruntime_img_per_cpu_s'] / row['torch_img_per_cpu_s']
    row['ratio_wall_nospin'] = row['onnxruntime_nospin_img_per_s'] / row['torch_img_per_s']
    row['ratio_cpu_nospin'] = (row['onnxruntime_nospin_img_per_cpu_s']
                               / row['torch_img_per_cpu_s'])
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--models', nargs='+', default=['resnet18', 'deit-tiny'])
    parser.add_argument('--img-size', type=int, default=224)
    parser.add_argument('--batch', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--out', help='write the rows as JSON')
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            for batch in args.batch:
                row = bench(name, args.img_size, batch, args.threads, args.iters,
                            args.repeats, tmp)
                print(json.dumps(row), flush=True)
                rows.append(row)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(rows, f, indent=2)


if __name__ == '__main__':
    main()

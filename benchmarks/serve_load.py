"""Load test of tools/serve.py: 8 concurrent storescu associations x 50 films, per engine.

For each engine (torch, onnx) a fresh ``tools/serve.py`` process on localhost receives
``--associations`` concurrent dcmtk ``storescu`` runs of ``--films`` phantom DX films each
(every film a distinct SOPInstanceUID). Films refused with 0xA700 (queue full) are sent again,
as a PACS retries. From the service's journal: every film scored exactly once and none lost,
films/s (first receipt to last result), p50/p95 latency (receipt to result) and the server's
peak RSS (``VmHWM``). Then the kill test: SIGKILL the server when 40 % of the films accepted
so far are done and others are still queued, restart it on the same folder, send every film
again; the rest is processed and no film is scored twice (journal ``scored`` == 1 for all,
duplicates acknowledged without scoring).

The model is ResNet-18 (random initial weights saved as an MMEngine checkpoint) at
``--img-size`` px; its ONNX file comes from tools/deployment/export_onnx.py. Results:
docs/benchmarks.md, "Serving". Needs the Debian packages dcmtk.

Example::

    .venv/bin/python benchmarks/serve_load.py --img-size 128 --out work_dirs/serve_load.json
"""
import argparse
import glob
import hashlib
import json
import os
import os.path as osp
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

import numpy as np
import pydicom
import torch
from pydicom.uid import generate_uid

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = '''
_base_ = [{base!r}]
img_size = {size}
data_root = {root!r}
data_preprocessor = dict(mean=[127.5] * 3, std=[64.0] * 3)
test_pipeline = [
    dict(type='LoadXrayFromFile'),
    dict(type='XrayResize', scale=img_size),
    dict(type='XrayCenterCrop', crop_size=img_size),
    dict(type='PackXrayInputs'),
]
_loader = dict(batch_size=8, num_workers=0, persistent_workers=False)
val_dataloader = dict(dataset=dict(data_root=data_root, pipeline=test_pipeline), **_loader)
test_dataloader = dict(dataset=dict(data_root=data_root, pipeline=test_pipeline), **_loader)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def prepare(tmp: str, size: int, films: int, associations: int) -> tuple:
    """Phantom films (copied with new UIDs), config, checkpoint, threshold and ONNX file."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    import osteo_mm  # noqa: F401
    from osteo_mm.datasets.phantom import generate_shoulder
    from osteo_mm.utils.threshold_record import append_record, weights_sha256

    data = osp.join(tmp, 'phantom')
    generate_shoulder(data, num_patients=films, size=256, seed=0, fmt='dicom', progress=False)
    base = osp.join(ROOT, 'configs', 'resnet', 'resnet18_phantom-shoulder-binary.py')
    config = osp.join(tmp, 'resnet18_serve.py')
    with open(config, 'w') as f:
        f.write(CONFIG.format(base=base, size=size, root=data + '/'))
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    model.init_weights()
    work = osp.join(tmp, 'work')
    os.makedirs(work)
    ckpt = osp.join(work, 'epoch_1.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(
        dataset_meta=dict(classes=['not_osteoporosis', 'osteoporosis']), epoch=1, iter=1)), ckpt)
    append_record(osp.join(work, 'youden_threshold.json'), dict(
        threshold=0.5, method='youden', pos_label=1, num_samples=0, epoch=1, iter=1,
        weights_sha256=weights_sha256(model.state_dict())))
    onnx = osp.join(tmp, 'model.onnx')
    export = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'deployment',
                                                      'export_onnx.py'),
                             config, ckpt, '--out', onnx, '--max-images', '16'],
                            capture_output=True, text=True)
    if export.returncode != 0:
        raise RuntimeError(f'export failed:\n{export.stdout[-2000:]}\n{export.stderr[-2000:]}')
    sources = sorted(glob.glob(osp.join(data, 'images', '*.dcm')))
    batches = []
    for a in range(associations):
        folder = osp.join(tmp, f'send{a}')
        os.makedirs(folder)
        paths = []
        for i, src in enumerate(sources[:films]):
            ds = pydicom.dcmread(src)
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
            path = osp.join(folder, f'{i:03d}.dcm')
            ds.save_as(path, enforce_file_format=True)
            paths.append(path)
        batches.append(paths)
    return config, ckpt, onnx, batches


def start_server(config, ckpt, onnx, engine, out, threads):
    port, http = free_port(), free_port()
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONPATH=ROOT)
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'serve.py'), config, ckpt, '--out-dir', out,
           '--dicom-port', str(port), '--http-port', str(http), '--engine', engine,
           '--queue-size', '64']
    if engine == 'onnx':
        cmd += ['--onnx', onnx]
    log = open(osp.join(out + f'.{engine}.log'), 'a')
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f'server exited with {proc.returncode}; see {log.name}')
        echo = subprocess.run(['echoscu', '-aec', 'OSTEO_MM', '127.0.0.1', str(port)],
                              capture_output=True)
        if echo.returncode == 0:
            return proc, port
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError('server did not answer C-ECHO within 180 s')


def peak_rss_mib(pid: int) -> float:
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def send_all(port, batches, timeout=900):
    procs = [subprocess.Popen(['storescu', '-aec', 'OSTEO_MM', '-nh', '127.0.0.1', str(port)]
                              + paths, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for paths in batches]
    for p in procs:
        p.wait(timeout=timeout)


def send_until_all_in(out, port, batches, keys, max_rounds=50):
    """Send every batch; after the queue drains, send again (as a PACS retries 0xA700)."""
    for rounds in range(1, max_rounds + 1):
        send_all(port, batches)
        rows = wait_done(out, [k for k in keys if k in journal(out)], 900)
        if all(k in rows for k in keys):
            return rounds
    raise RuntimeError(f'films still refused after {max_rounds} rounds')


def keys_of(out, batches):
    with open(osp.join(out, '.uid_salt')) as f:
        salt = bytes.fromhex(f.read().strip())
    keys = []
    for paths in batches:
        for path in paths:
            uid = pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID
            keys.append(hashlib.sha256(salt + str(uid).encode()).hexdigest()[:32])
    return keys


def journal(out):
    db = sqlite3.connect(f'file:{osp.join(out, "journal.sqlite")}?mode=ro', uri=True)
    try:
        return {r[0]: r[1:] for r in db.execute(
            'SELECT key, state, received, finished, scored FROM films')}
    finally:
        db.close()


def wait_done(out, keys, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = journal(out)
        if all(k in rows and rows[k][0] != 'queued' for k in keys):
            return rows
        time.sleep(0.5)
    raise RuntimeError('films still missing or queued at the deadline')


def summary(rows, keys, log_path):
    done = [rows[k] for k in keys if k in rows]
    lat = np.array([r[2] - r[1] for r in done if r[0] == 'done'])
    start = min(r[1] for r in done)
    end = max(r[2] for r in done if r[2])
    with open(log_path) as f:
        refused = sum('queue full' in line for line in f)
    return dict(films=len(keys), received=len(done),
                done=sum(r[0] == 'done' for r in done),
                scored_once=sum(r[3] == 1 for r in done),
                scored_more=sum(r[3] > 1 for r in done),
                lost=len(keys) - len(done), refused_queue_full=refused,
                films_per_s=len(done) / (end - start),
                latency_p50_s=float(np.percentile(lat, 50)),
                latency_p95_s=float(np.percentile(lat, 95)))


def run_engine(engine, config, ckpt, onnx, batches, tmp, threads):
    out = osp.join(tmp, f'out_{engine}')
    proc, port = start_server(config, ckpt, onnx, engine, out, threads)
    try:
        keys = keys_of(out, batches)
        t0 = time.time()
        rounds = send_until_all_in(out, port, batches, keys)
        rows = wait_done(out, keys, 900)
        result = summary(rows, keys, out + f'.{engine}.log')
        result.update(engine=engine, send_rounds=rounds, wall_s=time.time() - t0,
                      peak_rss_mib=peak_rss_mib(proc.pid))
        return result
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)


def run_kill(engine, config, ckpt, onnx, batches, tmp, threads, fraction=0.4):
    out = osp.join(tmp, f'out_kill_{engine}')
    proc, port = start_server(config, ckpt, onnx, engine, out, threads)
    keys = keys_of(out, batches)
    senders = [subprocess.Popen(['storescu', '-aec', 'OSTEO_MM', '-nh', '127.0.0.1', str(port)]
                                + paths, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for paths in batches]
    while True:  # mid-load: a share of the accepted films done, others still queued
        states = [r[0] for r in journal(out).values()]
        if states.count('done') >= fraction * len(states) and 'queued' in states:
            break
        time.sleep(0.1)
    proc.kill()  # SIGKILL mid-load: no clean-up runs
    proc.wait()
    for s in senders:
        s.wait(timeout=300)
    before = journal(out)
    done_before = sum(r[0] == 'done' for r in before.values())
    queued_before = sum(r[0] == 'queued' for r in before.values())
    proc, port = start_server(config, ckpt, onnx, engine, out, threads)
    try:
        send_until_all_in(out, port, batches, keys)  # the PACS sends the whole batch again
        rows = wait_done(out, keys, 900)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    result = summary(rows, keys, out + f'.{engine}.log')
    results = len(os.listdir(osp.join(out, 'results')))
    return dict(engine=engine, done_at_kill=done_before, queued_at_kill=queued_before,
                done_after=result['done'], scored_once=result['scored_once'],
                scored_more=result['scored_more'], lost=result['lost'],
                result_files=results)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--img-size', type=int, default=128)
    parser.add_argument('--films', type=int, default=50)
    parser.add_argument('--associations', type=int, default=8)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--engines', nargs='*', default=['torch', 'onnx'])
    parser.add_argument('--kill-engine', default='onnx')
    parser.add_argument('--out', help='write the results as JSON')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config, ckpt, onnx, batches = prepare(tmp, args.img_size, args.films,
                                              args.associations)
        results = dict(setup=vars(args), runs=[])
        for engine in args.engines:
            res = run_engine(engine, config, ckpt, onnx, batches, tmp, args.threads)
            print(json.dumps(res), flush=True)
            results['runs'].append(res)
        if args.kill_engine:
            res = run_kill(args.kill_engine, config, ckpt, onnx, batches, tmp, args.threads)
            print(json.dumps(res), flush=True)
            results['kill'] = res
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()

"""DICOM decode + preprocess throughput, with and without the PNG cache, vs a training step.

Writes synthetic 12-bit 2048x2048 DICOMs (uncompressed and JPEG 2000 lossless), times the
test pipeline (LoadXrayFromFile -> XrayResize -> XrayCenterCrop -> PackXrayInputs) in one
process on the DICOMs and on the cache written by ``prepare_xray`` (max side 512), and times a
ResNet-18 training step (batch 32, 224 px, CPU) for comparison. Rates are per CPU-second of
this process (``time.process_time``), which a busy shared machine distorts least; the
training step uses every torch thread, so its CPU-second rate is per core-second as well.

    python benchmarks/data_loading_speed.py [--num-images 12] [--size 2048]
"""
import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from mmcv.transforms import Compose
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    SecondaryCaptureImageStorage,
    generate_uid,
)

from osteo_mm.datasets.tools import prepare_xray
from osteo_mm.datasets.transforms import (
    LoadXrayFromFile,
    PackXrayInputs,
    XrayCenterCrop,
    XrayResize,
)


def write_dicoms(folder: Path, n: int, size: int, compress: bool) -> list[str]:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    base = (2000 + 1500 * np.exp(-((xx - size / 2) ** 2 + (yy - size / 2) ** 2)
                                 / (size / 4) ** 2)).astype(np.uint16)
    paths = []
    for i in range(n):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
        ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.SOPClassUID = SecondaryCaptureImageStorage
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.WindowCenter, ds.WindowWidth = 2500, 3000
        arr = np.clip(base + rng.integers(0, 200, base.shape), 0, 4095).astype(np.uint16)
        ds.PixelData = arr.tobytes()
        if compress:
            ds.compress(JPEG2000Lossless, encoding_plugin='pylibjpeg')
        path = folder / f'{i:03d}.dcm'
        ds.save_as(path, enforce_file_format=True)
        paths.append(str(path))
    return paths


def pipeline_rate(paths: list[str]) -> float:
    pipe = Compose([LoadXrayFromFile(), XrayResize(scale=224), XrayCenterCrop(crop_size=224),
                    PackXrayInputs()])
    pipe(dict(img_path=paths[0]))
    t0 = time.process_time()
    for p in paths:
        pipe(dict(img_path=p))
    return len(paths) / (time.process_time() - t0)


def train_rate(steps: int = 3, batch: int = 32) -> float:
    from mmpretrain.models import ImageClassifier
    model = ImageClassifier(backbone=dict(type='ResNet', depth=18),
                            neck=dict(type='GlobalAveragePooling'),
                            head=dict(type='LinearClsHead', num_classes=2, in_channels=512))
    optim = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(batch, 3, 224, 224)
    y = torch.randint(0, 2, (batch, ))

    def step():
        loss = torch.nn.functional.cross_entropy(model.head(model.extract_feat(x)), y)
        optim.zero_grad()
        loss.backward()
        optim.step()

    step()
    t0 = time.process_time()
    for _ in range(steps):
        step()
    return steps * batch / (time.process_time() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num-images', type=int, default=12)
    parser.add_argument('--size', type=int, default=2048)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, compress in (('uncompressed', False), ('jpeg2000', True)):
            src = tmp / name
            src.mkdir()
            paths = write_dicoms(src, args.num_images, args.size, compress)
            print(f'DICOM {name} {args.size}x{args.size} 12-bit -> 224 px: '
                  f'{pipeline_rate(paths):.1f} img/CPU-s')
        cache = tmp / 'cache'
        t0 = time.process_time()
        prepare_xray(str(tmp / 'uncompressed'), str(cache), max_side=512, progress=False)
        print(f'prepare_xray (uncompressed -> 512 px PNG, 1 worker): '
              f'{args.num_images / (time.process_time() - t0):.1f} img/CPU-s')
        cached = sorted(str(p) for p in (cache).glob('*.png'))
        print(f'cached PNG 512 px -> 224 px: {pipeline_rate(cached * 4):.1f} img/CPU-s')
    print(f'ResNet-18 train step, batch 32, 224 px, torch threads={torch.get_num_threads()}: '
          f'{train_rate():.1f} img/CPU-s')


if __name__ == '__main__':
    main()

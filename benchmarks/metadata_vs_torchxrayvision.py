"""Metadata build time, ours vs TorchXRayVision's, side by side on the same files.

Writes synthetic annotation files in the real formats and sizes: NIH
``Data_Entry_2017_v2020.csv`` (112,120 rows) + ``BBox_List_2017.csv`` (984 boxes), and a
CheXpert ``train.csv`` with 223,414 rows of which 191,027 are frontal. Then, alternating, in one
process, best of ``--repeats``:

* TorchXRayVision ``NIH_Dataset(views=['PA', 'AP'], unique_patients=False)`` and
  ``CheX_Dataset(views=['PA', 'AP'], unique_patients=False)`` (all frontal films);
* our ``NIHChestXray14Dataset(split=None, bbox_file=...)`` and
  ``CheXpertDataset(labels='all', frontal_only=True)``, full MMEngine init (the data list is
  built and serialised); images are not opened by either library (``check_images=False``).

TorchXRayVision is a benchmark-only dependency (``pip install torchxrayvision==1.5.7``); without
it only our side runs. Times are wall and CPU seconds of this process.

    python benchmarks/metadata_vs_torchxrayvision.py [--repeats 3]
"""
import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from osteo_mm.datasets import CheXpertDataset, NIHChestXray14Dataset
from osteo_mm.datasets.labels import CHEXPERT_LABELS, NIH_LABELS

NIH_ROWS, CHEXPERT_ROWS, CHEXPERT_FRONTAL = 112_120, 223_414, 191_027


def write_nih(root: Path, rng: np.random.Generator) -> None:
    names = [f'{i // 4:08d}_{i % 4:03d}.png' for i in range(NIH_ROWS)]
    picks = rng.integers(0, 15, size=(NIH_ROWS, 2))
    findings = ['No Finding' if a == 14 else '|'.join(sorted({NIH_LABELS[a]} | (
        {NIH_LABELS[b]} if b < 14 else set()))) for a, b in picks]
    views = np.where(rng.random(NIH_ROWS) < 0.6, 'PA', 'AP')
    header = ('Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,'
              'View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]')
    lines = [f'{name},{f},{i % 4},{i // 4 + 1},{40 + i % 50},{"MF"[i % 2]},{v},2500,2048,'
             f'0.143,0.143' for i, (name, f, v) in enumerate(zip(names, findings, views))]
    (root / 'Data_Entry_2017_v2020.csv').write_text(header + '\n' + '\n'.join(lines) + '\n')
    boxes = ['Image Index,Finding Label,Bbox [x,y,w,h],,,'] + [
        f'{names[i * 100]},{NIH_LABELS[i % 8]},{100 + i % 50}.5,200.25,300.0,250.75'
        for i in range(984)]
    (root / 'BBox_List_2017.csv').write_text('\n'.join(boxes) + '\n')


def write_chexpert(root: Path, rng: np.random.Generator) -> None:
    cells = rng.choice(np.array(['1.0', '0.0', '-1.0', '', '', ''], dtype=object),
                       size=(CHEXPERT_ROWS, len(CHEXPERT_LABELS)))
    df = pd.DataFrame(cells, columns=list(CHEXPERT_LABELS))
    frontal = np.zeros(CHEXPERT_ROWS, bool)
    frontal[rng.choice(CHEXPERT_ROWS, CHEXPERT_FRONTAL, replace=False)] = True
    df.insert(0, 'Path', [f'CheXpert-v1.0-small/train/patient{i // 3 + 1:05d}/study1/view'
                          f'{i % 3 + 1}_{"frontal" if f else "lateral"}.jpg'
                          for i, f in enumerate(frontal)])
    df.insert(1, 'Sex', np.where(np.arange(CHEXPERT_ROWS) % 2, 'Female', 'Male'))
    df.insert(2, 'Age', 20 + np.arange(CHEXPERT_ROWS) % 70)
    df.insert(3, 'Frontal/Lateral', np.where(frontal, 'Frontal', 'Lateral'))
    df.insert(4, 'AP/PA', np.where(frontal, np.where(rng.random(CHEXPERT_ROWS) < 0.8, 'AP',
                                                     'PA'), ''))
    df.to_csv(root / 'train.csv', index=False)


def timed(build) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    size = len(build())
    return time.perf_counter() - wall, time.process_time() - cpu, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()
    try:
        import torchxrayvision as xrv
    except ImportError:
        xrv = None
        print('torchxrayvision is not installed: only our side is timed')
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rng = np.random.default_rng(0)
        write_nih(root, rng)
        write_chexpert(root, rng)
        cases = {
            'NIH ours': lambda: NIHChestXray14Dataset(
                tmp, ann_file='Data_Entry_2017_v2020.csv', split=None,
                bbox_file='BBox_List_2017.csv', check_images=False),
            'CheXpert ours': lambda: CheXpertDataset(tmp, 'train.csv', labels='all',
                                                     frontal_only=True),
        }
        if xrv is not None:
            cases['NIH TorchXRayVision'] = lambda: xrv.datasets.NIH_Dataset(
                imgpath=tmp, csvpath=str(root / 'Data_Entry_2017_v2020.csv'),
                bbox_list_path=str(root / 'BBox_List_2017.csv'), views=['PA', 'AP'],
                unique_patients=False)
            cases['CheXpert TorchXRayVision'] = lambda: xrv.datasets.CheX_Dataset(
                imgpath=tmp, csvpath=str(root / 'train.csv'), views=['PA', 'AP'],
                unique_patients=False)
        best: dict[str, tuple] = {}
        for _ in range(args.repeats):
            for name, build in cases.items():  # alternating, so load drifts hit both sides
                wall, cpu, size = timed(build)
                old = best.get(name, (np.inf, np.inf, size))
                best[name] = (min(old[0], wall), min(old[1], cpu), size)
    print('| metadata build | samples | wall s (best) | CPU s (best) |\n| --- | --- | --- | --- |')
    for name, (wall, cpu, size) in best.items():
        print(f'| {name} | {size:,} | {wall:.2f} | {cpu:.2f} |')


if __name__ == '__main__':
    main()

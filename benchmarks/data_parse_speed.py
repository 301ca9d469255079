"""Metadata parse time of the X-ray datasets at real-archive sizes (no image is opened).

Writes synthetic annotation files in the real formats (NIH Data_Entry_2017 with its header
quirks: 112,120 rows; CheXpert train.csv: 224,316 rows; our shoulder CSV at both sizes) and
times dataset construction: ``load_data_list()`` alone and the full MMEngine init (which also
serialises the data list).

    python benchmarks/data_parse_speed.py [--repeats 3]
"""
import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from osteo_mm.datasets import CheXpertDataset, NIHChestXray14Dataset, ShoulderXrayDataset
from osteo_mm.datasets.labels import CHEXPERT_LABELS, NIH_LABELS

NIH_ROWS, CHEXPERT_ROWS = 112_120, 224_316


def write_nih(root: Path, n: int, rng: np.random.Generator) -> None:
    names = [f'{i // 4:08d}_{i % 4:03d}.png' for i in range(n)]
    picks = rng.integers(0, 15, size=(n, 2))
    findings = ['No Finding' if a == 14 else '|'.join(sorted({NIH_LABELS[a]} | (
        {NIH_LABELS[b]} if b < 14 else set()))) for a, b in picks]
    header = ('Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,'
              'View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],')
    lines = [f'{name},{f},{i % 4},{i // 4},050Y,M,PA,2500,2048,0.143,0.143,'
             for i, (name, f) in enumerate(zip(names, findings))]
    (root / 'Data_Entry_2017.csv').write_text(header + '\n' + '\n'.join(lines) + '\n')


def write_chexpert(root: Path, n: int, rng: np.random.Generator) -> None:
    cells = rng.choice(np.array(['1.0', '0.0', '-1.0', '', '', ''], dtype=object),
                       size=(n, len(CHEXPERT_LABELS)))
    df = pd.DataFrame(cells, columns=list(CHEXPERT_LABELS))
    df.insert(0, 'Path', [f'CheXpert-v1.0-small/train/patient{i // 3:05d}/study1/view{i % 3}'
                          f'_frontal.jpg' for i in range(n)])
    df.insert(1, 'Sex', 'Female')
    df.insert(2, 'Age', 60)
    df.insert(3, 'Frontal/Lateral', np.where(np.arange(n) % 5 == 0, 'Lateral', 'Frontal'))
    df.insert(4, 'AP/PA', 'AP')
    df.to_csv(root / 'train.csv', index=False)


def write_shoulder(root: Path, n: int, rng: np.random.Generator) -> str:
    t = np.round(rng.normal(-1.5, 1.2, n), 1)
    df = pd.DataFrame(dict(image=[f'img/{i:07d}.dcm' for i in range(n)],
                           patient_id=[f'P{i // 2:07d}' for i in range(n)], t_score=t,
                           split=np.where(np.arange(n) // 2 % 10 < 7, 'train', 'val')))
    name = f'shoulder_{n}.csv'
    df.to_csv(root / name, index=False)
    return name


def timed(call) -> tuple[float, float, object]:
    """Wall-clock and process CPU seconds of ``call()`` (CPU time is what a shared box skews
    least), and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = call()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def measure(build, repeats: int) -> tuple[str, str, int]:
    """Best-of-``repeats`` for load_data_list() alone and for the full init, as text."""
    parse, full, size = [], [], 0
    for _ in range(repeats):
        wall, cpu, data = timed(lambda: build(lazy_init=True).load_data_list())
        parse.append((wall, cpu))
        size = len(data)
        full.append(timed(build)[:2])
    return (*(f'{min(w for w, _ in t):.2f} s / {min(c for _, c in t):.2f} s'
              for t in (parse, full)), size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_nih(root, NIH_ROWS, rng)
        write_chexpert(root, CHEXPERT_ROWS, rng)
        small, large = (write_shoulder(root, n, rng) for n in (NIH_ROWS, CHEXPERT_ROWS))
        cases = {
            f'NIHChestXray14Dataset ({NIH_ROWS:,} rows, split=None)':
            lambda **kw: NIHChestXray14Dataset(tmp, split=None, **kw),
            f'CheXpertDataset ({CHEXPERT_ROWS:,} rows, all labels, U-Ones)':
            lambda **kw: CheXpertDataset(tmp, labels='all', uncertainty='ones', **kw),
            f'ShoulderXrayDataset ({NIH_ROWS:,} rows, split=train)':
            lambda **kw: ShoulderXrayDataset(small, data_root=tmp, split='train', **kw),
            f'ShoulderXrayDataset ({CHEXPERT_ROWS:,} rows, split=train)':
            lambda **kw: ShoulderXrayDataset(large, data_root=tmp, split='train', **kw),
        }
        print('| dataset | samples | load_data_list (wall / CPU) | full init incl. '
              'serialisation (wall / CPU) |')
        print('| --- | --- | --- | --- |')
        for name, build in cases.items():
            parse, full, size = measure(build, args.repeats)
            print(f'| {name} | {size:,} | {parse} | {full} |')


if __name__ == '__main__':
    main()

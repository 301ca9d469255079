"""Counterfactual shoulder-phantom films at the reference bone quality (the ``'reference'`` fill).

The shoulder phantom's ``signal_region='roi'`` variant shows the T-score only inside the expert
ROI and the bone of a *reference patient* everywhere else. Rendering a film again with the
patient's DTI and trabecular density set to that reference (same random streams: pose,
exposure, texture, noise and marker) gives the film the patient would have at reference bone
quality. Pasted inside a region, it is the most neutral fill there is: the same anatomy, only
without the label signal. On the ROI-only phantom it equals the original film outside the ROI.

The phantom generator itself renders the films (its manifest ``phantom.json`` holds every
parameter), so the counterfactual cannot drift from the generator; only its draw of the
patient's bone parameters is swapped for the reference values while it runs.
"""
import contextlib
import dataclasses
import json
import os.path as osp
from typing import Iterator

from osteo_mm.datasets.phantom import generate as phantom_generate
from osteo_mm.datasets.phantom import shoulder as phantom_shoulder

_MANIFEST = 'phantom.json'


def reference_bone() -> tuple:
    """``(dti, trabecular_density)`` of the phantom's reference patient (T = -1.0)."""
    return phantom_shoulder._REF_DTI, phantom_shoulder._REF_DENSITY


@contextlib.contextmanager
def _reference_patients() -> Iterator[None]:
    """While open, the generator draws patients as usual and gives them the reference bone."""
    original = phantom_generate.sample_patient
    dti, density = reference_bone()

    def sample_reference(rng, index):
        patient = original(rng, index)  # same draws: age, sex, T-score, label unchanged
        return dataclasses.replace(patient, dti=dti, trabecular_density=density)

    phantom_generate.sample_patient = sample_reference
    try:
        yield
    finally:
        phantom_generate.sample_patient = original


def is_shoulder_phantom(data_root: str) -> bool:
    """Whether ``data_root`` holds a shoulder phantom written by ``tools/make_phantom.py``."""
    path = osp.join(data_root, _MANIFEST)
    if not osp.isfile(path):
        return False
    with open(path) as file:
        return json.load(file).get('kind') == 'shoulder'


def write_reference_phantom(data_root: str, out_dir: str, workers: int = 1,
                            progress: bool = True) -> str:
    """Render every film of a shoulder phantom again at the reference bone quality.

    The output has the phantom's layout (``images/``, ``masks/``, ``labels.csv`` with the same
    ids, splits and labels; the ``dti`` column holds the reference value), so the dataset
    config works on it with ``data_root`` swapped. Resumable like the generator.

    Args:
        data_root (str): Folder of a shoulder phantom (with ``phantom.json``).
        out_dir (str): Output folder (empty, or an earlier reference run of the same phantom).
        workers (int): Worker processes. Defaults to 1.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        str: Path of the counterfactual ``labels.csv``.

    Raises:
        ValueError: When ``data_root`` is not a shoulder phantom.
    """
    if not is_shoulder_phantom(data_root):
        raise ValueError(f'{data_root} holds no shoulder phantom ({_MANIFEST} with kind '
                         "'shoulder'): the 'reference' fill exists for phantoms only")
    with open(osp.join(data_root, _MANIFEST)) as file:
        params = json.load(file)
    params.pop('kind')
    params['fmt'] = params.pop('format')
    with _reference_patients():
        return phantom_generate.generate_shoulder(out_dir, workers=workers, progress=progress,
                                                  **params)

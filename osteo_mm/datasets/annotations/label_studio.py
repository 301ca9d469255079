"""Label Studio JSON export: tasks whose region coordinates are percentages of the image size.

Each task: ``data.<image key>`` (the image URL or path) and ``annotations[].result[]`` regions
with ``original_width``/``original_height`` and a ``value``:
``polygonlabels`` (``points`` [[x%, y%], ...]), ``rectanglelabels`` (``x, y, width, height`` in %,
``rotation`` in degrees clockwise about the top-left corner) and ``ellipselabels`` (centre ``x, y``
and ``radiusX``/``radiusY`` in %, ``rotation`` about the centre). Label Studio prefixes uploaded
file names with an 8-hex-digit hash and a dash (``/data/upload/3/1a2b3c4d-case07.png``); the
matcher also tries the name without it. ``brushlabels`` use Label Studio's own RLE and are refused
(export COCO instead); keypoints are reported as ignored.
"""
from __future__ import annotations

import numpy as np

from .base import ImageRois, Shape, check_polygon, ellipse_points, file_error
from .io import keep_label, load_json

AREA_TYPES = ('polygonlabels', 'rectanglelabels', 'ellipselabels')
NOT_AREAS = ('keypointlabels', 'choices', 'textarea', 'labels', 'rating', 'number')


def read_label_studio(src: str, labels=None) -> list[ImageRois]:
    """One :class:`ImageRois` per annotated task.

    Args:
        src (str): The Label Studio JSON export (a list of tasks).
        labels (set[str], optional): Region labels to import; None imports all.

    Returns:
        list[ImageRois]: Items keyed by the task's image name.

    Raises:
        XrayDataError: On malformed tasks or regions, or a task with several submitted
            annotations (several annotators: resolve them in Label Studio first).
    """
    tasks = load_json(src)
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list) or not all(isinstance(t, dict) and 'data' in t
                                              for t in tasks):
        raise file_error(src, 'not a Label Studio JSON export (a list of tasks with "data")')
    items = []
    for task in tasks:
        data = task['data']
        images = ([data['image']] if isinstance(data.get('image'), str) else
                  [v for v in data.values() if isinstance(v, str)])
        item = f"task id {task.get('id')}"
        if len(images) != 1:
            raise file_error(src, f'{item}: expected one image in "data" (key "image" or a '
                             f'single text field), found {images[:3]}')
        name = images[0].split('?')[0].replace('\\', '/')
        rois = ImageRois(src, f'{item} ({name.rsplit("/", 1)[-1]})', name=name)
        done = [a for a in task.get('annotations', []) if not a.get('was_cancelled')]
        if len(done) > 1:
            rois.fail(f'{len(done)} submitted annotations (several annotators); keep one per '
                      'task in Label Studio before export')
        for k, region in enumerate(done[0].get('result', []) if done else []):
            _region(region, k, rois, labels)
        if rois.shapes or rois.ignored:
            items.append(rois)
    return items


def _region(region: dict, k: int, rois: ImageRois, labels) -> None:
    kind = region.get('type', '')
    value = region.get('value', {})
    names = value.get(kind, []) if isinstance(value, dict) else []
    label = ','.join(map(str, names))
    what = f'result {k} ({kind} {label!r})'
    if kind in NOT_AREAS:
        rois.ignored.append(f'{what}: not an area')
        return
    if kind == 'brushlabels':
        rois.fail(f'{what}: brush regions use Label Studio\'s own RLE; export this project as '
                  'COCO and use the coco format')
    if kind not in AREA_TYPES:
        rois.fail(f'{what}: unknown region type {kind!r}')
    if labels and not any(keep_label(n, labels) for n in names):
        rois.ignored.append(f'{what}: label not selected')
        return
    try:
        size = (int(region['original_height']), int(region['original_width']))
    except (KeyError, TypeError, ValueError):
        rois.fail(f'{what}: original_width/original_height missing (needed to scale percents)')
    if rois.size not in (None, size):
        rois.fail(f'{what}: original size {size[::-1]} differs from an earlier region '
                  f'{rois.size[::-1]}')
    rois.size = size
    sx, sy = size[1] / 100.0, size[0] / 100.0
    try:
        if kind == 'polygonlabels':
            pts = check_polygon(value.get('points'), rois, what) * [sx, sy]
            rois.shapes.append(Shape('polygon', pts, label=label))
        elif kind == 'rectanglelabels':
            x, y, w, h = (float(value[key]) * s for key, s in
                          (('x', sx), ('y', sy), ('width', sx), ('height', sy)))
            rot = float(value.get('rotation', 0) or 0)
            if w <= 0 or h <= 0:
                rois.fail(f'{what}: rectangle has no area')
            box = Shape.from_box(x, y, w, h, label)
            if rot % 360:
                a = np.deg2rad(rot)  # clockwise (y down) about the top-left corner
                rel = box.points - box.points[0]
                rot_m = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
                box = Shape('polygon', box.points[0] + rel @ rot_m, label=label)
            rois.shapes.append(box)
        else:
            cx, cy, rx, ry = (float(value[key]) * s for key, s in
                              (('x', sx), ('y', sy), ('radiusX', sx), ('radiusY', sy)))
            rot = float(value.get('rotation', 0) or 0)
            rois.shapes.append(Shape('polygon', ellipse_points(cx, cy, rx, ry, rot), label=label))
    except (KeyError, TypeError, ValueError) as err:
        rois.fail(f'{what}: malformed value ({type(err).__name__}: {err})')

"""COCO instance annotations (``instances_*.json``): polygons and RLE, via pycocotools.

Schema (cocodataset.org, "Data format"): ``images[{id, file_name, width, height}]``,
``annotations[{id, image_id, category_id, segmentation, bbox, iscrowd}]``, ``categories[{id,
name}]``. ``segmentation`` is a list of polygons ``[x1, y1, x2, y2, ...]`` or an RLE dict
``{size: [h, w], counts}`` with uncompressed (list) or compressed (string) counts. An annotation
with only a ``bbox`` (``x, y, w, h``) is a box.
"""
from __future__ import annotations

from .base import ImageRois, Shape, file_error
from .io import keep_label, load_json


def read_coco(src: str, labels=None) -> list[ImageRois]:
    """One :class:`ImageRois` per COCO image that has annotations.

    Args:
        src (str): The COCO JSON file.
        labels (set[str], optional): Category names to import; None imports all.

    Returns:
        list[ImageRois]: Items keyed by ``file_name``.
    """
    from pycocotools import mask as mask_utils

    data = load_json(src)
    if not isinstance(data, dict) or 'images' not in data or 'annotations' not in data:
        raise file_error(src, 'not a COCO file (needs "images" and "annotations")')
    names = {c.get('id'): str(c.get('name', '')) for c in data.get('categories', [])}
    images, items = {}, {}
    for img in data['images']:
        try:
            images[img['id']] = (str(img['file_name']), int(img['height']), int(img['width']))
        except (KeyError, TypeError, ValueError):
            raise file_error(src, f'image entry {str(img)[:80]} needs id, file_name, '
                                      'width and height') from None
    for ann in data['annotations']:
        item = f"annotation id {ann.get('id')}"
        if ann.get('image_id') not in images:
            raise file_error(src, f"{item}: image_id {ann.get('image_id')!r} is not "
                                      'in "images"')
        name, h, w = images[ann['image_id']]
        rois = items.setdefault(ann['image_id'], ImageRois(
            src, f"image id {ann['image_id']} ({name})", name=name, size=(h, w)))
        label = names.get(ann.get('category_id'), str(ann.get('category_id')))
        if not keep_label(label, labels):
            rois.ignored.append(f'{item}: label {label!r} not selected')
            continue
        segm = ann.get('segmentation')
        try:
            if segm:
                if isinstance(segm, list):
                    bad = [p for p in segm if len(p) < 6 or len(p) % 2]
                    if bad:
                        rois.fail(f'{item}: polygon with {len(bad[0])} numbers (needs an even '
                                  'number, at least 6)')
                    rle = mask_utils.merge(mask_utils.frPyObjects(segm, h, w))
                elif isinstance(segm, dict) and 'counts' in segm and 'size' in segm:
                    if list(segm['size']) != [h, w]:
                        rois.fail(f'{item}: RLE size {segm["size"]} differs from the image size '
                                  f'[{h}, {w}]')
                    rle = (mask_utils.frPyObjects(segm, h, w) if isinstance(segm['counts'], list)
                           else segm)
                else:
                    rois.fail(f'{item}: segmentation is neither polygons nor RLE')
                mask = mask_utils.decode(rle).astype(bool)
                rois.shapes.append(Shape('mask', mask=mask, label=label))
            elif ann.get('bbox'):
                x, y, bw, bh = (float(v) for v in ann['bbox'])
                if bw <= 0 or bh <= 0:
                    rois.fail(f'{item}: bbox {ann["bbox"]} has no area')
                rois.shapes.append(Shape.from_box(x, y, bw, bh, label))
            else:
                rois.fail(f'{item}: neither segmentation nor bbox')
        except (TypeError, ValueError) as err:  # pycocotools' errors on malformed input
            rois.fail(f'{item}: malformed segmentation ({err})')
    return list(items.values())

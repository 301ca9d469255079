"""import_rois: every annotation format gives back the mask it was made from (within 1 px at the
edges), and unmatched, malformed or already-annotated items give clear errors.

Masks are written with the format's own library where there is one (pycocotools, highdicom) and
otherwise as hand-written files in the tool's real schema; the expected masks come from OpenCV's
rasteriser, an independent implementation.
"""
import base64
import json
import os.path as osp
import runpy
import sys
from unittest import mock

import cv2
import numpy as np
import pandas as pd
import pydicom
import pytest
from dicom_factory import make_film

from osteo_mm.datasets import ShoulderXrayDataset
from osteo_mm.datasets.annotations import read_cvat, read_labelme
from osteo_mm.datasets.errors import XrayDataError
from osteo_mm.datasets.transforms import LoadRoiMask, LoadXrayFromFile

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
H, W = 40, 56
POLY = np.array([[8.0, 6.0], [40.0, 9.0], [47.0, 30.0], [20.0, 34.0], [10.0, 22.0]])


def run_tool(*args):
    script = osp.join(ROOT, 'tools/dataset_converters/import_rois.py')
    with mock.patch.object(sys, 'argv', [script, *map(str, args)]):
        try:
            runpy.run_path(script, run_name='__main__')
        except SystemExit as exit_:
            return exit_.code
    return 0


def cv2_polygon(points, shape=(H, W)):
    """OpenCV's fill (pixel centres on integer coordinates, hence the -0.5 shift)."""
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round((np.asarray(points) - 0.5) * 16).astype(np.int32)], 1,
                 shift=4)
    return mask.astype(bool)


def assert_same_within_1px(got, expected):
    got, expected = got.astype(bool), expected.astype(bool)
    assert got.shape == expected.shape
    kernel = np.ones((3, 3), np.uint8)
    edge = (cv2.dilate(expected.astype(np.uint8), kernel) > 0) & \
        ~(cv2.erode(expected.astype(np.uint8), kernel) > 0)
    assert not ((got ^ expected) & ~edge).any(), 'masks differ away from the edges'
    assert (got & expected).sum() / (got | expected).sum() > 0.85


@pytest.fixture
def dataset(tmp_path):
    """A data root with two PNGs and a DICOM film, and the shoulder CSV listing them."""
    root = tmp_path / 'data'
    (root / 'imgs').mkdir(parents=True)
    (root / 'other').mkdir()
    gray = np.random.default_rng(0).integers(0, 255, (H, W), dtype=np.uint8)
    cv2.imwrite(str(root / 'imgs' / 'case1.png'), gray)
    cv2.imwrite(str(root / 'other' / 'case3.png'), gray)
    film = make_film(gray.astype(np.uint16) * 16)
    film.save_as(root / 'imgs' / 'case2.dcm', enforce_file_format=True)
    pd.DataFrame(dict(image=['imgs/case1.png', 'imgs/case2.dcm', 'other/case3.png'],
                      patient_id=['p1', 'p2', 'p3'], label=['normal', 'osteoporosis', 'normal'])
                 ).to_csv(root / 'labels.csv', index=False)
    return root


def imported(root, fmt, src, *extra):
    code = run_tool(fmt, src, '--ann-file', root / 'labels.csv', '--out-dir',
                    root / 'masks', *extra)
    assert code == 0
    return pd.read_csv(root / 'labels.csv', dtype=str, keep_default_na=False)


def mask_of(root, table, image):
    cell = table.set_index('image').at[image, 'roi_mask']
    return cv2.imread(str(root / cell), cv2.IMREAD_GRAYSCALE) > 0


def test_coco_polygons_and_rle_round_trip(dataset, tmp_path, capsys):
    from pycocotools import mask as mask_utils
    blob = np.zeros((H, W), np.uint8)
    cv2.circle(blob, (30, 20), 9, 1, -1)
    rle = mask_utils.encode(np.asfortranarray(blob))
    coco = dict(
        images=[dict(id=1, file_name='case1.png', width=W, height=H),
                dict(id=2, file_name='other/case3.png', width=W, height=H),
                dict(id=3, file_name='ghost.png', width=W, height=H)],
        annotations=[dict(id=10, image_id=1, category_id=1, iscrowd=0,
                          segmentation=[POLY.ravel().tolist()]),
                     dict(id=11, image_id=2, category_id=1, iscrowd=1,
                          segmentation=dict(size=[H, W], counts=rle['counts'].decode())),
                     dict(id=12, image_id=3, category_id=1, iscrowd=0, bbox=[1, 1, 5, 5])],
        categories=[dict(id=1, name='humerus')])
    src = tmp_path / 'coco.json'
    src.write_text(json.dumps(coco))
    table = imported(dataset, 'coco', src)
    assert_same_within_1px(mask_of(dataset, table, 'imgs/case1.png'), cv2_polygon(POLY))
    np.testing.assert_array_equal(mask_of(dataset, table, 'other/case3.png'), blob > 0)
    assert table.set_index('image').at['imgs/case2.dcm', 'roi_mask'] == ''
    err = capsys.readouterr().err
    assert "unmatched: " in err and "image id 3 (ghost.png): no CSV row with file name" in err
    # --strict turns the unmatched item into an error before anything is written.
    before = (dataset / 'labels.csv').read_text()
    assert run_tool('coco', src, '--ann-file', dataset / 'labels.csv', '--out-dir',
                    dataset / 'masks', '--overwrite', '--strict') == 2
    assert 'match no row, nothing written' in capsys.readouterr().err
    assert (dataset / 'labels.csv').read_text() == before


def test_coco_malformed_polygon_names_file_and_item(dataset, tmp_path, capsys):
    coco = dict(images=[dict(id=1, file_name='case1.png', width=W, height=H)],
                annotations=[dict(id=7, image_id=1, category_id=1, segmentation=[[1, 2, 3]])],
                categories=[])
    (tmp_path / 'bad.json').write_text(json.dumps(coco))
    assert run_tool('coco', tmp_path / 'bad.json', '--ann-file', dataset / 'labels.csv',
                    '--out-dir', dataset / 'masks') == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: ') and 'bad.json: image id 1 (case1.png): annotation id 7: ' \
        'polygon with 3 numbers' in err and len(err.splitlines()) == 1


def test_labelme_shapes_round_trip_and_boxes_fill_roi_bbox(dataset, tmp_path):
    (tmp_path / 'lm').mkdir()
    crop = np.zeros((6, 9), np.uint8)
    crop[1:5, 2:8] = 255
    doc = lambda path, shapes: dict(version='5.4.1', flags={}, shapes=shapes, imagePath=path,  # noqa
                                    imageData=None, imageHeight=H, imageWidth=W)
    (tmp_path / 'lm' / 'case1.json').write_text(json.dumps(doc('../data/imgs/case1.png', [
        dict(label='cortex', points=POLY.tolist(), shape_type='polygon', group_id=None, flags={}),
        dict(label='cortex', points=[[30, 30], [40, 30]], shape_type='line', flags={}),
        dict(label='trab', points=[[44, 4], [52, 13]], shape_type='mask', flags={},
             mask=base64.b64encode(cv2.imencode('.png', crop)[1].tobytes()).decode())])))
    (tmp_path / 'lm' / 'case3.json').write_text(json.dumps(doc('case3.png', [
        dict(label='cortex', points=[[12, 5], [30, 17]], shape_type='rectangle', flags={})])))
    table = imported(dataset, 'labelme', tmp_path / 'lm')
    expected = cv2_polygon(POLY)
    expected[4 + 1:4 + 5, 44 + 2:44 + 8] = True
    assert_same_within_1px(mask_of(dataset, table, 'imgs/case1.png'), expected)
    rows = table.set_index('image')
    assert rows.at['imgs/case1.png', 'roi_bbox'] == ''
    assert rows.at['other/case3.png', 'roi_bbox'] == '12,5,18,12'
    # The dataset reads the result; the box and the mask give the same ROI pixels.
    ds = ShoulderXrayDataset(str(dataset / 'labels.csv'), data_root=str(dataset))
    info = [d for d in ds.load_data_list() if d['img_id'] == 'other/case3.png'][0]
    loaded = LoadRoiMask()(LoadXrayFromFile()(dict(info)))['roi_mask']
    without_mask = dict(info, roi_mask_path=None)
    from_box = LoadRoiMask()(LoadXrayFromFile()(without_mask))['roi_mask']
    np.testing.assert_array_equal(loaded, from_box)
    assert loaded[5:17, 12:30].all() and loaded.sum() == 12 * 18


def test_labelme_size_mismatch_and_bad_shape(dataset, tmp_path):
    path = tmp_path / 'case1.json'
    path.write_text(json.dumps(dict(shapes=[dict(label='x', points=POLY.tolist(),
                                                 shape_type='polygon')],
                                    imagePath='case1.png', imageHeight=H * 2, imageWidth=W * 2)))
    with pytest.raises(XrayDataError, match=r"case1.json: image 'case1.png': annotated at "
                       r'112x80 px but imgs/case1.png is 56x40 px'):
        from osteo_mm.datasets.annotations import import_rois
        import_rois(read_labelme(str(path)), str(dataset / 'labels.csv'), str(tmp_path / 'm'))
    path.write_text(json.dumps(dict(shapes=[dict(label='x', points=[[1, 2]],
                                                 shape_type='polygon')],
                                    imagePath='case1.png', imageHeight=H, imageWidth=W)))
    with pytest.raises(XrayDataError, match=r"case1.json: image 'case1.png': shape 0 \(polygon "
                       r"'x'\): a polygon needs at least 3"):
        read_labelme(str(path))


def cvat_rle(mask):
    """CVAT's mask RLE: row-major runs over the mask box, starting with background."""
    flat = mask.ravel().astype(int)
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    return ([0] if flat[0] else []) + runs


def test_cvat_polygon_box_and_mask_round_trip(dataset, tmp_path, capsys):
    crop = np.zeros((8, 10), bool)
    crop[2:7, 1:9] = True
    crop[4, 4] = False
    xml = f"""<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><name>shoulder</name></task></meta>
  <image id="0" name="imgs/case1.png" width="{W}" height="{H}">
    <polygon label="cortex" source="manual" occluded="0" z_order="0"
             points="{';'.join(f'{x:.2f},{y:.2f}' for x, y in POLY)}"/>
    <polyline label="axis" source="manual" occluded="0" points="1,1;5,5"/>
    <mask label="trab" source="manual" occluded="0" z_order="0"
          rle="{', '.join(map(str, cvat_rle(crop)))}" left="40" top="25" width="10" height="8"/>
  </image>
  <image id="1" name="case3.png" width="{W}" height="{H}">
    <box label="cortex" source="manual" occluded="0" xtl="3.00" ytl="4.00" xbr="20.00"
         ybr="30.00" z_order="0"/>
  </image>
  <image id="2" name="unlabelled.png" width="{W}" height="{H}"></image>
</annotations>"""
    (tmp_path / 'annotations.xml').write_text(xml)
    table = imported(dataset, 'cvat', tmp_path / 'annotations.xml')
    expected = cv2_polygon(POLY)
    expected[25:33, 40:50] |= crop
    assert_same_within_1px(mask_of(dataset, table, 'imgs/case1.png'), expected)
    assert table.set_index('image').at['other/case3.png', 'roi_bbox'] == '3,4,17,26'
    assert 'ignored: ' in capsys.readouterr().out
    bad = xml.replace('rle="', 'rle="3, ')
    (tmp_path / 'bad.xml').write_text(bad)
    with pytest.raises(XrayDataError, match=r'bad.xml: image id 0 \(imgs/case1.png\): <mask> 2 '
                       r"\(label 'trab'\): rle counts sum to 83"):
        read_cvat(str(tmp_path / 'bad.xml'))


def test_label_studio_percent_coordinates_round_trip(dataset, tmp_path):
    pct = POLY / [W, H] * 100
    tasks = [dict(id=5, data=dict(image='/data/upload/2/1a2b3c4d-case1.png'), annotations=[dict(
        id=1, was_cancelled=False, result=[
            dict(id='a', type='polygonlabels', from_name='roi', to_name='image',
                 original_width=W, original_height=H, image_rotation=0,
                 value=dict(points=pct.tolist(), closed=True, polygonlabels=['cortex'])),
            dict(id='b', type='rectanglelabels', from_name='roi', to_name='image',
                 original_width=W, original_height=H, image_rotation=0,
                 value=dict(x=75.0, y=50.0, width=12.5, height=25.0, rotation=0,
                            rectanglelabels=['trab']))])])]
    (tmp_path / 'ls.json').write_text(json.dumps(tasks))
    table = imported(dataset, 'label-studio', tmp_path / 'ls.json')
    expected = cv2_polygon(POLY)
    expected[20:30, 42:49] = True  # 75% of 56 = 42, 12.5% = 7; 50% of 40 = 20, 25% = 10
    assert_same_within_1px(mask_of(dataset, table, 'imgs/case1.png'), expected)


def test_dicom_seg_round_trip_by_sop_instance_uid(dataset, tmp_path):
    import highdicom as hd
    from pydicom.sr.codedict import codes
    film = pydicom.dcmread(dataset / 'imgs' / 'case2.dcm')
    mask = cv2_polygon(POLY)
    seg = hd.seg.Segmentation(
        source_images=[film], pixel_array=mask, segmentation_type='BINARY',
        segment_descriptions=[hd.seg.SegmentDescription(
            segment_number=1, segment_label='Humerus', segmented_property_category=codes.SCT.Tissue,
            segmented_property_type=codes.SCT.Bone,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)],
        series_instance_uid=hd.UID(), series_number=2, sop_instance_uid=hd.UID(),
        instance_number=1, manufacturer='Slicer', manufacturer_model_name='test',
        software_versions='0', device_serial_number='0')
    seg.save_as(tmp_path / 'seg.dcm')
    table = imported(dataset, 'dicom-seg', tmp_path / 'seg.dcm', '--label', 'Humerus')
    np.testing.assert_array_equal(mask_of(dataset, table, 'imgs/case2.dcm'), mask)
    assert table.set_index('image').at['imgs/case2.dcm', 'roi_mask'] == 'masks/imgs/case2.png'


def _sr(film, regions, path):
    import highdicom as hd
    from pydicom.sr.codedict import codes
    groups = [hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier=f'roi {i}'),
        referenced_region=hd.sr.ImageRegion(
            graphic_type=kind, graphic_data=np.asarray(points, float),
            source_image=hd.sr.SourceImageForRegion.from_source_image(film)))
        for i, (kind, points) in enumerate(regions)]
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(name='R^A'))
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_person_context=observer),
        procedure_reported=codes.LN.CTUnspecifiedBodyRegion, imaging_measurements=groups)
    hd.sr.Comprehensive3DSR(evidence=[film], content=report, series_number=3,
                            series_instance_uid=hd.UID(), sop_instance_uid=hd.UID(),
                            instance_number=1, manufacturer='OHIF').save_as(path)


def test_dicom_sr_spatial_coordinates_round_trip(dataset, tmp_path, capsys):
    film = pydicom.dcmread(dataset / 'imgs' / 'case2.dcm')
    closed = np.vstack([POLY, POLY[:1]])
    _sr(film, [('POLYLINE', closed), ('CIRCLE', [[40, 28], [45, 28]]),
               ('POINT', [[3, 3]])], tmp_path / 'sr.dcm')
    table = imported(dataset, 'dicom-sr', tmp_path / 'sr.dcm')
    expected = cv2_polygon(POLY)
    yy, xx = np.mgrid[:H, :W]
    expected |= (xx + 0.5 - 40) ** 2 + (yy + 0.5 - 28) ** 2 <= 25
    assert_same_within_1px(mask_of(dataset, table, 'imgs/case2.dcm'), expected)
    assert 'point is not an area' in capsys.readouterr().out
    # An SR about another film matches no row and is listed.
    other = make_film(np.zeros((H, W)))
    _sr(other, [('POLYLINE', closed)], tmp_path / 'sr_other.dcm')
    assert run_tool('dicom-sr', tmp_path / 'sr_other.dcm', '--ann-file', dataset / 'labels.csv',
                    '--out-dir', dataset / 'masks') == 0
    assert f'no CSV row with SOPInstanceUID {other.SOPInstanceUID}' in capsys.readouterr().err


def test_existing_rois_are_not_overwritten_without_the_flag(dataset, tmp_path, capsys):
    coco = dict(images=[dict(id=1, file_name='case1.png', width=W, height=H)],
                annotations=[dict(id=1, image_id=1, category_id=1, bbox=[2, 2, 10, 10])],
                categories=[])
    (tmp_path / 'c.json').write_text(json.dumps(coco))
    imported(dataset, 'coco', tmp_path / 'c.json')
    before = (dataset / 'labels.csv').read_text()
    assert run_tool('coco', tmp_path / 'c.json', '--ann-file', dataset / 'labels.csv',
                    '--out-dir', dataset / 'masks') == 2
    assert 'already have an ROI or a mask file (imgs/case1.png); pass --overwrite' in \
        capsys.readouterr().err
    assert (dataset / 'labels.csv').read_text() == before
    assert imported(dataset, 'coco', tmp_path / 'c.json', '--overwrite') is not None


def test_rotated_boxes_and_ellipses_follow_each_tools_convention(tmp_path):
    from osteo_mm.datasets.annotations import rasterize, read_label_studio
    yy, xx = np.mgrid[:H, :W] + 0.5
    # CVAT: boxes turn clockwise (y down) about their centre; an ellipse turned by 90 degrees
    # swaps its radii.
    (tmp_path / 'a.xml').write_text(f"""<annotations><version>1.1</version>
  <image id="0" name="a.png" width="{W}" height="{H}">
    <box label="r" xtl="10" ytl="14" xbr="30" ybr="20" rotation="30"/></image>
  <image id="1" name="b.png" width="{W}" height="{H}">
    <ellipse label="e" cx="28" cy="20" rx="6" ry="12" rotation="90"/></image>
</annotations>""")
    box, ellipse = read_cvat(str(tmp_path / 'a.xml'))
    a = np.deg2rad(30)  # pixel centres turned back by -30 degrees about the centre (20, 17)
    qx = np.cos(a) * (xx - 20) + np.sin(a) * (yy - 17)
    qy = -np.sin(a) * (xx - 20) + np.cos(a) * (yy - 17)
    expected_box = (np.abs(qx) < 10) & (np.abs(qy) < 3)
    assert_same_within_1px(rasterize(box, (H, W)), expected_box)
    expected_ellipse = ((xx - 28) / 12) ** 2 + ((yy - 20) / 6) ** 2 <= 1
    assert_same_within_1px(rasterize(ellipse, (H, W)), expected_ellipse)
    # Label Studio: rectangles rotate clockwise about their top-left corner (x, y).
    task = dict(id=1, data=dict(image='c.png'), annotations=[dict(result=[dict(
        type='rectanglelabels', original_width=W, original_height=H,
        value=dict(x=50.0, y=25.0, width=25.0, height=12.5, rotation=90,
                   rectanglelabels=['r']))])])
    (tmp_path / 'ls.json').write_text(json.dumps([task]))
    (rect,) = read_label_studio(str(tmp_path / 'ls.json'))
    # (x, y) = (28, 10), w = 14, h = 5: after the turn it spans x 23..28 and y 10..24.
    expected_rect = (xx > 23) & (xx < 28) & (yy > 10) & (yy < 24)
    assert_same_within_1px(rasterize(rect, (H, W)), expected_rect)

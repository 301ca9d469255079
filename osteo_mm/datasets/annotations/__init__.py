"""Expert ROIs from annotation tools and PACS viewers (``tools/dataset_converters/import_rois.py``).

One module per format; each ``read_*`` returns :class:`~.base.ImageRois` items that
:func:`~.importer.import_rois` matches to the shoulder CSV.
"""
from .base import AnnotationError, ImageRois, Shape, rasterize, rasterize_polygon
from .coco import read_coco
from .cvat import read_cvat
from .dicom_seg import read_dicom_seg
from .dicom_sr import read_dicom_sr
from .importer import ImportReport, import_rois
from .label_studio import read_label_studio
from .labelme import read_labelme

#: Format name (the tool's FORMAT argument) -> reader.
FORMATS = {
    'coco': read_coco,
    'labelme': read_labelme,
    'cvat': read_cvat,
    'label-studio': read_label_studio,
    'dicom-seg': read_dicom_seg,
    'dicom-sr': read_dicom_sr,
}

__all__ = ['FORMATS', 'AnnotationError', 'ImageRois', 'ImportReport', 'Shape', 'import_rois',
           'rasterize', 'rasterize_polygon']

"""Contact sheets show both shoulder classes and every chest finding with outlines."""
import numpy as np

from osteo_mm.datasets.phantom import CHEST_FINDINGS
from osteo_mm.datasets.phantom.contact_sheet import chest_contact_sheet, shoulder_contact_sheet


def _coloured(tile):
    """Pixels drawn in colour (outlines, captions) rather than film gray."""
    return (tile.max(axis=2).astype(int) - tile.min(axis=2) > 60).sum()


def test_shoulder_sheet_has_two_annotated_rows():
    sheet = shoulder_contact_sheet(per_class=2, size=64, seed=0)
    assert sheet.shape == (128, 128, 3) and sheet.dtype == np.uint8
    tiles = [sheet[r:r + 64, c:c + 64] for r in (0, 64) for c in (0, 64)]
    assert all(_coloured(tile) > 20 for tile in tiles)


def test_chest_sheet_has_a_tile_per_finding():
    sheet = chest_contact_sheet(size=64, seed=0, columns=4)
    tiles = (1 + len(CHEST_FINDINGS)) // 4
    assert sheet.shape == (64 * tiles, 256, 3)

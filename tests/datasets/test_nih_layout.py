"""The NIH archive as downloaded (images_*/images/) is found without any setting."""
import os

import numpy as np
import pytest

from osteo_mm.datasets import NIHChestXray14Dataset
from osteo_mm.datasets.errors import XrayDataError
from osteo_mm.datasets.nih_layout import INDEX_NAME, build_image_index, locate_nih_images

HEADER = ('Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,'
          'View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]')


def nested_root(root, per_folder=(4, 3, 5)):
    """Data_Entry + films spread over images_001/images ... like the official tarballs."""
    names, where = [], {}
    for f, count in enumerate(per_folder, 1):
        folder = root / f'images_{f:03d}' / 'images'
        folder.mkdir(parents=True)
        for _ in range(count):
            name = f'{len(names) // 2:08d}_{len(names) % 2:03d}.png'
            (folder / name).write_bytes(b'')
            names.append(name)
            where[name] = f'images_{f:03d}/images/{name}'
    rows = [f'{n},No Finding,0,{i // 2},050Y,M,PA,64,64,0.1,0.1' for i, n in enumerate(names)]
    (root / 'Data_Entry_2017_v2020.csv').write_text(HEADER + '\n' + '\n'.join(rows) + '\n')
    return names, where


def test_default_finds_every_film_of_the_nested_layout(tmp_path):
    names, where = nested_root(tmp_path)
    ds = NIHChestXray14Dataset(str(tmp_path), ann_file='Data_Entry_2017_v2020.csv', split=None,
                               serialize_data=False)
    assert len(ds) == len(names)
    for info in ds.data_list:
        name = info['img_id'].rsplit('/', 1)[-1]
        assert info['img_id'] == where[name]
        assert info['img_path'] == os.path.join(str(tmp_path), where[name])
        assert os.path.isfile(info['img_path'])
    assert (tmp_path / INDEX_NAME).is_file()  # one cached index of every path


def test_index_is_reused_and_rebuilt_when_a_folder_changes(tmp_path):
    names, where = nested_root(tmp_path)
    first = build_image_index(str(tmp_path))
    assert sorted(first) == sorted(where.values())
    index = tmp_path / INDEX_NAME
    # A stale entry planted in the cache is served while the folders are unchanged ...
    index.write_text(index.read_text() + 'images_001/images/planted.png\n')
    assert 'images_001/images/planted.png' in build_image_index(str(tmp_path))
    # ... and dropped once a folder changes (its mtime is part of the signature).
    extra = tmp_path / 'images_002' / 'images' / '99999999_000.png'
    extra.write_bytes(b'')
    os.utime(extra.parent, ns=(1, 10**18))
    rebuilt = build_image_index(str(tmp_path))
    assert 'images_001/images/planted.png' not in rebuilt
    assert 'images_002/images/99999999_000.png' in rebuilt


def test_missing_films_are_named(tmp_path):
    names, where = nested_root(tmp_path)
    os.remove(tmp_path / where[names[5]])
    with pytest.raises(XrayDataError, match=rf'1 film\(s\).*{names[5]}'):
        NIHChestXray14Dataset(str(tmp_path), ann_file='Data_Entry_2017_v2020.csv', split=None)


def test_flat_folder_duplicates_and_no_folder(tmp_path):
    (tmp_path / 'images').mkdir()
    (tmp_path / 'images' / 'a.png').write_bytes(b'')
    assert list(locate_nih_images(str(tmp_path), np.array(['a.png']))) == ['images/a.png']
    nested = tmp_path / 'n'
    for f in ('images_001', 'images_002'):
        (nested / f / 'images').mkdir(parents=True)
        (nested / f / 'images' / 'a.png').write_bytes(b'')
    with pytest.raises(XrayDataError, match='two image folders'):
        locate_nih_images(str(nested), np.array(['a.png']))
    with pytest.raises(XrayDataError, match='no NIH image folder'):
        locate_nih_images(str(tmp_path / 'empty'), np.array(['a.png']))

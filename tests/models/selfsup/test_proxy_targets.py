"""The pretext inputs and labels are what the tasks claim they are."""
import numpy as np
import pytest
import torch
from mmpretrain.registry import MODELS

import osteo_mm  # noqa: F401  (registers the algorithms)
from osteo_mm.models.selfsup import rotate_batch
from osteo_mm.models.selfsup.genesis_ops import bezier_intensity, local_pixel_shuffle, paint
from osteo_mm.models.selfsup.patch_grid import (
    extract_grid_patches,
    maximal_hamming_permutations,
    normalize_patches,
)

TINY_RESNET = dict(type='ResNet', depth=18)
POOL = dict(type='GlobalAveragePooling')


def test_rotated_image_label_is_its_rotation_index():
    images = torch.rand(3, 1, 8, 8)

    rotated, labels = rotate_batch(images)

    assert labels.tolist() == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3
    for i in range(12):
        assert torch.equal(torch.rot90(rotated[i], -int(labels[i]), dims=(1, 2)), images[i % 3])
    assert not torch.equal(rotated[3], images[0])


def test_rotation_rejects_non_square_images():
    with pytest.raises(ValueError, match='square'):
        rotate_batch(torch.rand(2, 3, 8, 10))


def test_grid_patches_sit_at_nominal_positions_without_jitter():
    images = torch.arange(2 * 20 * 20, dtype=torch.float32).reshape(2, 1, 20, 20)

    # 3 tiles of 4 px and 2 gaps of 4 px fill 20 px exactly: the grid origin is fixed.
    patches, corners = extract_grid_patches(images, grid=3, patch_size=4, gap=4, jitter=0)

    assert patches.shape == (2, 9, 1, 4, 4)
    assert corners[0].tolist() == [[y, x] for y in (0, 8, 16) for x in (0, 8, 16)]
    assert torch.equal(patches[1, 5], images[1, :, 8:12, 16:20])


def test_jittered_patches_keep_their_content_and_stay_near_the_grid():
    torch.manual_seed(0)
    images = torch.rand(4, 3, 40, 40)

    patches, corners = extract_grid_patches(images, grid=3, patch_size=8, gap=6, jitter=2)

    for b in range(4):
        for p in range(9):
            y, x = corners[b, p].tolist()
            assert torch.equal(patches[b, p], images[b, :, y:y + 8, x:x + 8])
    steps = corners.reshape(4, 3, 3, 2).diff(dim=2)[..., 1]  # column steps within a row
    assert steps.min() >= 8 + 6 - 2 * 2 and steps.max() <= 8 + 6 + 2 * 2
    assert len(set(map(tuple, corners[:, 0].tolist()))) > 1  # random grid origin / jitter


def test_grid_that_does_not_fit_is_rejected_with_sizes():
    with pytest.raises(ValueError, match='needs 36px, but the images are 32x32'):
        extract_grid_patches(torch.rand(1, 1, 32, 32), grid=3, patch_size=10, gap=2, jitter=1)


def test_each_patch_is_normalised_on_its_own():
    patches = torch.rand(2, 9, 3, 5, 5) * torch.arange(1, 10).reshape(1, 9, 1, 1, 1) + 7

    flat = normalize_patches(patches).flatten(2)

    assert torch.allclose(flat.mean(-1), torch.zeros(2, 9), atol=1e-5)
    assert torch.allclose(flat.std(-1), torch.ones(2, 9), atol=1e-4)


def test_permutation_set_is_seeded_unique_and_far_apart():
    perms = maximal_hamming_permutations(9, 30, seed=1)
    rng = np.random.default_rng(0)
    random_set = np.stack([rng.permutation(9) for _ in range(30)])

    def min_distance(p):
        dist = (p[:, None] != p[None]).sum(-1)
        return dist[~np.eye(len(p), dtype=bool)].min()

    assert perms.shape == (30, 9)
    assert (np.sort(perms, axis=1) == np.arange(9)).all()
    assert len({tuple(p) for p in perms}) == 30
    assert np.array_equal(perms, maximal_hamming_permutations(9, 30, seed=1))
    assert not np.array_equal(perms, maximal_hamming_permutations(9, 30, seed=2))
    assert min_distance(perms) > min_distance(random_set)
    assert min_distance(perms) >= 7
    assert len(maximal_hamming_permutations(4, 24)) == 24  # all permutations of a 2x2 grid
    with pytest.raises(ValueError, match=r'\[2, 24\]'):
        maximal_hamming_permutations(4, 25)


def test_jigsaw_permutation_index_maps_tiles_back():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='JigsawPuzzle', backbone=TINY_RESNET, neck=POOL, grid=3, patch_size=4, gap=2,
        jitter=0, num_permutations=10,
        head=dict(type='PretextClsHead', in_channels=512, num_classes=10, num_patches=9)))
    images = torch.rand(5, 3, 16, 16)  # 3 * 4 + 2 * 2 = 16: tiles at fixed places
    originals, _ = extract_grid_patches(images, 3, 4, 2, 0)

    tiles, labels = model.make_puzzles(images)

    assert tiles.shape == (5, 9, 3, 4, 4)
    for b in range(5):
        perm = model.permutations[labels[b]]
        assert torch.allclose(tiles[b, perm.argsort()], normalize_patches(originals[b]))
        assert torch.allclose(tiles[b], normalize_patches(originals[b, perm]))


def test_relative_location_pair_is_centre_and_labelled_neighbour():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='RelativeLocation', backbone=TINY_RESNET, neck=POOL, patch_size=4, gap=2,
        jitter=0, normalize_tiles=False,
        head=dict(type='PretextClsHead', in_channels=512, num_classes=8, num_patches=2)))
    images = torch.rand(32, 3, 16, 16)
    grid_index = [0, 1, 2, 3, 5, 6, 7, 8]  # label -> row-major grid index (centre skipped)

    pairs, labels = model.make_pairs(images)

    assert set(labels.tolist()) == set(range(8))
    for b in range(32):
        r, c = divmod(grid_index[labels[b]], 3)
        assert torch.equal(pairs[b, 0], images[b, :, 6:10, 6:10])
        assert torch.equal(pairs[b, 1], images[b, :, 6 * r:6 * r + 4, 6 * c:6 * c + 4])


def test_bezier_curve_is_monotonic_and_keeps_the_value_range():
    torch.manual_seed(0)
    ramp = torch.linspace(0, 1, 64).reshape(1, 1, 8, 8).repeat(16, 3, 1, 1)

    out, applied = bezier_intensity(ramp, prob=1.0)

    assert applied.all()
    assert torch.equal(out[:, 0], out[:, 2])  # grey stays grey
    steps = out[:, 0].flatten(1).diff(dim=1)
    increasing, decreasing = (steps >= -1e-6).all(1), (steps <= 1e-6).all(1)
    assert (increasing | decreasing).all() and increasing.any() and decreasing.any()
    ends = out[:, 0].flatten(1)[:, [0, -1]]
    assert torch.allclose(torch.where(increasing[:, None], ends, ends.flip(1)),
                          torch.tensor([0., 1.]).expand(16, 2), atol=1e-3)
    assert not torch.allclose(out, ramp, atol=1e-2)
    assert torch.equal(bezier_intensity(ramp, prob=0.0)[0], ramp)


def test_local_shuffle_permutes_pixels_only_inside_marked_blocks():
    torch.manual_seed(0)
    grey = torch.rand(3, 1, 18, 18)
    images = torch.cat([grey, 2 * grey, 3 * grey], dim=1)

    out, mask = local_pixel_shuffle(images, prob=1.0, block_size=4, fraction=0.5)

    assert torch.equal(out[~mask.expand_as(out)], images[~mask.expand_as(images)])
    assert not mask[:, :, 16:].any() and not mask[:, :, :, 16:].any()  # partial border blocks
    assert 0 < mask.float().mean() < 1
    y, x = (mask[0, 0] & (out[0, 0] != images[0, 0])).nonzero()[0].tolist()
    y0, x0 = y // 4 * 4, x // 4 * 4
    block, shuffled = images[0, :, y0:y0 + 4, x0:x0 + 4], out[0, :, y0:y0 + 4, x0:x0 + 4]
    assert torch.equal(block.flatten(1).sort()[0], shuffled.flatten(1).sort()[0])
    assert torch.equal(out[:, 1], 2 * out[:, 0])  # one permutation for all channels
    assert torch.equal(local_pixel_shuffle(images, 0.0, 4, 1.0)[0], images)


def test_painting_changes_only_the_masked_pixels():
    torch.manual_seed(0)
    images = torch.full((40, 3, 42, 42), 0.5)

    inpainted, inner = paint(images, prob=1.0, inpaint_prob=1.0)
    outpainted, outer = paint(images, prob=1.0, inpaint_prob=0.0)

    for out, mask in ((inpainted, inner), (outpainted, outer)):
        assert torch.equal(out[~mask.expand_as(out)], images[~mask.expand_as(images)])
        assert (out[mask.expand_as(out)] != 0.5).float().mean() > 0.99  # noise replaced it
        assert torch.equal(out[:, 0], out[:, 2])  # grey stays grey
    assert inner.float().mean() < 0.5 < outer.float().mean()
    assert torch.equal(paint(images, prob=0.0, inpaint_prob=1.0)[0], images)


def test_restoration_input_differs_from_target_only_where_a_transform_applied():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='ModelsGenesis', nonlinear_prob=0.0, shuffle_prob=1.0, shuffle_block_size=4,
        shuffle_fraction=0.3, paint_prob=1.0, inpaint_prob=1.0,
        backbone=dict(type='ResNet', depth=18, out_indices=(0, 1, 2, 3)),
        neck=dict(type='SparKLightDecoder', feature_dim=512, upsample_ratio=32,
                  norm_cfg=dict(type='BN')),
        head=dict(type='MIMHead', loss=dict(type='PixelReconstructionLoss', criterion='L2'))))
    grey = torch.rand(4, 1, 32, 32)
    mean, std = torch.tensor([0.4, 0.5, 0.6]), torch.tensor([0.2, 0.25, 0.3])
    images = (grey - mean[:, None, None]) / std[:, None, None]  # as the preprocessor makes it

    corrupted, changed = model.corrupt(images)

    keep = ~changed.expand_as(images)
    assert torch.equal(corrupted[keep], images[keep])
    assert (corrupted[~keep] != images[~keep]).float().mean() > 0.9
    assert corrupted.min() >= images.amin() - 1e-3 and corrupted.max() <= images.amax() + 1e-3
    grey_again = corrupted * std[:, None, None] + mean[:, None, None]
    assert torch.allclose(grey_again[:, 0], grey_again[:, 2], atol=1e-5)  # still grey
    model.nonlinear_prob = model.shuffle_prob = model.paint_prob = 0.0
    assert torch.equal(model.corrupt(images)[0], images)

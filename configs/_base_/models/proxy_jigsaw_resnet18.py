# Jigsaw puzzles (Noroozi & Favaro, ECCV 2016) with a ResNet-18 shared over the 3x3 tiles.
# Tiles of 64 px with a 16 px gap and +-5 px jitter need crops of at least
# 3 * 64 + 2 * 16 + 2 * 5 = 234 px; each tile is normalised on its own. 100 permutations of
# maximal Hamming distance (seeded, stored in the checkpoint as `permutations`).
# The backbone matches resnet18_xray.py key for key (see proxy_rotation_resnet18.py).
model = dict(
    type='JigsawPuzzle',
    grid=3,
    patch_size=64,
    gap=16,
    jitter=5,
    num_permutations=100,
    permutation_seed=0,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False),
    backbone=dict(type='ResNet', depth=18, num_stages=4, out_indices=(3, ), style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='PretextClsHead',
        in_channels=512,
        num_classes=100,
        num_patches=9,
        hidden_channels=512))

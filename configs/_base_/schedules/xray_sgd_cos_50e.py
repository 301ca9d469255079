# SGD + cosine schedule for CNN classifiers on X-ray sets of a few thousand images.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4, nesterov=True))

param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=2, end=50, eta_min=1e-5),
]

train_cfg = dict(by_epoch=True, max_epochs=50, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# lr above is for a total batch size of 64; `--auto-scale-lr` rescales it linearly.
auto_scale_lr = dict(base_batch_size=64)

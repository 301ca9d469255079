# Runtime shared by every osteo_mm config: MMPretrain scope + osteo_mm plug-in registration.
default_scope = 'mmpretrain'
custom_imports = dict(imports=['osteo_mm'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False),
)
# RunInfoHook writes run_info.json; WeightsFingerprintHook binds validation thresholds to the
# weights they were chosen for (osteo_mm.utils.threshold_record).
custom_hooks = [dict(type='RunInfoHook'), dict(type='WeightsFingerprintHook')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)

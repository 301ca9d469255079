# Continue MMPretrain's ImageNet SparK ResNet-50 (800 epochs) on NIH ChestX-ray14 X-rays: the
# whole model (encoder, decoder, mask tokens) starts from the checkpoint; the schedule restarts.
_base_ = './spark_sparse-resnet50_8xb64-amp-coslr-400e_nih-cxr14.py'

load_from = ('https://download.openmmlab.com/mmpretrain/v1.0/spark/'
             'spark_sparse-resnet50_8xb512-amp-coslr-800e_in1k/'
             'spark_sparse-resnet50_8xb512-amp-coslr-800e_in1k_20230612-e403c28f.pth')
resume = False  # `resume=True` would treat load_from as an interrupted run of this config

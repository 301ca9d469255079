# SparK pretraining of a ResNet-50 (the SparK paper's CNN) on NIH ChestX-ray14 images.
_base_ = './spark_sparse-resnet18_8xb64-amp-coslr-400e_nih-cxr14.py'

model = dict(enc_dec_norm_dim=2048, backbone=dict(depth=50), neck=dict(feature_dim=512))

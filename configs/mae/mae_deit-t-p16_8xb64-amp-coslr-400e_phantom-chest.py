# MAE DeiT-tiny pretraining on the synthetic chest phantom (NIH layout, written by
# `tools/dataset_converters/make_phantom.py chest`).
_base_ = './mae_deit-t-p16_8xb64-amp-coslr-400e_nih-cxr14.py'

train_dataloader = dict(dataset=dict(data_root='data/phantom_chest'))

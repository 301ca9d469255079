# MAE pretraining of a DeiT-small encoder (384 wide; MMPretrain's arch 's' is 768 wide) on NIH.
_base_ = './mae_deit-t-p16_8xb64-amp-coslr-400e_nih-cxr14.py'

model = dict(
    backbone=dict(arch='deit-s'),
    neck=dict(embed_dim=384, decoder_embed_dim=256, decoder_depth=4, decoder_num_heads=8))

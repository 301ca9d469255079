# MAE pretraining of ViT-Base with MAE's standard decoder (8 blocks, 512 wide) on NIH.
_base_ = './mae_deit-t-p16_8xb64-amp-coslr-400e_nih-cxr14.py'

model = dict(
    backbone=dict(arch='b'),
    neck=dict(embed_dim=768, decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16))

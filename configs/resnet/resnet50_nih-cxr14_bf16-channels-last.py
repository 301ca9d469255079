# resnet50_nih-cxr14 with the GPU throughput switches of issue 20: bf16 autocast, channels-last
# inputs (the convolutions follow the input's layout) and the fused optimizer step. Same model,
# data and schedule; a GPU recipe (bf16 autocast and fused SGD need CUDA to pay off). Larger
# batches: add `--auto-scale-lr` to tools/train.py (linear lr scaling).
_base_ = './resnet50_nih-cxr14.py'

data_preprocessor = dict(type='XrayClsDataPreprocessor', channels_last=True)
optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16', optimizer=dict(fused=True))

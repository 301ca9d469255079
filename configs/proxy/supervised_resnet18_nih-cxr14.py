# Supervised proxy route, stage 1 of 2: multi-label classification of the 14 NIH ChestX-ray14
# findings (the classification config as is). Its checkpoint initialises stage 2,
# supervised_resnet18_nih-cxr14-pre_shoulder-binary.py:
#   python tools/train.py configs/proxy/supervised_resnet18_nih-cxr14.py
#   python tools/train.py configs/proxy/supervised_resnet18_nih-cxr14-pre_shoulder-binary.py
_base_ = '../resnet/resnet18_nih-cxr14.py'

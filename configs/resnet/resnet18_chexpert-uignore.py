# CheXpert U-Ignore: uncertain labels become -1 targets that MaskedBCELoss leaves out of the
# loss and MultiLabelAUCMetric leaves out of each label's AUC.
_base_ = './resnet18_chexpert.py'

train_dataloader = dict(dataset=dict(uncertainty='ignore'))
val_dataloader = dict(dataset=dict(uncertainty='ignore'))
test_dataloader = dict(dataset=dict(uncertainty='ignore'))

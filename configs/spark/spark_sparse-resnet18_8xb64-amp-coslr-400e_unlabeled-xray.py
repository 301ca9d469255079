# SparK ResNet-18 pretraining on every image under a folder (PNG/JPEG/DICOM, no labels needed).
_base_ = './spark_sparse-resnet18_8xb64-amp-coslr-400e_nih-cxr14.py'

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='UnlabeledXrayDataset',
        data_root='data/unlabeled_xray',
        pipeline={{_base_.train_pipeline}}))

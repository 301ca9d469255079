# The built-in chest phantom in the NIH ChestX-ray14 layout, written by
#   python tools/dataset_converters/make_phantom.py chest --out data/phantom_chest \
#       --num-patients 500 --images-per-patient 3 --size 256 --seed 0
# Same files, splits and pipelines as nih_cxr14.py: only data_root differs.
_base_ = ['./nih_cxr14.py']

data_root = 'data/phantom_chest/'

train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))

# The built-in shoulder phantom, written by
#   python tools/dataset_converters/make_phantom.py shoulder --out data/phantom_shoulder \
#       --num-patients 1000 --size 256 --seed 0
# Same CSV schema, file name and pipelines as shoulder_xray.py: only data_root differs, so a
# config built on this file runs on real films by setting data_root to their folder.
_base_ = ['./shoulder_xray.py']

data_root = 'data/phantom_shoulder/'

train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))

# As deit-tiny_phantom-shoulder+guided-rrr.py, on the shoulder phantom whose training films carry a
# burned-in marker correlated with the label (absent at test), written by
#   python tools/dataset_converters/make_phantom.py shoulder --out data/phantom_shoulder_shortcut \
#       --num-patients 1000 --size 256 --seed 0 --shortcut-rate 0.95
_base_ = ['./deit-tiny_phantom-shoulder+guided-rrr.py']

data_root = 'data/phantom_shoulder_shortcut/'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))

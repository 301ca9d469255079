#!/usr/bin/env bash
# Proxy-task transfer on the phantoms, in the protocol of the MIM data-efficiency table
# (docs/benchmarks.md): same shoulder phantom (300 patients, 128 px, seed 0), same ResNet-18
# fine-tuning recipe (64 px, batch 16, 6 epochs), fractions 0.1/0.25/1 x seeds 0/1/2.
# Pre-trains, each skipped when its checkpoint exists (re-run to resume):
#   chest-spark      SparK on the chest phantom (200 patients), 64 px, 8 epochs
#   chest-supervised multi-label findings of the chest phantom, 64 px, 6 epochs
#   shoulder-rotation / -jigsaw / -relative-location / -genesis: pretext tasks on the shoulder
#                    phantom's training images (the CPU configs of configs/proxy)
# then fine-tunes scratch + all six inits with tools/analysis/data_efficiency_phantom.py.
# Usage: bash benchmarks/proxy_transfer_phantom.sh [WORK_DIR]   (PYTHON=... to pick python)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(realpath -m "${1:-work_dirs/proxy_transfer_phantom}")
py=${PYTHON:-.venv/bin/python}
shoulder=$work/phantom_shoulder
chest=$work/phantom_chest
mkdir -p "$work"

[ -f "$shoulder/labels.csv" ] || "$py" tools/dataset_converters/make_phantom.py shoulder \
    --out "$shoulder" --num-patients 300 --size 128 --seed 0 --format png --no-progress
[ -f "$chest/Data_Entry_2017.csv" ] || "$py" tools/dataset_converters/make_phantom.py chest \
    --out "$chest" --num-patients 200 --size 128 --seed 0 --no-progress

# pretrain NAME CONFIG LAST_CHECKPOINT [--cfg-options ...]
pretrain() {
    local name=$1 config=$2 last=$3
    shift 3
    if [ ! -f "$work/$name/$last" ]; then
        echo "== pre-training $name ($config)"
        "$py" tools/train.py "$config" --work-dir "$work/$name" --cfg-options "$@" \
            > "$work/$name.log" 2>&1
    fi
}
on_shoulder="train_dataloader.dataset.data_root=$shoulder/"
pretrain chest-spark configs/spark/spark_sparse-resnet18_1xb32-coslr-8e_phantom-chest-128px.py \
    epoch_8.pth "train_dataloader.dataset.data_root=$chest/" train_dataloader.num_workers=1 \
    model.input_size=64 train_dataloader.dataset.pipeline.1.scale=64 \
    train_dataloader.batch_size=16
pretrain chest-supervised configs/proxy/supervised_resnet18_1xb16-coslr-6e_phantom-chest-64px.py \
    epoch_6.pth "train_dataloader.dataset.data_root=$chest/" \
    "val_dataloader.dataset.data_root=$chest/" "test_dataloader.dataset.data_root=$chest/"
pretrain shoulder-rotation configs/proxy/rotation_resnet18_1xb16-coslr-3e_phantom-shoulder-64px.py \
    epoch_3.pth "$on_shoulder"
pretrain shoulder-jigsaw configs/proxy/jigsaw_resnet18_1xb16-coslr-30e_phantom-shoulder-64px.py \
    epoch_30.pth "$on_shoulder"
pretrain shoulder-relative-location \
    configs/proxy/relative-location_resnet18_1xb16-coslr-30e_phantom-shoulder-72px.py \
    epoch_30.pth "$on_shoulder"
pretrain shoulder-genesis configs/proxy/genesis_resnet18_1xb16-coslr-20e_phantom-shoulder-64px.py \
    epoch_20.pth "$on_shoulder"

"$py" tools/analysis/data_efficiency_phantom.py --shoulder-root "$shoulder" --backbones resnet18 \
    --spark-ckpt "$work/chest-spark/epoch_8.pth" \
    --init "chest-supervised@resnet18=$work/chest-supervised/epoch_6.pth" \
    --init "shoulder-rotation@resnet18=$work/shoulder-rotation/epoch_3.pth" \
    --init "shoulder-jigsaw@resnet18=$work/shoulder-jigsaw/epoch_30.pth" \
    --init "shoulder-relative-location@resnet18=$work/shoulder-relative-location/epoch_30.pth" \
    --init "shoulder-genesis@resnet18=$work/shoulder-genesis/epoch_20.pth" \
    --fractions 0.1 0.25 1.0 --seeds 0 1 2 --epochs 6 --work-dir "$work/data_efficiency"

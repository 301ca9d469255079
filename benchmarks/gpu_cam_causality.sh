#!/usr/bin/env bash
# One-GPU CAM check (results in docs/benchmarks.md, "GPU"), sized for a 10-minute call:
#   1. CAM throughput at 256 px: gradcam runner vs per-image reload, and BatchCAM with the
#      on-device backend and with pytorch-grad-cam's, vs a training step (ResNet-18);
#   2. a chest-phantom SparK ResNet-18 (the CPU recipe of proxy_transfer_phantom.sh);
#   3. the shoulder-phantom causality experiment at SIZE px from that backbone, once per
#      FLAGS set in RUNS (';'-separated), each in its own work dir, each under a time limit.
# Usage: bash benchmarks/gpu_cam_causality.sh OUT_DIR [WORK_DIR]
# Knobs (environment): SIZE=256 PATIENTS=2000 EPOCHS=30 WORKERS=14 LIMIT=200 (s per run),
#   AMP=--amp (AMP= on a CPU), CAM=1 (0 skips step 1), RUNS='--signal-region roi --no-shortcut;--no-shortcut'.
set -u
out=${1:?usage: gpu_cam_causality.sh OUT_DIR [WORK_DIR]}
work=${2:-/tmp/gpu_cam}
py=${PYTHON:-python3}
size=${SIZE:-256} patients=${PATIENTS:-2000} epochs=${EPOCHS:-30} workers=${WORKERS:-14}
limit=${LIMIT:-200} amp=${AMP---amp} runs=${RUNS:---signal-region roi --no-shortcut;--no-shortcut}
mkdir -p "$out" "$work"
log="$out/gpu_cam.log"
stamp() { echo "== $(date -u +%H:%M:%S) $*" | tee -a "$log"; }

stamp "machine"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  nproc; "$py" -c 'import torch, mmpretrain; from importlib.metadata import version
print("torch", torch.__version__, "mmpretrain", mmpretrain.__version__, "grad-cam",
      version("grad-cam"))'; } >> "$log" 2>&1

if [ "${CAM:-1}" != 0 ]; then
    stamp "CAM throughput (ResNet-18, 200 images, ${size} px, batch 64)"
    timeout 150 "$py" benchmarks/cam_throughput.py --data-root "$work/cam_phantom200" \
        --num-images 200 --img-size "$size" --batch-size 64 --num-workers 8 \
        2>"$work/cam_throughput.err" | tail -5 >> "$log"
fi

stamp "chest-phantom SparK ResNet-18"
"$py" tools/dataset_converters/make_phantom.py chest --out "$work/phantom_chest" --num-patients 200 --size 128 \
    --seed 0 > "$work/chest_phantom.log" 2>&1
timeout 150 "$py" tools/train.py \
    configs/spark/spark_sparse-resnet18_1xb32-coslr-8e_phantom-chest-128px.py \
    --work-dir "$work/chest-spark" --cfg-options "train_dataloader.dataset.data_root=$work/phantom_chest/" \
    train_dataloader.num_workers=4 model.input_size=64 train_dataloader.dataset.pipeline.1.scale=64 \
    train_dataloader.batch_size=16 > "$work/chest_spark.log" 2>&1
ls "$work/chest-spark/epoch_8.pth" >> "$log" 2>&1 || tail -20 "$work/chest_spark.log" >> "$log"

i=0
IFS=';' read -ra flag_sets <<< "$runs"
for flags in "${flag_sets[@]}"; do
    i=$((i + 1))
    stamp "causality run $i: $patients patients, ${size} px, $epochs epochs, flags: $flags"
    # shellcheck disable=SC2086  # FLAGS is a word list on purpose
    timeout "$limit" "$py" tools/analysis/cam_phantom_causality.py "$work/causality_$i" \
        --num-patients "$patients" --phantom-size "$size" --img-size "$size" \
        --epochs "$epochs" --batch-size 64 --num-workers "$workers" --gen-workers 16 $amp \
        --init-ckpt "$work/chest-spark/epoch_8.pth" $flags > "$out/causality_$i.log" 2>&1
    echo "exit $?" >> "$log"
    sed -n '/ layers, target = /,$p' "$out/causality_$i.log" >> "$log"
done
stamp "done"

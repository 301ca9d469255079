#!/usr/bin/env bash
# Cross-validation study on the shoulder phantom (docs/benchmarks.md, "Cross-validation"):
# 5-fold x 2-repeat CV of ResNet-18 from scratch and from the chest-phantom SparK backbone, the
# two arms run side by side (one thread each), then the paired comparison of their out-of-fold
# predictions. Data and SparK pre-training as in the demo (tools/demo.py, small scale): chest
# phantom 80 patients, shoulder phantom 400 patients, 128 px, seeds 0/1; SparK demo config.
# Usage: bash benchmarks/cv_phantom.sh [WORK_DIR]   (re-run to resume; PYTHON=... to pick python;
# REPEATS=1 pools the first repeat only, e.g. to report it while the second is not run)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(realpath -m "${1:-work_dirs/cv_phantom}")
py=${PYTHON:-.venv/bin/python}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
shoulder=$work/phantom_shoulder
chest=$work/phantom_chest
mkdir -p "$work"
start=$(date +%s)
[ -f "$chest/Data_Entry_2017.csv" ] || "$py" tools/dataset_converters/make_phantom.py chest \
    --out "$chest" --num-patients 80 --size 128 --seed 0 --no-progress
[ -f "$shoulder/labels.csv" ] || "$py" tools/dataset_converters/make_phantom.py shoulder \
    --out "$shoulder" --num-patients 400 --size 128 --seed 1 --no-progress
[ -f "$work/pretrain_spark/epoch_4.pth" ] || "$py" tools/train.py \
    configs/demo/spark_resnet18_phantom-chest_demo.py --work-dir "$work/pretrain_spark" \
    --cfg-options randomness.seed=0 "train_dataloader.dataset.data_root=$chest/" \
    > "$work/pretrain_spark.log" 2>&1
config=configs/demo/resnet18_phantom-shoulder_cv.py
cv() {  # NAME [--cfg-options ...]
    local name=$1
    shift
    "$py" tools/cross_validate.py $config --folds 5 --repeats "${REPEATS:-2}" --seed 0 \
        --work-dir "$work/cv_$name" --cfg-options "train_dataloader.dataset.data_root=$shoulder/" \
        "$@" > "$work/cv_$name.log" 2>&1
}
cv scratch &
pid_scratch=$!
cv spark model.backbone.init_cfg.type=Pretrained \
    "model.backbone.init_cfg.checkpoint=$work/pretrain_spark/epoch_4.pth" \
    model.backbone.init_cfg.prefix=backbone. &
pid_spark=$!
wait $pid_scratch
wait $pid_spark
"$py" tools/analysis/compare_models.py \
    --preds "$work/cv_scratch/oof_preds.csv" "$work/cv_spark/oof_preds.csv" \
    --names resnet18_scratch resnet18_spark --out "$work/report" --seed 0
echo "wall time: $(( $(date +%s) - start )) s"

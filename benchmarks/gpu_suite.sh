#!/usr/bin/env bash
# One-GPU benchmark suite (results in docs/benchmarks.md, "GPU"):
#   1. training-step images/s of the classifiers and MIM models (random inputs, AMP);
#   2. CAM throughput: gradcam runner vs per-image reload vs a training step (ResNet-18);
#   3. the shoulder-phantom causality experiment at 256 px (clean vs shortcut vs random
#      ResNet-18, uniform/centre-bias baselines), Grad-CAM on layer4 and on layer3.
# Usage: bash benchmarks/gpu_suite.sh OUT_DIR [WORK_DIR]
# Scale knobs (environment): PATIENTS=3000 SIZE=256 EPOCHS=40 ITERS=30 WORKERS=14, and
# INIT_CKPT=<pre-trained ResNet-18 checkpoint> for the causality models (from scratch the
# phantom's bone signal was not learned at CPU scale; see docs/benchmarks.md).
set -u
out=${1:?usage: gpu_suite.sh OUT_DIR [WORK_DIR]}
work=${2:-/tmp/gpu_suite}
py=${PYTHON:-python3}
patients=${PATIENTS:-3000} size=${SIZE:-256} epochs=${EPOCHS:-40} iters=${ITERS:-30}
workers=${WORKERS:-14}
init=()
[ -n "${INIT_CKPT:-}" ] && init=(--init-ckpt "$INIT_CKPT")
mkdir -p "$out" "$work"
log="$out/suite.log"
stamp() { echo "== $(date -u +%H:%M:%S) $*" | tee -a "$log"; }

stamp "machine"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  nproc; "$py" -c 'import torch, mmpretrain, mmengine; print("torch", torch.__version__,
"mmpretrain", mmpretrain.__version__, "mmengine", mmengine.__version__)'; } >> "$log" 2>&1

stamp "step throughput (random inputs, AMP on CUDA)"
timeout 100 "$py" benchmarks/step_throughput.py --img-size "$size" --batch 128 \
    --iters "$iters" --warmup 5 \
    configs/resnet/resnet18_phantom-shoulder-binary.py \
    configs/resnet/resnet50_phantom-shoulder-binary.py \
    configs/vit/deit-small_phantom-shoulder-binary.py 2>"$work/step_cls.err" \
    | grep 'images/s' >> "$log"
timeout 100 "$py" benchmarks/step_throughput.py --batch 64 --iters "$iters" --warmup 5 \
    configs/mae/mae_deit-t-p16_8xb64-amp-coslr-400e_nih-cxr14.py \
    configs/mae/mae_vit-base-p16_8xb64-amp-coslr-400e_nih-cxr14.py \
    configs/spark/spark_sparse-resnet18_8xb64-amp-coslr-400e_nih-cxr14.py \
    configs/spark/spark_sparse-resnet50_8xb64-amp-coslr-400e_nih-cxr14.py \
    2>"$work/step_ssl.err" | grep 'images/s' >> "$log"

stamp "CAM throughput (ResNet-18, 200 images)"
timeout 100 "$py" benchmarks/cam_throughput.py --data-root "$work/cam_phantom200" \
    --num-images 200 --img-size "$size" --batch-size 64 --num-workers 8 \
    2>"$work/cam_throughput.err" | tail -5 >> "$log"

stamp "causality experiment: $patients patients, ${size} px, $epochs epochs"
"$py" tools/analysis/cam_phantom_causality.py "$work/causality" --num-patients "$patients" \
    --phantom-size "$size" --img-size "$size" --epochs "$epochs" --batch-size 64 \
    --num-workers "$workers" --gen-workers 16 --amp "${init[@]}" \
    > "$work/causality_layer4.log" 2>&1
sed -n "/ on default layers,/,\$p" "$work/causality_layer4.log" >> "$log"
stamp "same models, Grad-CAM on backbone.layer3"
"$py" tools/analysis/cam_phantom_causality.py "$work/causality" --num-patients "$patients" \
    --phantom-size "$size" --img-size "$size" --epochs "$epochs" --batch-size 64 \
    --num-workers "$workers" "${init[@]}" --target-layers backbone.layer3 \
    > "$work/causality_layer3.log" 2>&1
sed -n "/ on backbone.layer3 layers,/,\$p" "$work/causality_layer3.log" >> "$log"
stamp "done"
# Small artefacts for the record: summaries, training logs, a few overlays.
(cd "$work/causality" && tar czf "$out/causality_artifacts.tgz" summary_*.csv test_*.json \
    train_*/*/vis_data/scalars.json train_*/*/*.log cam_*/vis cam_*/causality.csv \
    2>/dev/null)
cp "$work/causality_layer4.log" "$out/" 2>/dev/null
stamp "packed"

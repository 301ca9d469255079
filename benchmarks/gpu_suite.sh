#!/usr/bin/env bash
# One-GPU benchmark suite (results in docs/benchmarks.md, "GPU"):
#   1. training-step images/s of the classifiers and MIM models (random inputs, AMP);
#   2. CAM throughput: gradcam runner vs per-image reload vs a training step (ResNet-18);
#   3. the shoulder-phantom causality experiment at 256 px (clean vs shortcut vs random
#      ResNet-18, uniform/centre-bias baselines), Grad-CAM on layer4 and on layer3.
# With SCALE=1 (issue 20; `SCALE=1 ONLY_SCALE=1` runs these alone; their timeouts add up to
# 10 minutes, typically about 5) also:
#   S1. MAE ViT-B/16 mask 0.75 step throughput: bf16 + fused AdamW at batch 256 (and fp16 at
#       batch 64, today's figure), with FLOPs/image, TFLOP/s and MFU; the same with --compile;
#   S2. SparK ResNet-50 and ResNet-50 fine-tuning: bf16, fused AdamW, channels-last, batch 256;
#   S3. MAE ViT-B fed from a synthetic array cache with $WORKERS loader workers vs a fixed batch
#       on the device (target: >= 0.9x);
#   S4. worker shutdown: tools/train.py with persistent workers and pinned memory on the demo
#       config; the seconds between the last log line and process exit are printed.
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

if [ "${SCALE:-0}" = 1 ]; then
    mae=configs/mae/mae_vit-base-p16_1xb256-bf16-coslr-400e_nih-cxr14-array256_mask0.75.py
    stamp "S1 MAE ViT-B/16 mask 0.75: fp16 batch 64 (before) vs bf16 + fused batch 256"
    timeout 90 "$py" benchmarks/step_throughput.py "$mae" --batch 64 --dtype fp16 \
        --iters "$iters" --warmup 5 2>"$work/s1.err" | grep 'images/s' >> "$log"
    timeout 90 "$py" benchmarks/step_throughput.py "$mae" --batch 256 --dtype bf16 --fused \
        --iters "$iters" --warmup 5 2>>"$work/s1.err" | grep 'images/s' >> "$log"
    timeout 120 "$py" benchmarks/step_throughput.py "$mae" --batch 256 --dtype bf16 --fused \
        --compile --iters "$iters" --warmup 10 2>>"$work/s1.err" | grep 'images/s' >> "$log"
    stamp "S2 SparK ResNet-50 and ResNet-50 classification, bf16 + fused + channels-last"
    timeout 90 "$py" benchmarks/step_throughput.py --batch 256 --dtype bf16 --fused \
        --channels-last --img-size 224 --iters "$iters" --warmup 5 \
        configs/spark/spark_sparse-resnet50_8xb64-amp-coslr-400e_nih-cxr14.py \
        configs/resnet/resnet50_phantom-shoulder-binary.py 2>"$work/s2.err" \
        | grep 'images/s' >> "$log"
    stamp "S3 MAE ViT-B from the array cache, $workers workers, vs a fixed batch"
    timeout 120 "$py" benchmarks/gpu_loader_throughput.py --workers "$workers" --batch 256 \
        --iters "$iters" --films 20000 --tmp "$work" 2>"$work/s3.err" \
        | grep 'images/s' >> "$log"
    stamp "S4 worker shutdown at exit (persistent workers, pin_memory)"
    "$py" tools/dataset_converters/make_phantom.py shoulder --out "$work/s4_data" \
        --num-patients 200 --size 96 > /dev/null 2>&1
    start=$(date +%s)
    timeout 90 "$py" tools/train.py configs/demo/resnet18_phantom-shoulder_demo.py \
        --work-dir "$work/s4" --cfg-options train_cfg.max_epochs=2 \
        train_dataloader.num_workers="$workers" train_dataloader.persistent_workers=True \
        val_dataloader.num_workers="$workers" val_dataloader.persistent_workers=True \
        train_dataloader.dataset.data_root="$work/s4_data" \
        val_dataloader.dataset.data_root="$work/s4_data" > "$work/s4.log" 2>&1
    rc=$? end=$(date +%s)
    last=$(stat -c %Y "$(ls -t "$work"/s4/*/*.log | head -1)")
    echo "train.py rc=$rc, wall $((end - start)) s, exit $((end - last)) s after the last log" \
        "line" >> "$log"
    [ "${ONLY_SCALE:-0}" = 1 ] && { stamp "done (scale only)"; exit 0; }
fi

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

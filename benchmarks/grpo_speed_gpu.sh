#!/usr/bin/env bash
# GRPO speed on one GPU: vanilla TRL GRPOTrainer vs visionr1 (benchmarks/grpo_speed.py), 3B-shaped random
# Qwen2.5-VL, 448x448 images, 256-token completions, 2 prompts/step, G=8 then G=16.
#
# For a machine with torch + transformers but no trl (the lent device machines): put the wheels in .whl/
# first (trl 1.16.0, transformers 5.24.0, datasets 5.2.0, dill, multiprocess, math-verify, latex2sympy2_extended,
# antlr4, regex) and they are installed into /tmp/site. Results: $OUT (or ./grpo_speed_out).
#
#   bash benchmarks/grpo_speed_gpu.sh [STEPS]        # STEPS per G=8 run (default 4; the first 2 are discarded); STEPS16 for G=16
#   TOTAL_S=560 bounds the whole script (seconds); G=8 gets at most 300 of it.
#   PROFILE=1 also profiles one more (untimed) step of visionr1's runs, from the end of its generation (PROFILE=both:
#   vanilla's too, ~10^6 events): torch.profiler tables in $OUT/profiles.tgz.
#   If visionr1's G=8 run fails, G=8 runs again without shared_prefix/pixel_store/vision_windows (the speed-ups not yet
#   measured on a GPU before the fifth session's run; g8-fallback.*) in place of G=16.
#   GC=1 runs both variants with gradient checkpointing (TRL's default; the recipes keep it). Unset, it is turned on
#   for a card with under 120 GiB (an H100's 80 GB): vanilla TRL needs ~106 GiB at G=8 without it. GC=0: never.
#   SHAPE=smoke COMPLETION=16 VISION_WIDTH=narrow runs the same path with tiny layers (a CPU check of the script).
#   First, benchmarks/vision_windows.py (the vision tower alone, per-window loop vs batched windows): $OUT/vision.txt.
set -uo pipefail
OUT=${OUT:-grpo_speed_out}
mkdir -p "$OUT"
STEPS=${1:-4}
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD/src
else
  export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
python3 - <<'EOF' 2>&1 | tee "$OUT/env.txt"
import importlib.metadata as md, torch
if torch.cuda.is_available():
    print("gpu:", torch.cuda.get_device_name(), f"{torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB")
print(*(f"{p}=={md.version(p)}" for p in ("torch", "transformers", "trl", "datasets", "accelerate", "pyarrow")))
EOF
GIB=$(python3 -c 'import torch; print(torch.cuda.get_device_properties(0).total_memory >> 30 if torch.cuda.is_available() else 0)')
if [ -z "${GC:-}" ] && [ "$GIB" -gt 0 ] && [ "$GIB" -lt 120 ]; then
  GC=1; echo "this card has $GIB GiB (< 120): both variants with gradient checkpointing" | tee -a "$OUT/env.txt"
fi
[ "${GC:-}" = 0 ] && GC=
TOTAL=${TOTAL_S:-560}   # G=16 gets what G=8 left of this
# the vision tower alone, per-window loop vs speed.vision_windows, the 3B's widths (a few seconds)
timeout 90 python3 benchmarks/vision_windows.py --width "${VISION_WIDTH:-3b}" 2>&1 | grep -v "Loading\|Writing" | tee "$OUT/vision.txt"
WORK=$(mktemp -d)       # the model is built once for both
COMMON=(--shape "${SHAPE:-3b}" --image-size 448 --completion-length "${COMPLETION:-256}" --rounds 1 --work "$WORK")
[ -n "${PROFILE:-}" ] && COMMON+=(--profile-out "$WORK/profiles")
[ "${PROFILE:-}" = both ] && COMMON+=(--profile-vanilla)
[ -n "${GC:-}" ] && COMMON+=(--gradient-checkpointing)
left=$(( TOTAL - SECONDS )); left=$(( left < 300 ? left : 300 ))
timeout "$left" python3 benchmarks/grpo_speed.py "${COMMON[@]}" --num-generations 8 --prompts 2 --steps "$STEPS" \
  --json-summary "$OUT/g8.json" 2>&1 | tee "$OUT/g8.txt"
if [ "${PIPESTATUS[0]}" != 0 ] && grep -q "^ours run" "$OUT/g8.txt"; then
  timeout $(( TOTAL - SECONDS )) python3 benchmarks/grpo_speed.py "${COMMON[@]}" --num-generations 8 --prompts 2 \
    --steps "$STEPS" --speed-off shared_prefix,pixel_store,vision_windows --json-summary "$OUT/g8-fallback.json" 2>&1 | tee "$OUT/g8-fallback.txt"
  [ -d "$WORK/profiles" ] && tar czf "$OUT/profiles.tgz" -C "$WORK" profiles
  rm -rf "$WORK"; exit 1
fi
# G=16 with 2 prompts/step (32 sequences) does not fit vanilla TRL on a 141 GB H200: 1 prompt/step
timeout $(( TOTAL - SECONDS )) python3 benchmarks/grpo_speed.py "${COMMON[@]}" --num-generations 16 --prompts 1 \
  --steps "${STEPS16:-4}" --json-summary "$OUT/g16.json" 2>&1 | tee "$OUT/g16.txt"
[ -d "$WORK/profiles" ] && tar czf "$OUT/profiles.tgz" -C "$WORK" profiles
rm -rf "$WORK"

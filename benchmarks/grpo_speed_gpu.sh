#!/usr/bin/env bash
# GRPO speed on one GPU: vanilla TRL GRPOTrainer vs visionr1 (benchmarks/grpo_speed.py), 3B-shaped random
# Qwen2.5-VL, 448x448 images, 256-token completions, 2 prompts/step, G=8 then G=16.
#
# For a machine with torch + transformers but no trl (the lent device machines): put the wheels in .whl/
# first (trl, transformers, datasets, dill, multiprocess, math-verify, latex2sympy2_extended, antlr4, regex;
# see docs/speed.md) and they are installed into /tmp/site. Results: $OUT (or ./grpo_speed_out).
#
#   bash benchmarks/grpo_speed_gpu.sh [STEPS]        # STEPS per run (default 4; the first 2 are discarded)
#   TOTAL_S=560 bounds the whole script (seconds); G=8 gets at most 330 of it.
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
print("gpu:", torch.cuda.get_device_name(), f"{torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB")
print(*(f"{p}=={md.version(p)}" for p in ("torch", "transformers", "trl", "datasets", "accelerate", "pyarrow")))
EOF
TOTAL=${TOTAL_S:-560}   # G=16 gets what G=8 left of this
for G in 8 16; do
  left=$(( TOTAL - SECONDS )); [ "$G" = 8 ] && left=$(( left < 330 ? left : 330 ))
  timeout "$left" python3 benchmarks/grpo_speed.py --shape 3b --image-size 448 --num-generations "$G" \
    --completion-length 256 --steps "$STEPS" --rounds 1 --json-summary "$OUT/g$G.json" 2>&1 | tee "$OUT/g$G.txt"
done

#!/usr/bin/env bash
# Vision-R1-7B evaluation as the authors ran it (their evaluation/ in Osilly/Vision-R1: evalscope + VLMEvalKit on a
# vLLM server), on the paper's three benchmarks (Table 1: MathVista testmini, MathVerse testmini, MM-Math).
#   PAPER/AUTHORS' EVAL: the raw question and its choices, no instruction (--prompt raw); temperature 0.6, top_p 0.95,
#     16000 new tokens (their run_all.py); a reply without </answer> is asked again up to 4 times, 5 calls at most,
#     the last reply kept (their api/gpt.py); the answer read from "<answer> Final Answer:X </answer>";
#     MM-Math scored by its released sympy scorer (--protocol official).
#   OURS: MathVista and MathVerse are scored judge-free by their official rules (docs/evaluation.md); the authors'
#     VLMEvalKit asks GPT to extract answers there. Add --judge-endpoint/--judge-model for that step.
# Usage: recipes/vision_r1_7b/eval.sh MODEL_NAME [ENDPOINT] [DATA_ROOT] [OUT_ROOT]
#   vllm serve runs/vision_r1_7b/grpo/final --served-model-name vision-r1-7b --max-model-len 32768 \
#     --limit-mm-per-prompt '{"image": 4}' &
#   recipes/vision_r1_7b/eval.sh vision-r1-7b
#   visionr1 report runs/eval/vision-r1-7b/* --reference paper --png compare.png
# For the base Qwen2.5-VL-7B-Instruct (which never writes </answer>) set REASK=0: re-asking it only resamples.
# A model trained with a system prompt (recipes/vision_r1_zero) is asked with it: SYSTEM_PROMPT="..." (none by default).
set -euo pipefail
MODEL=${1:?model name at the endpoint, e.g. vision-r1-7b}
EP=${2:-http://localhost:8000/v1}
DATA=${3:-data}
OUT=${4:-runs/eval}/$MODEL
REASK=${REASK:-4}
COMMON=(--config recipes/vision_r1_7b/eval.yaml --endpoint "$EP" --model-name "$MODEL"
        --regenerate-missing-answer "$REASK" ${SYSTEM_PROMPT:+--system-prompt "$SYSTEM_PROMPT"})  # raw prompt, 0.6 / 0.95 / 16000 tokens: eval.yaml
visionr1 eval --benchmark mathvista --data "$DATA/MathVista" --out "$OUT/mathvista" "${COMMON[@]}"
visionr1 eval --benchmark mathverse --data "$DATA/MathVerse" --out "$OUT/mathverse" "${COMMON[@]}"
visionr1 eval --benchmark mmmath --data "$DATA/MM-Math" --out "$OUT/mmmath" --protocol official "${COMMON[@]}"

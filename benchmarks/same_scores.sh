#!/usr/bin/env bash
# Byte-identical scores before and after a change to the scoring code (issue 32: one scoring loop).
#
# Runs `visionr1 eval --canned` on each benchmark's test fixtures (six benchmarks and records; canned replies of
# the fixtures and two more sets of every reply shape, benchmarks/same_scores_inputs.py) and `visionr1 score` on
# each benchmark's released result layout (MathVista's output_*.json, MATH-V's outputs/*.jsonl when a snapshot is
# here, and layouts built from the fixtures crossed with a pool of replies), each by --protocol default and
# official, without a judge and with a fake one (all items, and --judge-undecided), once with BASE_SRC and once
# with NEW_SRC on the same paths, then diffs the two folders. Every run's console output and exit status are
# compared too.
#
# Usage: benchmarks/same_scores.sh BASE_SRC NEW_SRC OUT
#   BASE_SRC, NEW_SRC  the src/ folders of the two versions, e.g. `git worktree add /tmp/base main` and
#                      /tmp/base/src, then ./src
#   OUT                a new folder: inputs/, base/, new/, diff.txt
# Environment: PYTHON (default: python), MATHVISTA (MathVista outputs folder, default /work/shared/data/mathvista),
#   MATHV (a MATH-V snapshot with data/ and outputs/, e.g. `git archive` of mathllm/MATH-V; default /tmp/mathv29),
#   MATHV_FILES (how many MATH-V outputs to score, default all).
# Exit status: 0 when the two runs are identical (generation/judge stores, *.sqlite, excepted), 1 otherwise.
set -uo pipefail

[ $# -eq 3 ] || { echo "usage: $0 BASE_SRC NEW_SRC OUT" >&2; exit 2; }
BASE=$(realpath "$1"); NEW=$(realpath "$2"); OUT=$(realpath -m "$3")
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-python}
MATHVISTA=${MATHVISTA:-/work/shared/data/mathvista}
MATHV=${MATHV:-/tmp/mathv29}
MATHV_FILES=${MATHV_FILES:-1000}
[ -e "$OUT" ] && { echo "error: $OUT exists; give a new folder" >&2; exit 2; }
mkdir -p "$OUT"
cd "$REPO" || exit 2
IN=$OUT/inputs

args=("$IN")
[ -d "$MATHVISTA" ] && args+=(--mathvista "$MATHVISTA")
[ -d "$MATHV/outputs" ] && args+=(--mathv "$MATHV")
PYTHONPATH=$NEW $PY benchmarks/same_scores_inputs.py "${args[@]}" || exit 2

# the fake judge, shared by both runs (each keeps its answers in its own store)
PYTHONPATH=$NEW $PY -m visionr1.testing.openai_server --port-file "$OUT/judge.port" --log "$OUT/judge.requests.jsonl" \
    --responder "$REPO/benchmarks/same_scores_judge.py:respond" >"$OUT/judge.log" 2>&1 &
JUDGE_PID=$!
trap 'kill $JUDGE_PID 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$OUT/judge.port" ] && break; sleep 0.1; done
JUDGE=(--judge-endpoint "http://127.0.0.1:$(cat "$OUT/judge.port")/v1" --judge-model fake-judge)

declare -A DATA=([mathvista]=tests/fixtures/mathvista_eval [mathverse]=tests/fixtures/mathverse
                 [mmmath]=tests/fixtures/mmmath/MM_Math.json [dynamath]=tests/fixtures/dynamath
                 [mathvision]=tests/fixtures/mathvision [wemath]=tests/fixtures/wemath/testmini.json
                 [records]=tests/fixtures/records)
declare -A FIXTURE=([mathvista]=mathvista_eval [mathverse]=mathverse [mmmath]=mmmath [dynamath]=dynamath
                    [mathvision]=mathvision [wemath]=wemath [records]=records)
SIX=(mathvista mathverse mmmath dynamath mathvision wemath)

# one command, its console output and exit status kept as NAME.log
run() {
    local name=$1; shift
    PYTHONPATH=$SRC $PY -m visionr1 "$@" >"$W/$name.log" 2>&1
    echo "exit status $?" >>"$W/$name.log"
}

evals() {
    local b canned proto mode
    for b in "${SIX[@]}" records; do
        for canned in "tests/fixtures/${FIXTURE[$b]}/responses.json" "$IN/canned/$b-1.json" "$IN/canned/$b-2.json"; do
            for proto in default official; do
                [ "$b" = records ] && [ "$proto" = official ] && continue
                run "eval/$b-$(basename "$canned" .json)-$proto" eval --benchmark "$b" --data "${DATA[$b]}" \
                    --canned "$canned" --protocol "$proto" --out "$W/eval/$b-$(basename "$canned" .json)-$proto" \
                    --no-progress
            done
        done
        [ "$b" = records ] && continue
        for proto in default official; do
            for mode in all undecided; do
                run "eval/$b-judge-$proto-$mode" eval --benchmark "$b" --data "${DATA[$b]}" --canned "$IN/canned/$b-1.json" \
                    --protocol "$proto" --out "$W/eval/$b-judge-$proto-$mode" --no-progress "${JUDGE[@]}" \
                    $([ "$mode" = undecided ] && echo --judge-undecided)
            done
        done
    done
}

score_both() {  # NAME BENCH RESULTS [--data DATA]: by both protocols, judge-free
    local name=$1 b=$2 results=$3 proto; shift 3
    for proto in default official; do
        run "score/$name-$proto" score "$b" "$results" "$@" --protocol "$proto" --out "$W/score/$name-$proto.json"
    done
}

score_judged() {  # NAME BENCH RESULTS [--data DATA]: by both protocols, with the fake judge on all and on undecided
    local name=$1 b=$2 results=$3 proto mode; shift 3
    for proto in default official; do
        for mode in all undecided; do
            run "score/$name-judge-$proto-$mode" score "$b" "$results" "$@" --protocol "$proto" \
                --out "$W/score/$name-judge-$proto-$mode.json" "${JUDGE[@]}" \
                $([ "$mode" = undecided ] && echo --judge-undecided)
        done
    done
}

scores() {
    local f n=0
    for f in "$MATHVISTA"/output_*.json; do
        [ -f "$f" ] && score_both "mathvista-$(basename "$f" .json)" mathvista "$f"
    done
    score_both mathvista-results_small mathvista tests/fixtures/mathvista/results_small.json
    score_both mathvista-pool mathvista "$IN/mathvista/output_pool.json"
    score_judged mathvista-pool mathvista "$IN/mathvista/output_pool.json"
    if [ -d "$MATHV/outputs" ]; then
        while IFS= read -r f; do
            [ -s "$f" ] || continue
            n=$((n + 1)); [ $n -gt "$MATHV_FILES" ] && break
            score_both "mathv-$(basename "$f" .jsonl | tr -c 'A-Za-z0-9.-' '_')" mathvision "$f" --data "$MATHV/data/test.jsonl"
        done < <(find "$MATHV/outputs" -name '*.jsonl' | LC_ALL=C sort)
    fi
    score_both mathvision-pool mathvision "$IN/mathvision/outputs/pool.jsonl" --data "$IN/mathvision/data/test.jsonl"
    score_judged mathvision-pool mathvision "$IN/mathvision/outputs/pool.jsonl" --data "$IN/mathvision/data/test.jsonl"
    score_both mathverse-pool mathverse "$IN/mathverse/output_testmini.json"
    score_judged mathverse-pool mathverse "$IN/mathverse/output_testmini.json"
    score_both wemath-pool wemath "$IN/wemath/result.json"
    score_judged wemath-pool wemath "$IN/wemath/result.json"
    score_both mmmath-pool mmmath "$IN/mmmath/result.json"
    score_judged mmmath-pool mmmath "$IN/mmmath/result.json"  # official with a judge: refused, the error compared
    score_both dynamath-pool dynamath "$IN/dynamath/report.json" --data "$IN/dynamath/dataset.json"
    score_judged dynamath-pool dynamath "$IN/dynamath/report.json" --data "$IN/dynamath/dataset.json"
}

for side in base new; do
    SRC=$([ $side = base ] && echo "$BASE" || echo "$NEW")
    W=$OUT/work  # both sides run in the same folder, so every path they write is the same
    mkdir -p "$W/eval" "$W/score"
    start=$SECONDS
    evals
    scores
    mv "$W" "$OUT/$side"
    echo "$side ($SRC): $(find "$OUT/$side" -name '*.log' | wc -l) commands in $((SECONDS - start)) s"
done

diff -r -x '*.sqlite' "$OUT/base" "$OUT/new" >"$OUT/diff.txt"
status=$?
files=$(find "$OUT/base" -type f ! -name '*.sqlite' | wc -l)
if [ $status -eq 0 ]; then
    echo "identical: $files files (every *.sqlite store excepted) in $OUT/base and $OUT/new"
else
    echo "DIFFERENT: $(grep -c '^diff\|^Only' "$OUT/diff.txt") files differ; see $OUT/diff.txt"
fi
exit $status

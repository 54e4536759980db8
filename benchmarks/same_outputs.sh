#!/usr/bin/env bash
# Same outputs before and after a refactor: run the offline stages with two source trees and diff their folders.
#
#   benchmarks/same_outputs.sh OLD_SRC NEW_SRC OUT
#
# OLD_SRC / NEW_SRC: the `src` folders to compare (e.g. a worktree of main made with
# `git worktree add /tmp/base <commit>`, and this checkout's src). Each tree runs, offline on the CPU: synth; bridge
# with the template teacher; tiny-model (built, not copied from a cache); data decontaminate (report and clean copy);
# a 2-step SFT and a 2-stage GRPO on the tiny model; eval on the records benchmark with canned replies and with the
# tiny model; score on MathVista's released GPT-4 outputs (the first 200 records of
# /work/shared/data/mathvista/output_gpt4.json, or $MATHVISTA_RESULTS); report of the two eval runs and of the two
# training runs. Everything goes to OUT/old and OUT/new (console output in OUT/*/log/); then `diff -r` compares
# them, after blanking what holds the time of day, a duration or a speed (the sed lines below), with SQLite stores
# compared by their rows. Exit status 0 when the folders are the same; else the differences are in OUT/diff.txt.
# Takes about 5 minutes on 2 busy CPU cores; with DEMO=1 a `visionr1 demo --quick` per tree too (much longer).
# File modes are listed apart (OUT/modes.diff): told, not counted.
set -euo pipefail

OLD_SRC=$(realpath "$1")
NEW_SRC=$(realpath "$2")
OUT=$(realpath -m "$3")
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-/work/main/.venv/bin/python}
RESULTS=${MATHVISTA_RESULTS:-/work/shared/data/mathvista/output_gpt4.json}
rm -rf "$OUT"
mkdir -p "$OUT"

"$PY" - "$RESULTS" "$OUT/mathvista_200.json" <<'PYEOF'
import json, sys
data = json.load(open(sys.argv[1], encoding="utf-8"))
json.dump(dict(list(data.items())[:200]), open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False, indent=1)
PYEOF

run_all() {  # SRC DEST
    local src=$1 d=$2
    mkdir -p "$d/log"
    v() { local name=$1; shift; (cd "$d" && PYTHONPATH="$src" PYTHONHASHSEED=0 HF_HUB_OFFLINE=1 "$PY" -m visionr1 "$@") \
            >"$d/log/$name.out" 2>"$d/log/$name.err" || echo "exit $?" >>"$d/log/$name.err"; }
    v synth synth --out "$d/synth" --n 12 --seed 0 --split-test 6 --image-size 64
    v bridge bridge --input "$d/synth/train.jsonl" --out "$d/bridge" --teacher template --no-progress
    v tiny tiny-model --out "$d/tiny" --no-cache
    "$PY" - "$d/synth" <<'PYEOF'
import sys
from pathlib import Path
synth = Path(sys.argv[1])  # the test split plus three training items: decontaminate finds those three
rows = (synth / "test.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
rows += (synth / "train.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)[:3]
(synth.parent / "against.jsonl").write_text("".join(r.replace('"images/', '"synth/images/') for r in rows),
                                            encoding="utf-8")
PYEOF
    v decontaminate data decontaminate --train "$d/synth/train.jsonl" --against "records=$d/against.jsonl" \
        --out "$d/clean" --report "$d/decontam" --workers 1
    v sft sft --config "$REPO/recipes/tiny_cpu/sft.yaml" "run_dir=$d/sft" "model.path=$d/tiny" \
        "data.path=$d/bridge/cold.jsonl" trainer.max_steps=2 trainer.save_steps=1 trainer.per_device_train_batch_size=2
    v grpo grpo --config "$REPO/recipes/tiny_cpu/grpo.yaml" "run_dir=$d/grpo" "model.path=$d/sft/final" \
        "data.path=$d/synth/train.jsonl" trainer.per_device_train_batch_size=2 samples.per_stage=2 \
        "ptst.stages=[{max_completion_length: 8, num_generations: 2, steps: 1}, {max_completion_length: 12, num_generations: 2, steps: 1}]"
    "$PY" - "$d/synth/test.jsonl" "$d/canned.json" <<'PYEOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
canned = {r["id"]: f"<think>I count.</think><answer>{r['answer'] if i % 2 == 0 else 'x'}</answer>"
          for i, r in enumerate(rows)}
json.dump(canned, open(sys.argv[2], "w", encoding="utf-8"), indent=1)
PYEOF
    v eval-canned eval --benchmark records --data "$d/synth/test.jsonl" --out "$d/eval-canned" --canned "$d/canned.json" \
        --prompt r1 --no-progress
    v eval-tiny eval --benchmark records --data "$d/synth/test.jsonl" --out "$d/eval-tiny" --model "$d/tiny" \
        --device cpu --dtype float32 --prompt r1 --temperature 0 --max-tokens 12 --limit 3 --no-progress
    v score score mathvista "$OUT/mathvista_200.json" --out "$d/score/scored.json"
    v report report "$d/eval-canned" "$d/eval-tiny" --markdown "$d/report/report.md" --png "$d/report/bars.png"
    v report-train report "$d/sft" "$d/grpo" --markdown "$d/report/training.md" --png "$d/report/curves.png"
    if [ "${DEMO:-0}" = 1 ]; then v demo demo --quick --out "$d/demo"; fi
}

run_all "$OLD_SRC" "$OUT/old"
run_all "$NEW_SRC" "$OUT/new"  # two names of one length: the tables that print them line up alike

for side in old new; do  # SQLite stores hold the time of each call: compare their rows without it
    find "$OUT/$side" -name '*.sqlite' -print0 | while IFS= read -r -d '' db; do
        "$PY" - "$db" <<'PYEOF'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
with open(sys.argv[1] + ".rows", "w") as f:
    for (table,) in con.execute("select name from sqlite_master where type='table' order by name"):
        cols = [c[1] for c in con.execute(f"pragma table_info({table})") if c[1] not in ("stored_at",)]
        for row in con.execute(f"select {', '.join(cols)} from {table} order by 1"):
            f.write(repr(row) + "\n")
PYEOF
        rm -f "$db" "$db-wal" "$db-shm"
    done
    find "$OUT/$side" -name training_args.bin -print0 | while IFS= read -r -d '' bin; do  # pickled: holds the paths
        "$PY" - "$bin" <<'PYEOF'
import json, sys, torch
args = torch.load(sys.argv[1], weights_only=False)
open(sys.argv[1] + ".json", "w").write(json.dumps(args.to_dict(), indent=1, sort_keys=True, default=str) + "\n")
PYEOF
        rm -f "$bin"
    done
    find "$OUT/$side" -type f \( -name '*.json' -o -name '*.jsonl' -o -name '*.md' -o -name '*.out' -o -name '*.err' \
        -o -name '*.rows' -o -name '*.yaml' -o -name '*.lock' \) -print0 | xargs -0 sed -i -E \
        -e "s#$OUT/$side#OUT#g" \
        -e 's/"([a-z_]*(seconds|runtime|time|_per_s|_per_second|elapsed|duration|rss)[a-z_]*|stored_at|started|finished|when)": [0-9.e+-]+/"\1": T/g' \
        -e 's/peak RSS [0-9.]+ MB/peak RSS N MB/g' \
        -e 's/"([a-z_]*(time|date|started|finished|when)[a-z_]*)": "[^"]*"/"\1": T/g' \
        -e 's/[0-9]+(\.[0-9]+)? ?(s|ms|min|items\/s|it\/s|s\/it)\b/N\2/g' \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:.]+/DATE/g' \
        -e 's/pid [0-9]+/pid N/g' \
        -e "s#\b$side/#SIDE/#g"
    if [ -d "$OUT/$side/demo" ]; then  # the demo's wall-time and memory tables (report.md, the console's)
        sed -i -E '/^## Wall time and memory/,/^## /s/^\| (.*) \| [*0-9.]+ \| [*0-9.]+ \|$/| \1 | T | T |/' "$OUT/$side/demo/report.md"
        sed -i -E 's/^(│ [a-z -]+ +│) +[0-9.]+ │$/\1 T │/' "$OUT/$side/log/demo.out"
    fi
    find "$OUT/$side/log" -name '*.err' -print0 | xargs -0 sed -i -E \
        -e 's/[0-9]{2}:[0-9]{2}(<[0-9:?]+)?/MM:SS/g' -e 's/ +/ /g' \
        -e 's#N(it/s|s/it)#RATE#g' \
        -e 's/^([WIE])[0-9]{4} [^ ]+ [0-9]+ /\1 TIME PID /'  # progress bars' clocks, padding and rates; glog lines
done

for side in old new; do (cd "$OUT/$side" && find . -printf '%m %p\n' | sort >"$OUT/modes.$side"); done
diff "$OUT/modes.old" "$OUT/modes.new" >"$OUT/modes.diff" || echo "file modes differ: $OUT/modes.diff"
if diff -r "$OUT/old" "$OUT/new" >"$OUT/diff.txt"; then
    echo "same outputs: $OUT/old and $OUT/new (after blanking times, durations and speeds)"
else
    echo "outputs differ: $OUT/diff.txt (first lines below)"; head -60 "$OUT/diff.txt"; exit 1
fi

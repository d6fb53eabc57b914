#!/usr/bin/env bash
# Trains the default model that ships as models/default.ckpt, from maps simulated from the atomic
# models in ../shared/data/structures (no EMDB download needed). Steps, each resumable:
#   1. split the structure files into train / val by file, a HOMSTRAD family's two members always
#      on the same side: a group (the family folder for homstrad-pairs/, else the file) goes to val
#      when the CRC (cksum) of its name is 0 mod 8; the split is written to models/default_split.tsv;
#   2. `sseunet build --simulate` both lists: chains of ≥ 20 Cα, PER_CHAIN samples each (train) or
#      one (val), resolution 5–10 Å, SNR 1–6, B-factor blur 0–80 Å², density scale 0.5–2;
#   3. `sseunet train --samples` with FCE_DL (γ = 5, Dice per class), the best checkpoint chosen on the
#      simulated val structures only — the real chains stay an independent test
#      (`scripts/evaluate_default.sh`).
#
#   scripts/train_default.sh [DATA_DIR]     (default ../shared/data; WORK=build/default-model)
# Environment: WIDTH (16), PATCH (64), STEPS (3500), PER_CHAIN (2), DROPOUT (0.1), DICE (per-class),
# WEIGHT_DECAY (1e-4), cosine learning rate from 1e-3 over STEPS, THREADS (all), SEED (1). models/README.md says why these values.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(realpath "${1:-../shared/data}")
work=${WORK:-build/default-model}
sseunet=${SSEUNET:-build/sseunet}
width=${WIDTH:-16} patch=${PATCH:-64} steps=${STEPS:-3500} per_chain=${PER_CHAIN:-2} seed=${SEED:-1}
dropout=${DROPOUT:-0.1} dice=${DICE:-per-class} wd=${WEIGHT_DECAY:-1e-4}
threads=${THREADS:-0}
[ -x "$sseunet" ] || { echo "build $sseunet first (cmake --build build)" >&2; exit 1; }
mkdir -p "$work"

# 1. split by group
split=models/default_split.tsv
{
  echo -e "file\tgroup\tsplit"
  (cd "$data/structures" && find . -type f \( -name '*.pdb' -o -name '*.pdb.gz' -o -name '*.cif' -o -name '*.ent' \) |
     sed 's|^\./||' | LC_ALL=C sort) | while read -r f; do
    case "$f" in homstrad-pairs/*) group=$(dirname "$f") ;; *) group=$f ;; esac
    crc=$(printf '%s' "$group" | cksum | cut -d' ' -f1)
    echo -e "$f\t$group\t$([ $((crc % 8)) = 0 ] && echo val || echo train)"
  done
} > "$split"
for s in train val; do
  awk -F'\t' -v s=$s -v d="$data/structures" 'NR > 1 && $3 == s { print d "/" $1 }' "$split" > "$work/$s.txt"
done
echo "split: $(wc -l < "$work/train.txt") train files, $(wc -l < "$work/val.txt") val files -> $split"

# 2. simulated samples
realism=(--res-min 5 --res-max 10 --snr-min 1 --snr-max 6 --bfactor-min 0 --bfactor-max 80 --scale-min 0.5
         --scale-max 2 --threads "$threads" --seed "$seed")
"$sseunet" build --list "$work/train.txt" --per-chain "$per_chain" --split train --cache "$work/samples" \
  "${realism[@]}" > "$work/build_train.log" || echo "some training structures failed: $work/build_train.log" >&2
"$sseunet" build --list "$work/val.txt" --per-chain 1 --split val --cache "$work/samples" \
  "${realism[@]}" > "$work/build_val.log" || echo "some val structures failed: $work/build_val.log" >&2
tail -n 1 "$work/build_train.log" "$work/build_val.log"

# 3. training (resumes when the run exists)
if [ -f "$work/run/last.ckpt" ]; then
  "$sseunet" train --resume "$work/run" --max-steps "$steps" --threads "$threads"
else
  "$sseunet" train --samples "$work/samples" --out "$work/run" --loss fce_dl --gamma 5 --dice "$dice" --width "$width" --dropout "$dropout" \
    --weight-decay "$wd" --schedule cosine \
    --patch "$patch" --max-steps "$steps" --epochs 1000 --threads "$threads" --seed "$seed"
fi

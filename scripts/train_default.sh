#!/usr/bin/env bash
# Trains the default model that ships as models/default.ckpt, from maps simulated from the atomic
# models in ../shared/data/structures and real 3.2-3.8 A maps of ../shared/data/real-highres
# low-passed to 5-10 A (no EMDB download needed). Steps, each resumable:
#   1. split the structure files into train / val by file, a HOMSTRAD family's two members always
#      on the same side: a group (the family folder for homstrad-pairs/, else the file) goes to val
#      when the CRC (cksum) of its name is 0 mod 8; the split is written to models/default_split.tsv;
#   2. `sseunet build --simulate` both lists: chains of ≥ 20 Cα, PER_CHAIN samples each (train) or
#      one (val), resolution 5–10 Å, SNR 1–6, B-factor blur 0–80 Å², density scale 0.5–2;
#   3. `sseunet build --manifest --lowpass`: the real high-resolution maps, each chain REAL_PER_ROW
#      times Gaussian-filtered to a resolution drawn in 5-10 A with extra noise (SNR 2-10), labelled
#      from the fitted models; HCN4 (4 chains), TRPV1 and EMD-2566 train, VP6 (EMD-1461) validates,
#      4 draws: the validation set is real and disjoint from training by map;
#   4. `sseunet train --samples` (simulated + real training samples) with FCE_DL (γ = 5, Dice per
#      class), from INIT's weights when set, the best checkpoint chosen on the real VP6 validation
#      samples only (the simulated val samples are built for reference, not for selection) — the
#      chain maps of ../shared/data/real stay an independent test (`scripts/evaluate_default.sh`).
#
#   scripts/train_default.sh [DATA_DIR]     (default ../shared/data; WORK=build/default-model)
# Environment: WIDTH (16), PATCH (64), STEPS (3500), PER_CHAIN (2), REAL_PER_ROW (24), DROPOUT (0.1),
# DICE (per-class), WEIGHT_DECAY (1e-4), cosine learning rate from LR (1e-3) over STEPS, VAL_EVERY
# (250 steps), INIT (a checkpoint to fine-tune; default none), THREADS (all), SEED (1).
# models/README.md says why these values.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(realpath "${1:-../shared/data}")
work=${WORK:-build/default-model}
sseunet=${SSEUNET:-build/sseunet}
width=${WIDTH:-16} patch=${PATCH:-64} steps=${STEPS:-3500} per_chain=${PER_CHAIN:-2} seed=${SEED:-1}
dropout=${DROPOUT:-0.1} dice=${DICE:-per-class} wd=${WEIGHT_DECAY:-1e-4}
real_per_row=${REAL_PER_ROW:-24} lr=${LR:-1e-3} val_every=${VAL_EVERY:-250} init=${INIT:-}
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
"$sseunet" build --list "$work/val.txt" --per-chain 1 --split val --cache "$work/samples-sim-val" \
  "${realism[@]}" > "$work/build_val.log" || echo "some val structures failed: $work/build_val.log" >&2
tail -n 1 "$work/build_train.log" "$work/build_val.log"

# 3. real maps low-passed: training rows and the validation map (VP6), by map
hr=$data/real-highres
header="map\tmodel\tchain\tresolution\tsplit"
{
  echo -e "$header"
  for c in A B C D; do echo -e "$hr/0093_hcn4/MAP_m4A.mrc.gz\t$hr/0093_hcn4/6gyn.pdb\t$c\t3.5\ttrain"; done
  echo -e "$hr/trpv1_tm/transmem.mrc\t$hr/trpv1_tm/transmem.pdb.renum.pdb\tA\t3.4\ttrain"
  echo -e "$hr/2566_3j6b_9/2566_3J6B_9.mrc\t$hr/2566_3j6b_9/3J6B_9.pdb\t9\t3.2\ttrain"
} > "$work/highres_train.tsv"
echo -e "$header\n$hr/1461_vp6/emd_1461.mrc\t$hr/1461_vp6/vp6.pdb\tA\t3.8\tval" > "$work/highres_val.tsv"
real=(--res-min 5 --res-max 10 --snr-min 2 --snr-max 10 --bfactor-min 0 --bfactor-max 40 --scale-min 0.5 --scale-max 2
      --threads "$threads" --seed "$seed")
"$sseunet" build -m "$work/highres_train.tsv" --lowpass "$real_per_row" --cache "$work/real" "${real[@]}" -q \
  > "$work/build_real.log"
"$sseunet" build -m "$work/highres_val.tsv" --lowpass 4 --cache "$work/real" "${real[@]}" -q >> "$work/build_real.log"
grep -c built "$work/build_real.log" | xargs echo "real samples built:"

# 4. training (resumes when the run exists)
if [ -f "$work/run/last.ckpt" ]; then
  "$sseunet" train --resume "$work/run" --max-steps "$steps" --threads "$threads"
else
  "$sseunet" train --samples "$work/samples" "$work/real" --out "$work/run" ${init:+--init "$init"} \
    --loss fce_dl --gamma 5 --dice "$dice" --width "$width" --dropout "$dropout" \
    --weight-decay "$wd" --schedule cosine --lr "$lr" --val-every "$val_every" \
    --patch "$patch" --max-steps "$steps" --epochs 1000 --threads "$threads" --seed "$seed"
fi

#!/usr/bin/env bash
# Trains the default model that ships as models/default.ckpt, from maps simulated from the atomic
# models in ../shared/data/structures and real maps — ../shared/data/real-highres, and, when EXTRA
# names the folder that holds them, the public maps listed in models/extra_data/SOURCES.tsv (no EMDB
# download needed). Steps, each resumable (built samples are reused):
#   1. split the structure files into train / val by file, a HOMSTRAD family's two members always
#      on the same side: a group (the family folder for homstrad-pairs/, else the file) goes to val
#      when the CRC (cksum) of its name is 0 mod 8; the split is written to models/default_split.tsv;
#   2. `sseunet build --simulate` the training list: chains of ≥ 20 Cα, PER_CHAIN samples each,
#      resolution 5–10 Å, SNR 1–6, B-factor blur 0–80 Å², density scale 0.5–2, and each sample's chain
#      zone at a radius drawn in RADIUS_MIN..RADIUS_MAX Å (real chain maps come with masks of every
#      width; the authors' reach 5–9 Å from the atoms) and local-resolution variation (up to LOCAL_B
#      Å² of extra blur in a sample's blurriest regions: real maps are not equally sharp everywhere);
#      a fraction DNA of the samples gets a B-DNA duplex (12–36 bp) beside the chain, labelled
#      background (real maps hold nucleic acid next to proteins; a protein-only network calls it sheet);
#   3. `sseunet build --manifest --lowpass`: real 2.6–3.9 Å maps, each chain REAL_PER_ROW times (val:
#      4 times) Gaussian-filtered to a resolution drawn in 5–10 Å with extra noise (SNR 2–10), zone
#      radius drawn as above, labelled from the fitted models. Train: HCN4 (4 chains), TRPV1,
#      EMD-2566 (+ EXTRA: EMD-2513 hydrogenase, 3 chains; EMD-30342 integrin α6, β-rich). Validate:
#      VP6 (EMD-1461; + EXTRA: EMD-6272 VP6). The validation set is real and disjoint from training by
#      map and by protein;
#   4. (EXTRA) `sseunet build --manifest`: real 5–7 Å chain maps as they are — two chains of the
#      DeepSSETracer authors' own dataset with their STRIDE voxel labels (EMD-8518/5U8S A,
#      EMD-1657/4V5H AM) and a segmented F-actin subunit (EMD-5168, 6.6 Å) — validation only, the
#      zone radius 10 Å so their own segmentation masks stay as they are;
#   5. `sseunet train --samples` (simulated + real training samples, real validation samples) with
#      FCE_DL (γ = 5, Dice per class), from INIT's weights when set, keeping the checkpoint of every
#      validation (--keep-checkpoints);
#   6. `sseunet calibrate` every kept checkpoint on the same real validation samples and write the
#      best calibrated one with its mask-rule weights: $WORK/run/calibrated.ckpt (checkpoint and rule
#      chosen together, on real validation maps only). The chain maps of ../shared/data/real stay an
#      independent test (`scripts/evaluate_default.sh`).
#
#   scripts/train_default.sh [DATA_DIR]     (default ../shared/data; WORK=build/default-model)
# Environment: WIDTH (16), PATCH (64), STEPS (3500), PER_CHAIN (2), REAL_PER_ROW (24), DROPOUT (0.1),
# DICE (per-class), WEIGHT_DECAY (1e-4), cosine learning rate from LR (1e-3) over STEPS, VAL_EVERY
# (250 steps), RADIUS_MIN/RADIUS_MAX (4.5/8.5 Å), LOCAL_B (150 Å²), DNA (0.3), INIT (a checkpoint to fine-tune; default none),
# EXTRA (folder of the models/extra_data files; default none), THREADS (all), SEED (1).
# models/README.md says why these values.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(realpath "${1:-../shared/data}")
work=${WORK:-build/default-model}
sseunet=${SSEUNET:-build/sseunet}
width=${WIDTH:-16} patch=${PATCH:-64} steps=${STEPS:-3500} per_chain=${PER_CHAIN:-2} seed=${SEED:-1}
dropout=${DROPOUT:-0.1} dice=${DICE:-per-class} wd=${WEIGHT_DECAY:-1e-4}
real_per_row=${REAL_PER_ROW:-24} lr=${LR:-1e-3} val_every=${VAL_EVERY:-250} init=${INIT:-}
dna=${DNA:-0.3} rmin=${RADIUS_MIN:-4.5} rmax=${RADIUS_MAX:-8.5} local_b=${LOCAL_B:-150} extra=${EXTRA:-} threads=${THREADS:-0}
[ -x "$sseunet" ] || { echo "build $sseunet first (cmake --build build)" >&2; exit 1; }
[ -z "$extra" ] || extra=$(realpath "$extra")
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

# 2. simulated training samples
zone=(--radius-min "$rmin" --radius-max "$rmax")
common=(--threads "$threads" --seed "$seed" -q)
realism=(--res-min 5 --res-max 10 --snr-min 1 --snr-max 6 --bfactor-min 0 --bfactor-max 80 --scale-min 0.5
         --scale-max 2 --local-bfactor-max "$local_b" "${zone[@]}" "${common[@]}")
sim_only=(--dna-fraction "$dna")
"$sseunet" build --list "$work/train.txt" --per-chain "$per_chain" --split train --cache "$work/sim" \
  "${realism[@]}" "${sim_only[@]}" > "$work/build_sim.log" || echo "some training structures failed: $work/build_sim.log" >&2
tail -n 1 "$work/build_sim.log"

# 3. real maps low-passed: training rows and validation rows, by map and protein
hr=$data/real-highres
header="name\tmap\tmodel\tchain\tresolution\tsplit\tss_file"
{
  echo -e "$header"
  for c in A B C D; do echo -e "0093_hcn4_$c\t$hr/0093_hcn4/MAP_m4A.mrc.gz\t$hr/0093_hcn4/6gyn.pdb\t$c\t3.5\ttrain\t-"; done
  echo -e "trpv1_tm\t$hr/trpv1_tm/transmem.mrc\t$hr/trpv1_tm/transmem.pdb.renum.pdb\tA\t3.4\ttrain\t-"
  echo -e "2566_3j6b_9\t$hr/2566_3j6b_9/2566_3J6B_9.mrc\t$hr/2566_3j6b_9/3J6B_9.pdb\t9\t3.2\ttrain\t-"
  echo -e "1461_vp6\t$hr/1461_vp6/emd_1461.mrc\t$hr/1461_vp6/vp6.pdb\tA\t3.8\tval\t-"
} > "$work/highres.tsv"
# models/extra_data/*.tsv hold paths relative to EXTRA: make them absolute.
absolute() { awk -F'\t' -v OFS='\t' -v d="$extra" 'NR == 1 { print; next }
  { $2 = d "/" $2; $3 = d "/" $3; if ($7 != "-") $7 = d "/" $7; print }' "$1"; }
[ -z "$extra" ] || absolute models/extra_data/highres.tsv | tail -n +2 >> "$work/highres.tsv"
for s in train val; do
  awk -F'\t' -v s=$s 'NR == 1 || $6 == s' "$work/highres.tsv" > "$work/highres_$s.tsv"
done
real=(--res-min 5 --res-max 10 --snr-min 2 --snr-max 10 --bfactor-min 0 --bfactor-max 40 --scale-min 0.5 --scale-max 2
      "${zone[@]}" "${common[@]}")
"$sseunet" build -m "$work/highres_train.tsv" --lowpass "$real_per_row" --cache "$work/real" "${real[@]}" \
  > "$work/build_real.log"
"$sseunet" build -m "$work/highres_val.tsv" --lowpass 4 --cache "$work/real-val" "${real[@]}" >> "$work/build_real.log"
val=("$work/real-val")

# 4. real medium-resolution chain maps as they are (validation)
if [ -n "$extra" ]; then
  absolute models/extra_data/medres.tsv > "$work/medres.tsv"
  "$sseunet" build -m "$work/medres.tsv" --radius 10 --cache "$work/medres-val" "${common[@]}" >> "$work/build_real.log"
  val+=("$work/medres-val")
fi
grep -c -E "built|up to date" "$work/build_real.log" | xargs echo "real samples ready:"

# 5. training (resumes when the run exists)
if [ -f "$work/run/last.ckpt" ]; then
  "$sseunet" train --resume "$work/run" --max-steps "$steps" --threads "$threads"
else
  "$sseunet" train --samples "$work/sim" "$work/real" "${val[@]}" --out "$work/run" ${init:+--init "$init"} \
    --loss fce_dl --gamma 5 --dice "$dice" --width "$width" --dropout "$dropout" \
    --weight-decay "$wd" --schedule cosine --lr "$lr" --val-every "$val_every" \
    --patch "$patch" --max-steps "$steps" --epochs 1000 --threads "$threads" --seed "$seed" --keep-checkpoints
fi

# 6. checkpoint and mask-rule weights chosen together on the real validation samples
args=()
for d in "${val[@]}"; do args+=(--samples "$d"); done
for c in $(ls "$work"/run/step_*.ckpt 2>/dev/null | sort -t_ -k2 -n); do args+=(--model "$c"); done
[ -e "$work/run/step_$steps.ckpt" ] || args+=(--model "$work/run/best.ckpt")  # a run from before --keep-checkpoints
"$sseunet" calibrate "${args[@]}" -o "$work/run/calibrated.ckpt" --threads "$threads"

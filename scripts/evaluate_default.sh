#!/usr/bin/env bash
# Scores a model (default: models/default.ckpt) on the real maps of ../shared/data/real, next to
# DeepSSETracer's published predictions on the same maps — the table of models/README.md.
#   * the three chain maps of the study's dataset (6149_3j8g_X, 3491_5mdx_L, 3491_5mdx_X), truth from
#     the authors' STRIDE voxel-label files;
#   * the EMD-35448 crop (44×46×42 at 1 Å), one row per histone chain of 8IHL with Cα in the crop
#     (A–H), truth from the mmCIF's helix/sheet records; DeepSSETracer 1.1's predictions on it.
# Both sides are scored by the same `sseunet evaluate` (voxel F1 on each chain's zone at 1 Å; Table II
# format). sseunet predicts each whole map with `sseunet predict` (as a user would), then is scored
# from the written masks.
#
# After each table, pooled precision / recall / F1 over all rows, at voxel and residue level, from
# the CSV (so over- or under-prediction shows).
#
# Last, the whole deposited EMD-35448 box (87×91×90 at 1.07 Å; no peer masks): the histones A–H, each
# scored on its zone of the box as on the crop (pooled P / R / F1), and the nucleic acid: helix and
# sheet voxels called on 8IHL's DNA (chains I, J), which has neither — on the crop next to
# DeepSSETracer 1.1, and on the whole box.
#
#   scripts/evaluate_default.sh [DATA_DIR]   (default ../shared/data; MODEL, OUT=build/default-eval,
#   PREDICT_FLAGS, e.g. "--tta --helix-weight 0.7")
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(realpath "${1:-../shared/data}")
model=${MODEL:-models/default.ckpt}
out=${OUT:-build/default-eval}
sseunet=${SSEUNET:-build/sseunet}
read -r -a flags <<< "${PREDICT_FLAGS:-}"
rm -rf "$out" && mkdir -p "$out/pred"

manifest=$out/real.tsv
{
  echo -e "name\tmap\tmodel\tchain\tresolution\tsplit\tss_file"
  for row in 6149_3j8g_X:5.0 3491_5mdx_L:5.3 3491_5mdx_X:5.3; do
    name=${row%%:*} res=${row##*:} chain=${name##*_} dir=$data/real/${row%%:*}
    echo -e "$name\t$dir/$chain-1.0APIX.mrc\t$dir/${chain}_fitted.pdb\t$chain\t$res\ttest\t$dir/${chain}_label_stride.txt"
  done
  for chain in A B C D E F G H; do
    echo -e "35448_8ihl_$chain\t$data/real/35448_8ihl/cropped_35448.mrc\t$data/real/35448_8ihl/8ihl.cif\t$chain\tNA\ttest\t-"
  done
} > "$manifest"

# Pooled P / R / F1 of the tp/fp/fn columns of an evaluate CSV, helix and sheet, voxel and residue.
pooled() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { for (l = 0; l < 2; l++) for (c = 0; c < 2; c++) { k = (l ? "residue" : "voxel") "_" (c ? "sheet" : "helix")
        tp[k] += $col[k "_tp"]; fp[k] += $col[k "_fp"]; fn[k] += $col[k "_fn"] } }
    END { print "\n| pooled | helix P | helix R | helix F1 | sheet P | sheet R | sheet F1 |\n|---|---|---|---|---|---|---|"
      for (l = 0; l < 2; l++) { lv = l ? "residue" : "voxel"; line = "| " lv
        for (c = 0; c < 2; c++) { k = lv "_" (c ? "sheet" : "helix"); p = tp[k] / (tp[k] + fp[k] + 1e-12)
          r = tp[k] / (tp[k] + fn[k] + 1e-12); f = 2 * p * r / (p + r + 1e-12); line = line sprintf(" | %.3f | %.3f | %.3f", p, r, f) }
        print line " |" } }' "$1"
}

for name in 6149_3j8g_X 3491_5mdx_L 3491_5mdx_X; do
  chain=${name##*_}
  "$sseunet" predict "$data/real/$name/$chain-1.0APIX.mrc" -o "$out/pred/$name" --model "$model" -q "${flags[@]}"
done
"$sseunet" predict "$data/real/35448_8ihl/cropped_35448.mrc" -o "$out/pred/cropped_35448" --model "$model" -q "${flags[@]}"

echo "## sseunet ($model)"
"$sseunet" evaluate -m "$manifest" --split all --pred-dir "$out/pred" --csv "$out/sseunet.csv" -q
pooled "$out/sseunet.csv"
echo
echo "## DeepSSETracer (published predictions: 1.0 on the chain maps, 1.1 on the crop)"
"$sseunet" evaluate -m "$manifest" --split all --pred-dir "$data/real" --csv "$out/deepssetracer.csv" -q
pooled "$out/deepssetracer.csv"

# Nucleic acid: 8IHL's DNA (chains I and J) holds no helix or sheet, so every helix or sheet voxel
# called in its zone is a false positive. On the crop next to DeepSSETracer 1.1, and on the whole
# deposited box (87×91×90 at 1.07 Å, the nucleosome's DNA all round) for sseunet (no peer masks).
dna_manifest() {  # NAME_PREFIX MAP
  echo -e "name\tmap\tmodel\tchain\tresolution\tsplit\tss_file"
  for chain in I J; do echo -e "$1_8ihl_$chain\t$2\t$data/real/35448_8ihl/8ihl.cif\t$chain\tNA\ttest\t-"; done
}
dna_manifest crop "$data/real/35448_8ihl/cropped_35448.mrc" > "$out/dna_crop.tsv"
dna_manifest box "$data/real/35448_8ihl/emd_35448_box.mrc" > "$out/dna_box.tsv"
"$sseunet" predict "$data/real/35448_8ihl/emd_35448_box.mrc" -o "$out/pred/emd_35448_box" --model "$model" -q "${flags[@]}"
{
  echo -e "name\tmap\tmodel\tchain\tresolution\tsplit\tss_file"
  for chain in A B C D E F G H; do
    echo -e "box_8ihl_$chain\t$data/real/35448_8ihl/emd_35448_box.mrc\t$data/real/35448_8ihl/8ihl.cif\t$chain\tNA\ttest\t-"
  done
} > "$out/histones_box.tsv"
echo
echo "## sseunet on the whole EMD-35448 box: the histones, each on its zone of the box"
"$sseunet" evaluate -m "$out/histones_box.tsv" --split all --pred-dir "$out/pred" --csv "$out/box.csv" -q
pooled "$out/box.csv"
dna_calls() {  # WHO MANIFEST PRED_DIR: helix and sheet voxels called in each DNA zone
  "$sseunet" evaluate -m "$2" --split all --pred-dir "$3" --csv "$out/dna.csv" -q > /dev/null
  awk -F, -v who="$1" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { printf "| %s | %s | %d | %d |\n", who, $1, $col["voxel_helix_fp"], $col["voxel_sheet_fp"] }' "$out/dna.csv"
}
echo
echo "## 8IHL's DNA called helix or sheet (voxels in each DNA chain's zone: all false positives)"
echo -e "\n| model | row | helix voxels | sheet voxels |\n|---|---|---|---|"
dna_calls sseunet "$out/dna_crop.tsv" "$out/pred"
dna_calls "DeepSSETracer 1.1" "$out/dna_crop.tsv" "$data/real"
dna_calls sseunet "$out/dna_box.tsv" "$out/pred"

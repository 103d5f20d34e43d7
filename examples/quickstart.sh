#!/usr/bin/env bash
# quickstart.sh - the whole iNAS pipeline on the host CPU (PoCL) from a fresh
# Debian 12 machine: installs the missing Debian packages (as root; otherwise
# says which), builds inas, then
#   1. data     a synthetic salient-object dataset (or --images/--masks)
#   2. train    the supernet over the narrow space (examples/space-small.yaml, 64x64)
#   3. latency  the LUT of the host CPU (examples/quickstart-target.yaml), validated
#   4. search   LGS evolution: the Pareto front (YAML + SVG)
#   5. deploy   export the front's middle architecture (BN recalibrated, folded,
#               SMSUs merged), infer on validation images, a contact sheet, inas eval
# and prints a summary table. Everything goes to --out (default quickstart-out/).
#
#   examples/quickstart.sh [--tiny] [--out DIR] [--images DIR --masks DIR]
#                          [--no-build --inas PATH/TO/inas]
# --tiny runs the smallest setting (seconds to a minute; the test suite uses it).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

tiny=0 out=quickstart-out images="" masks="" build=1 inas=""
while [ $# -gt 0 ]; do
  case $1 in
    --tiny) tiny=1 ;;
    --out) out=$2; shift ;;
    --images) images=$2; shift ;;
    --masks) masks=$2; shift ;;
    --no-build) build=0 ;;
    --inas) inas=$2; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "quickstart.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if { [ -n "$images" ] && [ -z "$masks" ]; } || { [ -z "$images" ] && [ -n "$masks" ]; }; then
  echo "quickstart.sh: give both --images and --masks" >&2; exit 2
fi

t_start=$(date +%s)
if [ "$build" = 1 ]; then
  bash examples/install-deps.sh
  bdir=${INAS_BUILD_DIR:-build}
  echo "== configure and build ($bdir)"
  cmake -S . -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DINAS_BUILD_TESTS=OFF >/dev/null
  cmake --build "$bdir" -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
  inas=$bdir/inas
fi
[ -n "$inas" ] || inas=build/inas
[ -x "$inas" ] || { echo "quickstart.sh: no inas binary at $inas" >&2; exit 1; }
inas=$(cd "$(dirname "$inas")" && pwd)/$(basename "$inas")

if [ "$tiny" = 1 ]; then
  n_train=24 n_val=6 img_size=64 steps=6 batch=4 val_samples=3 pop=6 groups=3 parents=4 iters=1 calib=2 n_infer=3
else
  n_train=320 n_val=40 img_size=96 steps=400 batch=8 val_samples=20 pop=40 groups=5 parents=10 iters=3 calib=5 n_infer=8
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
space=$root/examples/space-small.yaml
target=$root/examples/quickstart-target.yaml

echo "== OpenCL device"
"$inas" devices | grep -E "^  - index|name:|type:" | sed 's/^/   /'
"$inas" selftest --n 65536 | sed 's/^/   /'

echo "== 1. data"
if [ -n "$images" ]; then
  # real data: the last 10 % of the pairs (at most 100) are held out for validation
  mkdir -p "$out/data/train/images" "$out/data/train/masks" "$out/data/val/images" "$out/data/val/masks"
  mapfile -t stems < <(ls "$masks" | sed 's/\.[^.]*$//' | sort)
  total=${#stems[@]}
  nv=$(( total / 10 )); [ "$nv" -gt 100 ] && nv=100; [ "$nv" -lt 1 ] && nv=1
  for i in "${!stems[@]}"; do
    s=${stems[$i]}
    img=$(ls "$images/$s".* 2>/dev/null | head -1 || true); msk=$(ls "$masks/$s".* | head -1)
    [ -n "$img" ] || continue
    part=train; [ "$i" -ge $(( total - nv )) ] && part=val
    ln -sf "$(cd "$(dirname "$img")" && pwd)/$(basename "$img")" "$out/data/$part/images/"
    ln -sf "$(cd "$(dirname "$msk")" && pwd)/$(basename "$msk")" "$out/data/$part/masks/"
  done
  echo "   $((total - nv)) training and $nv validation pairs from $images"
else
  "$inas" data synth --out "$out/data/train" --count "$n_train" --size "$img_size" --seed 1 >/dev/null
  "$inas" data synth --out "$out/data/val" --count "$n_val" --size "$img_size" --seed 2 >/dev/null
  echo "   $n_train training and $n_val validation synthetic images ($img_size x $img_size) in $out/data"
fi
ti=$out/data/train/images tm=$out/data/train/masks vi=$out/data/val/images vm=$out/data/val/masks

echo "== 2. train the supernet ($steps sandwich steps, batch $batch, 64x64)"
t0=$(date +%s)
"$inas" train --images "$ti" --masks "$tm" --space "$space" --steps "$steps" --batch "$batch" --sizes 64 \
  --lr 1e-3 --warmup $(( steps / 20 + 1 )) --seed 1 --log "$out/train.csv" -o "$out/supernet.safetensors" > "$out/train.yaml"
sed 's/^/   /' "$out/train.yaml"
t_train=$(( $(date +%s) - t0 ))

echo "== 3. latency table of the host CPU"
"$inas" lut probe --target "$target" --lut "$out/host-cpu.lut" > "$out/probe.yaml"
sed 's/^/   /' "$out/probe.yaml" | head -6
"$inas" lut validate --target "$target" --lut "$out/host-cpu.lut" --samples "$val_samples" --seed 1 \
  --svg "$out/lut-validate.svg" > "$out/lut-validate.yaml"
grep -E "^(n|pearson_r|mape|within_5pct|within_10pct):" "$out/lut-validate.yaml" | head -5 | sed 's/^/   /'

echo "== 4. LGS search (population $pop, $groups groups, $parents parents, $iters iterations)"
"$inas" search --target "$target" --lut "$out/host-cpu.lut" --supernet "$out/supernet.safetensors" \
  --val-images "$vi" --val-masks "$vm" --calib-images "$ti" --calib-masks "$tm" --calib-batches "$calib" \
  --batch "$batch" --population "$pop" --groups "$groups" --parents "$parents" --iterations "$iters" --seed 1 \
  -o "$out/search" > "$out/search.yaml"
grep -E "^(candidates|evaluations|front|lat_min_ms|lat_max_ms):" "$out/search.yaml" | sed 's/^/   /'
echo "   front: $out/search/pareto.yaml, plot: $out/search/pareto.svg"

echo "== 5. export, infer, evaluate"
# the front's middle member: the latency budget halfway along the front
mapfile -t front < <(grep '^- {arch:' "$out/search/pareto.yaml")
pick=${front[$(( ${#front[@]} / 2 ))]}
echo "$pick" | sed 's/^- {arch: "\([^"]*\)".*/\1/' > "$out/chosen-arch.txt"
chosen_lat=$(echo "$pick" | sed 's/.*latency_ms: \([^,]*\),.*/\1/')
chosen_f=$(echo "$pick" | sed 's/.*max_f: \([^,]*\),.*/\1/')
"$inas" export --supernet "$out/supernet.safetensors" --arch "$out/chosen-arch.txt" \
  --calib-images "$ti" --calib-masks "$tm" --batches "$calib" --batch "$batch" -o "$out/model" > "$out/export.yaml"
echo "   model: $out/model ($(grep -E '^params:' <("$inas" model info "$out/model") | sed 's/params: //') parameters)"
mkdir -p "$out/pred"
"$inas" infer --model "$out/model" "$vi" -o "$out/pred" > "$out/infer.yaml"
"$inas" eval --pred "$out/pred" --gt "$vm" --plot "$out/eval.svg" > "$out/eval.yaml"
grep -E "^(maxFm|MAE|Sm|n):" "$out/eval.yaml" | sed 's/^/   /'
{
  echo "<!doctype html><meta charset=utf-8><title>inas quickstart</title>"
  echo "<h1>inas quickstart: image, mask, prediction</h1><table>"
  for f in $(ls "$vi" | head -n "$n_infer"); do
    s=${f%.*}
    echo "<tr><td><img src=\"$vi/$f\" width=128><td><img src=\"$vm/$s.png\" width=128><td><img src=\"pred/$s.png\" width=128><td>$s"
  done
  echo "</table>"
} > "$out/contact-sheet.html"
echo "   contact sheet: $out/contact-sheet.html"

val() { grep -E "^$2:" "$1" | head -1 | sed "s/^$2: *//"; }
loss=$(grep -E '^last_losses:' "$out/train.yaml" | sed 's/.*largest: \([^,]*\),.*/\1/')
total=$(( $(date +%s) - t_start ))
echo
echo "== summary ($out)"
printf '  %-34s %s\n' "training (largest, final loss)" "$loss after $steps steps, ${t_train} s"
printf '  %-34s %s\n' "LUT accuracy (validate)" "r $(val "$out/lut-validate.yaml" pearson_r), within 10 %: $(val "$out/lut-validate.yaml" within_10pct), MAPE $(val "$out/lut-validate.yaml" mape)"
printf '  %-34s %s\n' "search" "$(val "$out/search.yaml" candidates) candidates, front of $(val "$out/search.yaml" front)"
printf '  %-34s %s\n' "chosen architecture" "$chosen_lat ms predicted, supernet max-F $chosen_f"
printf '  %-34s %s\n' "exported model on validation" "maxFm $(val "$out/eval.yaml" maxFm), MAE $(val "$out/eval.yaml" MAE), n $(val "$out/eval.yaml" n)"
printf '  %-34s %s\n' "wall time" "${total} s"

#!/usr/bin/env bash
# quickstart_tiny.sh - runs examples/quickstart.sh in its smallest setting
# (--tiny) with the built inas and checks that every artefact exists and
# parses: checkpoint, LUT, validation, search files, exported model,
# predictions, evaluation, contact sheet, training log.
set -euo pipefail
src=${INAS_SOURCE_DIR:?} inas=${INAS_CLI:?}
out=$(mktemp -d "${TMPDIR:-/tmp}/inas-quickstart-XXXXXX")
trap 'rm -rf "$out"' EXIT
bash "$src/examples/quickstart.sh" --tiny --no-build --inas "$inas" --out "$out" > "$out.log" 2>&1 || {
  cat "$out.log"; rm -f "$out.log"; echo "quickstart --tiny failed"; exit 1; }
fail() { echo "quickstart artefact check failed: $*"; cat "$out.log"; rm -f "$out.log"; exit 1; }
grep -q "^== summary" "$out.log" || fail "no summary table"
"$inas" ckpt info "$out/supernet.safetensors" > /dev/null || fail "checkpoint"
[ "$(wc -l < "$out/train.csv")" -eq 7 ] || fail "train.csv should hold a header and 6 steps"
"$inas" lut predict --lut "$out/host-cpu.lut" --arch "$out/chosen-arch.txt" --space "$src/examples/space-small.yaml" \
  --resolution 64 > /dev/null || fail "LUT or chosen architecture"
grep -q "^pearson_r: " "$out/lut-validate.yaml" || fail "lut-validate.yaml"
grep -q "</svg>" "$out/lut-validate.svg" || fail "lut-validate.svg"
[ "$(grep -c '^- {arch:' "$out/search/candidates.yaml")" -eq 10 ] || fail "candidates.yaml should hold 10 candidates"
[ "$(grep -c '^- {arch:' "$out/search/pareto.yaml")" -ge 1 ] || fail "pareto.yaml"
grep -q "</svg>" "$out/search/pareto.svg" || fail "pareto.svg"
"$inas" model info "$out/model" > /dev/null || fail "exported model"
[ "$(ls "$out/pred"/*.png | wc -l)" -eq 6 ] || fail "one prediction per validation image"
grep -q "^maxFm: " "$out/eval.yaml" || fail "eval.yaml"
grep -q "<img" "$out/contact-sheet.html" || fail "contact sheet"
rm -f "$out.log"
echo "quickstart --tiny: every artefact present"

#!/usr/bin/env bash
# One-shot training of the default detector's network on a GPU machine (the device
# tool's nvidia-h200), written for one call of `run`:
#
#   run(command="bash benchmarks/gpu/train_on_device.sh", carry=[".whl"], timeout_s=600)
#
# Installs the carried wheels (.whl/, from benchmarks/gpu/fetch_wheels.sh) into
# /tmp/site, runs railwatch from this checkout's src/, prints the GPU, then trains two
# stages from scratch (stage 2 continues from stage 1, as the shipped recipe does) with
# --device cuda --workers 14, and writes into $OUT: gpu.stage1.onnx/.json, gpu.onnx/.json
# (the cards: config, bank, trained_on) and train.log. Every stage is stopped by SIGINT
# (the weights are written whole or not at all) once BUDGET_S seconds have passed since
# the start; a stage that cannot have 60 s is skipped. Calibration, the covered-head
# re-fit and INT8 are left to the CPU machine afterwards (benchmarks/gpu/README.md).
#
# Settings (environment variables; defaults: a run sized for about 8 minutes on an
# H200, an estimate, never measured on one: see README.md):
#   OUT (required on the device machine; elsewhere default /tmp/railwatch-gpu)
#   BUDGET_S=540 DEVICE=cuda WORKERS=14 THREADS=2 AMP=0 CHANNELS= (empty: 32)
#   S1_SCENES=10000 S1_EPOCHS=10 S1_SEED=61 S1_LR=0.003
#   S2_SCENES=15000 S2_EPOCHS=10 S2_SEED=62 S2_LR=0.001   (S2_SCENES=0: one stage only)
#   PYTHON=python3 WHEELS=.whl (a CPU dry run here: PYTHON=.venv/bin/python WHEELS=none)
#   EXTRA="..." more `railwatch train` options for both stages (e.g. --trackside 0.3)
set -uo pipefail
t_start=$(date +%s)
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root" || exit 1
OUT="${OUT:-/tmp/railwatch-gpu}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/train.log") 2>&1
BUDGET_S="${BUDGET_S:-540}" DEVICE="${DEVICE:-cuda}" WORKERS="${WORKERS:-14}"
THREADS="${THREADS:-2}" AMP="${AMP:-0}" CHANNELS="${CHANNELS:-}" EXTRA="${EXTRA:-}"
S1_SCENES="${S1_SCENES:-10000}" S1_EPOCHS="${S1_EPOCHS:-10}" S1_SEED="${S1_SEED:-61}"
S1_LR="${S1_LR:-0.003}"
S2_SCENES="${S2_SCENES:-15000}" S2_EPOCHS="${S2_EPOCHS:-10}" S2_SEED="${S2_SEED:-62}"
S2_LR="${S2_LR:-0.001}"
PY="${PYTHON:-python3}"

WHEELS="${WHEELS:-.whl}"
if compgen -G "$WHEELS/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site "$WHEELS"/*.whl || { echo "installing $WHEELS/ failed"; exit 1; }
  export PYTHONPATH="/tmp/site:$root/src${PYTHONPATH:+:$PYTHONPATH}"
else
  echo "no $WHEELS/*.whl here (carry .whl, see README.md): using the installed packages"
  export PYTHONPATH="$root/src${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1
echo "== $(date -u +%FT%TZ) $(uname -m), $(nproc) CPUs; settings: DEVICE=$DEVICE WORKERS=$WORKERS" \
  "AMP=$AMP CHANNELS=${CHANNELS:-32} stage1 ${S1_SCENES}x${S1_EPOCHS} stage2 ${S2_SCENES}x${S2_EPOCHS}" \
  "budget ${BUDGET_S}s"
command -v nvidia-smi >/dev/null && nvidia-smi
"$PY" -c "import torch; ok = torch.cuda.is_available(); print('torch', torch.__version__, \
'cuda', torch.version.cuda, 'available', ok, torch.cuda.get_device_name(0) if ok else '')" \
  || exit 1
"$PY" -c "import railwatch.detect.train, railwatch.sim" || { echo "railwatch does not import"; exit 1; }

opts=(--device "$DEVICE" --workers "$WORKERS" --threads "$THREADS" --calibration-scenes 0)
[ "$AMP" = 1 ] && opts+=(--amp)
[ -n "$CHANNELS" ] && opts+=(--channels "$CHANNELS")

stage() {  # stage N OUTFILE ARGS...: run `railwatch train` within what is left of the budget
  local n=$1 out=$2
  shift 2
  local left=$((BUDGET_S - ($(date +%s) - t_start)))
  if ((left < 60)); then
    echo "== stage $n skipped: ${left}s left of the ${BUDGET_S}s budget"
    return 1
  fi
  local cmd="railwatch train --out $out $* ${opts[*]} $EXTRA"
  echo "== $(date -u +%T) stage $n (at most ${left}s): ${cmd#railwatch }"
  local t=$(date +%s)
  # shellcheck disable=SC2086  # EXTRA is split into options on purpose
  timeout -s INT -k 30 "$left" "$PY" -m railwatch.cli.main train --out "$out" "$@" \
    "${opts[@]}" $EXTRA
  local rc=$?
  echo "== stage $n: exit $rc after $(($(date +%s) - t))s (124/130: stopped by the budget)"
  ((rc == 0)) && stage_files+=("$out") && stage_cmds+=("$cmd") \
    && stage_secs+=("$(($(date +%s) - t))")
  return $rc
}

record() {  # the stages and this run in the card of the last weights written (recipe entry)
  ((${#stage_files[@]})) || return 0
  SETTINGS="BUDGET_S=$BUDGET_S DEVICE=$DEVICE WORKERS=$WORKERS THREADS=$THREADS AMP=$AMP \
CHANNELS=$CHANNELS S1_SCENES=$S1_SCENES S1_EPOCHS=$S1_EPOCHS S1_SEED=$S1_SEED S1_LR=$S1_LR \
S2_SCENES=$S2_SCENES S2_EPOCHS=$S2_EPOCHS S2_SEED=$S2_SEED S2_LR=$S2_LR" EXTRA="$EXTRA" \
    "$PY" - "${#stage_files[@]}" "${stage_files[@]}" "${stage_cmds[@]}" "${stage_secs[@]}" <<'PY' \
    || echo "== recording the run in the card failed (the weights are unchanged)"
import os, sys
from pathlib import Path
from railwatch.detect.train import record_script_run
n = int(sys.argv[1])
files, cmds, secs = sys.argv[2 : 2 + n], sys.argv[2 + n : 2 + 2 * n], sys.argv[2 + 2 * n :]
settings = dict(kv.split("=", 1) for kv in os.environ["SETTINGS"].split())
settings["EXTRA"] = os.environ["EXTRA"]
card = record_script_run(
    Path(files[-1]), [Path(f) for f in files], script="benchmarks/gpu/train_on_device.sh",
    commands=cmds, settings=settings,
    seconds={f"stage{k}": float(s) for k, s in enumerate(secs, start=1)},
)
print(f"== recorded {n} stage(s), settings and machine in {card}")
PY
}
stage_files=() stage_cmds=() stage_secs=()

stage 1 "$OUT/gpu.stage1.onnx" --arch s8 --scenes "$S1_SCENES" --epochs "$S1_EPOCHS" \
  --seed "$S1_SEED" --lr "$S1_LR" || { ls -la "$OUT"; exit 1; }
if [ "$S2_SCENES" -gt 0 ]; then
  stage 2 "$OUT/gpu.onnx" --init "$OUT/gpu.stage1.onnx" --scenes "$S2_SCENES" \
    --epochs "$S2_EPOCHS" --seed "$S2_SEED" --lr "$S2_LR"
fi
record
echo "== $(date -u +%T) done in $(($(date +%s) - t_start))s"
ls -la "$OUT"
sha256sum "$OUT"/*.onnx 2>/dev/null
exit 0

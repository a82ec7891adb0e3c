#!/usr/bin/env bash
# The GPU check (issue 13): on a machine with an NVIDIA GPU, from the repository root, in under 8 minutes:
#   the CUDA and Triton tests, the kernel benchmark at 3840x2160 against the device's copy bandwidth,
#   model + apply at 1920x1080 per way of running the network, and `lowlight bench --device cuda` where
#   PyAV is importable. Everything it measured goes to one JSON file: $OUT/gpu_check.json (or ./gpu_check.json).
#
# On the project's lent H200 (no package index there): carry wheels in .whl/ (PyAV for `lowlight bench`;
# see the device tool's README for `pip download`), then run  bash benchmarks/gpu_check.sh
set -u
cd "$(dirname "$0")/.."
OUTDIR=${OUT:-.}
LOG="$OUTDIR/gpu_check.log"
: >"$LOG"
export PYTHONUNBUFFERED=1 LOWLIGHT_CACHE_DIR=${LOWLIGHT_CACHE_DIR:-/tmp/lowlight-cache}
PY=${PYTHON:-python3}
step() { echo "== $1 ($(date +%T))" | tee -a "$LOG"; }

step "environment"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >>"$LOG" 2>&1
if ls .whl/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl >>"$LOG" 2>&1 \
    && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
step "install lowlight (editable, no dependencies fetched)"
timeout 180 $PY -m pip install -q --no-deps --no-build-isolation --no-index -e . >>"$LOG" 2>&1 || echo "install failed" >>"$LOG"

step "CUDA and Triton tests"
timeout 240 $PY -m pytest -q -p no:cacheprovider -rs --junitxml="$OUTDIR/gpu_tests.xml" \
  tests/test_kernels_fused.py tests/test_backends.py $(ls tests/test_denoise*.py 2>/dev/null) \
  -k "cuda or triton or tensorrt or gpu" >>"$LOG" 2>&1
echo "pytest exit $?" >>"$LOG"

step "kernel and model benchmarks"
timeout 150 $PY benchmarks/bench_gpu.py --json "$OUTDIR/bench_gpu.json" >>"$LOG" 2>&1
echo "bench_gpu exit $?" >>"$LOG"

step "lowlight bench --device cuda"
if $PY -c "import av" >/dev/null 2>&1; then
  timeout 150 $PY -m lowlight bench --device cuda --resolution 1920x1080,3840x2160 --backend torch,compile,auto \
    --frames 120 --repeats 3 --no-baselines --json "$OUTDIR/bench_cuda.json" --overwrite >>"$LOG" 2>&1
  echo "lowlight bench exit $?" >>"$LOG"
else
  echo "skipped: PyAV is not importable here (carry its wheel in .whl/)" >>"$LOG"
fi

step "collect"
$PY - "$OUTDIR" <<'PYEOF' >>"$LOG" 2>&1
import json, sys, xml.etree.ElementTree as ET
from pathlib import Path
out = Path(sys.argv[1])
report = {}
try:
    suite = ET.parse(out / "gpu_tests.xml").getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    report["tests"] = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    report["tests"]["failed_names"] = [c.get("name") for c in suite.iter("testcase")
                                       if c.find("failure") is not None or c.find("error") is not None]
except Exception as exc:  # noqa: BLE001
    report["tests"] = {"error": str(exc)}
for name in ("bench_gpu", "bench_cuda"):
    try:
        report[name] = json.loads((out / f"{name}.json").read_text())
    except Exception as exc:  # noqa: BLE001
        report[name] = {"missing": str(exc)}
(out / "gpu_check.json").write_text(json.dumps(report, indent=2))
print(json.dumps(report.get("tests")))
PYEOF
step "done"
tail -n 40 "$LOG"

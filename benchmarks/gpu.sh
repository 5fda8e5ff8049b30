#!/usr/bin/env bash
# The solver tests and the benchmarks on a CUDA GPU, in one command (from anywhere):
#
#   benchmarks/gpu.sh                # venv .venv-gpu, pip install -e ".[test,cuda]", tests, benchmarks
#   benchmarks/gpu.sh --quick        # smaller benchmark sizes
#   benchmarks/gpu.sh --no-install   # use $PYTHON (default: python3) as it is (jax with CUDA already installed)
#   benchmarks/gpu.sh --cuda12       # the CUDA 12 build (jax[cuda12]) for drivers older than CUDA 13's
#   LIMIT_ARGS="--sizes 1e6,1e7,1e8" benchmarks/gpu.sh   # larger batches for limit.py
#
# Fails (exit 1) with a clear message when jax sees no GPU. Writes the benchmark JSON to
# benchmarks/out/gpu/ (limit.json, core.json, sweep.json) and the test log to benchmarks/out/gpu/tests.log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-.venv-gpu}"
EXTRA="cuda"
INSTALL=1
QUICK=""
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK="--quick" ;;
    --no-install) INSTALL=0 ;;
    --cuda12) EXTRA="cuda12" ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "gpu.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

if [[ $INSTALL == 1 ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e ".[test,$EXTRA]"
  PY="$VENV/bin/python"
else
  PY="${PYTHON:-python3}"
fi

export JAX_PLATFORMS=cuda
OUT="benchmarks/out/gpu"
mkdir -p "$OUT"

# jax must see a GPU: otherwise stop here, before any number is taken.
if ! "$PY" - <<'EOF'
import sys
try:
    import jax
    devices = jax.devices()
except Exception as exc:  # JAX_PLATFORMS=cuda without a usable CUDA backend raises here
    sys.exit(f"gpu.sh: jax sees no CUDA device ({type(exc).__name__}: {exc})")
if not any(d.platform == "gpu" for d in devices):
    sys.exit(f"gpu.sh: jax sees no GPU, only {devices}")
print(f"jax {jax.__version__}: {devices}")
EOF
then
  echo "gpu.sh: no GPU visible to jax: check the NVIDIA driver (nvidia-smi) and the cuda extra" >&2
  exit 1
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null || true

echo "== solver tests on the GPU (log: $OUT/tests.log)"
set +e
# -n 0: one process (pyproject's two xdist workers would each preallocate most of the GPU)
"$PY" -m pytest -q -n 0 -p no:cacheprovider \
  tests/test_steady_state.py tests/test_measures.py tests/test_gradients.py \
  tests/test_against_oracles.py tests/test_properties.py 2>&1 | tee "$OUT/tests.log"
TESTS=${PIPESTATUS[0]}
set -e

echo "== benchmarks on the GPU"
# The limit benchmark times jaxtls on the GPU against the C loop and the memory ceiling of
# this host's CPU (the C rows stay on the CPU): the ratios then read "GPU over CPU limit".
# shellcheck disable=SC2086  # LIMIT_ARGS: extra options, e.g. LIMIT_ARGS="--sizes 1e6,1e7,1e8"
"$PY" benchmarks/limit.py $QUICK ${LIMIT_ARGS:-} --out "$OUT/limit.json"
"$PY" benchmarks/bench_core.py $QUICK --out "$OUT/core.json"
"$PY" benchmarks/bench_sweep.py $QUICK --out "$OUT/sweep.json"
if [[ $TESTS != 0 ]]; then
  echo "gpu.sh: the solver tests FAILED on the GPU (exit $TESTS, see $OUT/tests.log); results in $OUT/" >&2
  exit 1
fi
echo "gpu.sh: tests passed; results in $OUT/"

#!/usr/bin/env bash
# bench-all.sh — `npm run bench`: every benchmark of the repository, one after the other. Each prints
# its own figures, and its ratios against a baseline measured in the same run (never a pass/fail
# on time). A benchmark that fails to run is reported at the end; the others still run.
set -uo pipefail
cd "$(dirname "$0")/../.."
app/scripts/setup.sh --for test || exit 1
failed=()
bench() {
  local name=$1; shift
  printf '\n=== bench %s: %s\n' "$name" "$*"
  "$@" || failed+=("$name")
}
bench os            make -C os bench
bench trace         os/tools/trace-bench
bench bridge        node --import tsx debugger/bench/bridge-throughput.ts
bench step          node --import tsx debugger/bench/step.bench.ts --log
bench serial-line   node --import tsx debugger/bench/serial-line.bench.ts
bench trace-decoder node --import tsx debugger/bench/trace-decoder.bench.ts
for f in visualizers/bench/*.ts; do [ -e "$f" ] && bench "$(basename "$f" .ts)" node --import tsx "$f"; done
bench workbench     bash -c 'node app/scripts/build.mjs && node --import tsx app/bench/run.bench.ts'
bench debug         node --import tsx app/bench/debug.bench.ts
bench ipc-view-app  bash -c '[ -f test-results/ipctests.ltrace ] || node --import tsx --test app/test/unit/ipc-recorded.test.ts; node --import tsx app/bench/ipc-view.bench.ts'
echo
if [ ${#failed[@]} -gt 0 ]; then echo "benchmarks that did not run: ${failed[*]}"; exit 1; fi
echo "all benchmarks ran"

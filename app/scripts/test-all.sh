#!/usr/bin/env bash
# test-all.sh — every test of the repository, as `npm test` (and so CI) runs it.
#
# Stages, in order: install what is missing; type-check and lint (the layering rule); LaneOS's own
# suite (`make -C os test`: host libc tests, then the in-guest suite booted in real QEMU under KVM
# and TCG with 1 and 4 CPUs); the TypeScript unit and integration tests (real QEMU and gdb); the
# end-to-end tests of the workbench in headless Chromium. Each stage prints its runner's own
# output; the last line sums up the tests that ran — Node's tests, the host libc tests, the ABI
# generator's tests, the in-guest tests (os-test's totals line) — as `N passed, N failed, N skipped`
# (skipped: Node tests that skip, e.g. without a built OS, and QEMU configurations os-test did not
# run, e.g. KVM ones without /dev/kvm). A stage that fails without counting counts one failure.
# Exits non-zero if any stage fails.
set -uo pipefail
cd "$(dirname "$0")/../.."
app/scripts/setup.sh --for test || exit 1

logdir=$(mktemp -d)
total_pass=0 total_fail=0 total_skip=0 failed_stages=()

# run_stage NAME COMMAND...: runs a stage, tees its output, adds the counts its runner printed.
run_stage() {
  local name=$1; shift
  local log="$logdir/$name.log"
  printf '\n=== %s: %s\n' "$name" "$*"
  local t0=$SECONDS
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local p f k
  # Node's test runner (spec or TAP): its summary lines.
  p=$(grep -aE '^(ℹ |# )pass [0-9]+$' "$log" | tail -n1 | grep -oE '[0-9]+$')
  f=$(grep -aE '^(ℹ |# )fail [0-9]+$' "$log" | tail -n1 | grep -oE '[0-9]+$')
  k=$(grep -aE '^(ℹ |# )skipped [0-9]+$' "$log" | tail -n1 | grep -oE '[0-9]+$')
  if [ -z "$p" ]; then
    # LaneOS's suite: the host libc tests, the generator's tests and os-test's totals of the
    # in-guest tests ("LABEL: N passed, N failed[, N skipped]"), summed.
    read -r p f k < <(grep -aE '^(libc host tests|gen\.py tests|os-test totals|kgdb-test): [0-9]+ passed, [0-9]+ failed' "$log" \
                      | sed -E 's/^[^:]+: ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/' \
                      | awk '{p += $1; f += $2; k += ($3 == "" ? 0 : $3)} END {if (NR) print p, f, k}')
  fi
  p=${p:-0} f=${f:-0} k=${k:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # a stage that failed without counting
  total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + k))
  [ "$rc" -ne 0 ] && failed_stages+=("$name")
  printf '=== %s: exit %d, %d passed, %d failed, %d skipped, %ds\n' "$name" "$rc" "$p" "$f" "$k" $((SECONDS - t0))
}

node_test() { node --import tsx --test --test-reporter=spec --test-concurrency=1 "$@"; }

run_stage typecheck npm run --silent typecheck
run_stage lint      npx eslint .
run_stage os        make -C os test
run_stage unit      node_test $(ls debugger/test/*.test.ts app/test/unit/*.test.ts visualizers/test/*.test.ts 2>/dev/null)
run_stage e2e       bash -c 'npm run --silent build && node --import tsx --test --test-reporter=spec --test-concurrency=1 app/test/e2e/*.test.ts'

echo
[ ${#failed_stages[@]} -gt 0 ] && echo "failed stages: ${failed_stages[*]}"
echo "${total_pass} passed, ${total_fail} failed, ${total_skip} skipped"
[ ${#failed_stages[@]} -eq 0 ] && [ "$total_fail" -eq 0 ]

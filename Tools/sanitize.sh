#!/usr/bin/env bash
# The unit tests under AddressSanitizer, then ThreadSanitizer (issue 10): out-of-bounds
# accesses and use-after-free anywhere, data races in the interpreter's parallel kernels
# (Sources/VitInterp/Support/Parallel.swift). Each sanitizer builds into its own scratch
# directory (.build-asan, .build-tsan). Too slow for every CI run; run before a release or
# after touching unsafe pointers or the parallel kernels.
#
#   Tools/sanitize.sh [address|thread]…   (default: both)  extra `swift test` flags via SWIFT_TEST_FLAGS
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizers=("$@")
((${#sanitizers[@]})) || sanitizers=(address thread)
status=0
for s in "${sanitizers[@]}"; do
  case "$s" in
    address) scratch=.build-asan ;;
    thread) scratch=.build-tsan ;;
    *) echo "sanitize.sh: unknown sanitizer '$s' (address, thread)" >&2; exit 2 ;;
  esac
  echo "== swift test --sanitize=$s (--scratch-path $scratch)"
  # halt_on_error: the first report fails the run rather than scrolling past. Leak checking
  # at exit is off: LeakSanitizer cannot follow Swift's multi-payload enums (the pointer sits
  # under spare-bit tags), so every Op attribute array held by a test's static graph shows as
  # a "direct leak", beside XCTest's and Foundation.Process's own. The fuzz targets run with
  # libFuzzer's per-input leak check instead.
  if ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1}" \
     TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}" \
     swift test --sanitize="$s" --scratch-path "$scratch" ${SWIFT_TEST_FLAGS:-}; then
    echo "== $s: clean"
  else
    echo "== $s: FAILED"; status=1
  fi
done
exit $status

#!/usr/bin/env bash
# Runs tests again and again with no retries, to find the ones that fail only sometimes.
#
#   scripts/flakes.sh 20 --workspace                 # the whole suite, twenty times
#   scripts/flakes.sh 50 -p conduit-web -E 'test(login)'   # one package or test, fifty times
#
# Every run's JUnit report is kept under target/flakes/; the script fails if any test failed in
# any run, and names the tests that did.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:?usage: scripts/flakes.sh RUNS [nextest filters...]}
shift
out=target/flakes
rm -rf "$out"
mkdir -p "$out"

failed_runs=0
for run in $(seq 1 "$runs"); do
  echo "== run $run of $runs"
  if ! cargo nextest run --locked --profile ci --retries 0 --no-fail-fast "$@"; then
    failed_runs=$((failed_runs + 1))
  fi
  if [ -f target/nextest/ci/junit.xml ]; then
    cp target/nextest/ci/junit.xml "$out/junit-$run.xml"
  fi
done

if [ "$failed_runs" -eq 0 ]; then
  echo "no test failed in $runs runs"
  exit 0
fi
echo "$failed_runs of $runs runs had failures; the tests that failed:"
python3 - "$out"/junit-*.xml <<'PY'
import collections, sys, xml.etree.ElementTree as ET
failures = collections.Counter()
for path in sys.argv[1:]:
    for case in ET.parse(path).iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failures[f"{case.get('classname')} {case.get('name')}"] += 1
for name, count in failures.most_common():
    print(f"{count:4} {name}")
PY
exit 1

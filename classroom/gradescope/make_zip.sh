#!/usr/bin/env bash
# Build the zip to upload as a Gradescope autograder: the course, with setup.sh and
# run_autograder at the top level. Put private tests in private_tests/NN/test_*.py first.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-verlings-autograder.zip}
tmp=$(mktemp -d)
git ls-files -z | xargs -0 -I{} cp --parents {} "$tmp"
[ -d private_tests ] && cp -r private_tests "$tmp/"
cp classroom/gradescope/setup.sh classroom/gradescope/run_autograder "$tmp/"
(cd "$tmp" && zip -qr - .) > "$out"
echo "wrote $out"

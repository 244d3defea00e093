#!/usr/bin/env bash
# Gradescope autograder set-up. Zip this course folder (with classroom/gradescope/setup.sh and
# run_autograder at the top of the zip, as Gradescope wants: `bash classroom/gradescope/make_zip.sh`)
# and upload it as the autograder. Runs once when Gradescope builds the image.
set -euo pipefail
cd /autograder/source
apt-get update -y
apt-get install -y --no-install-recommends python3.11 python3.11-venv python3.11-dev git
python3.11 -m venv /autograder/venv
# The CPU wheel of torch: Gradescope graders have no GPU.
PYTHON=/autograder/venv/bin/python VERLINGS_TORCH_INDEX=https://download.pytorch.org/whl/cpu bash install.sh

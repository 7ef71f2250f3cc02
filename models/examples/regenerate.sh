#!/usr/bin/env bash
# Rebuilds the example state: every point of the bundled NYC taxi CSV through
# the default config, saved into models/examples/nyc_taxi/replay.vgstate.
# usage: models/examples/regenerate.sh [VIGIL]   (default: build/vigil)
set -euo pipefail
cd "$(dirname "$0")/../.."
"${1:-build/vigil}" replay -q examples/data/nyc_taxi.csv --scores /dev/null --save-state models/examples/nyc_taxi

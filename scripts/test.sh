#!/usr/bin/env bash
# Runs every test in release mode (numeric Swift code is ~30x slower in debug builds; the tests
# that touch real models need release). Sets up the machine first: Debian packages via
# scripts/bootstrap.sh, then the default models with the tool this script builds (one build,
# not two). Extra arguments go to `swift test`, e.g.  scripts/test.sh --filter ReferenceTests;
# without them scripts/mpi-test.sh runs last (mpirun with 2 ranks against one process).
set -euo pipefail
cd "$(dirname "$0")/.."
# Chromium renders the experiment report in ExperimentTests (about a minute to install on a fresh machine).
scripts/bootstrap.sh --no-models --browser
# -enable-testing lets tests use @testable imports in a release build.
flags=(-c release -Xswiftc -enable-testing)
swift build "${flags[@]}" --build-tests
.build/release/langneuron models fetch
LANGNEURON_REQUIRE_BROWSER=1 swift test "${flags[@]}" --skip-build "$@"
# The whole suite (no filter) also runs the 2-rank MPI comparisons (about 1.5 minutes).
if [ "$#" -eq 0 ]; then scripts/mpi-test.sh; fi

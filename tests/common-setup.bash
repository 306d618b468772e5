# Shared by every tests/*.bats: bats-support and bats-assert, the build first on PATH, fixtures.
_common_setup() {
	bats_require_minimum_version 1.5.0
	load '/usr/lib/bats/bats-support/load'
	load '/usr/lib/bats/bats-assert/load'
	TESTS_DIR="$(cd "$(dirname "$BATS_TEST_FILENAME")" && pwd)"
	DATA="$TESTS_DIR/data"
	PATH="${NDFLOW_BIN:-$TESTS_DIR/../build/bin}:$PATH"
	export LC_ALL=C
	T="$BATS_TEST_TMPDIR"
	export DATA T
}

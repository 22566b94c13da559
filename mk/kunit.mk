# KUnit in a real kernel: the project's suites inside the patched xe, in a
# KUnit test kernel under qemu (tests/kunit/run.sh). The test kernel is
# built once into $(TEST_CACHE)/kunit-kernel and reused.
#
# Not in `make check`: bench-kunit, the cost of the ioctl path in a test
# kernel without checkers (also part of `make bench`).

CHECKS += check-kunit
HELP_LINES += "make check-kunit              KUnit suites of the patched xe in a qemu test kernel"
HELP_LINES += "make bench-kunit              cost of the VM export ioctl path, KUnit bench case without checkers (in make bench)"

.PHONY: check-kunit bench-kunit

# A test kernel is built once per run (and kept in TEST_CACHE): no compiler
# cache for it, which would only add its cost (tests/lib.sh).
check-kunit:
	XE_TEST_CCACHE=0 tests/kunit/run.sh

bench-kunit:
	XE_TEST_CCACHE=0 tests/kunit/bench.sh

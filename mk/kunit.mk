# KUnit in a real kernel: the project's suites inside the patched xe, in a
# KUnit test kernel under qemu (tests/kunit/run.sh). The test kernel is
# built once into $(TEST_CACHE)/kunit-kernel and reused.

CHECKS += check-kunit
HELP_LINES += "make check-kunit              KUnit suites of the patched xe in a qemu test kernel"

.PHONY: check-kunit

check-kunit:
	tests/kunit/run.sh

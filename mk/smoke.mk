# Post-install smoke tests: the IGT-format xe_vm_export test, the
# xe-vm-export-verify command against an isolated root, and the autopkgtest
# (tests/smoke/run.sh). `make -C tests/smoke` builds the test binary alone.

CHECKS += check-smoke
HELP_LINES += "make check-smoke              IGT-format smoke test, verify command, autopkgtest"

.PHONY: check-smoke

check-smoke:
	tests/smoke/run.sh

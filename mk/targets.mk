# make check-targets (part of make check-full): every target make help
# lists runs at least once in make check or make check-full; the ones no
# other check runs (help, kmod-deb, kmod-rpm, bench, bench-kunit) run here
# (tests/targets/run.sh).

HEAVY_CHECKS += check-targets
HELP_LINES += "make check-targets            every make help target run once: kmod packages, bench (quick)"

.PHONY: check-targets

check-targets:
	tests/targets/run.sh

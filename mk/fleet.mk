# Fleets: signed apt and dnf repositories of dist/, and their tests. The
# recipes live in fleet/, the tests in tests/fleet/ (README: Fleets).

REPO ?= $(BUILD)/repo
REPO_KEY ?=

.PHONY: repo check-fleet

# make repo REPO_KEY=<gpg key>: every package in dist/, signed, in $(REPO).
repo:
	fleet/make-repo.sh $(DIST) $(REPO)

# Heavier than `make check` (it builds the module for two kernels): run on
# its own, and by CI (.ci/run) after make check on every run (README: Fleets).
check-fleet:
	tests/fleet/run.sh

HEAVY_CHECKS += check-fleet

HELP_LINES += "make repo REPO_KEY=<gpg key>  signed apt and dnf repositories of dist/ -> build/repo/"
HELP_LINES += "make check-fleet              kmod packages, signatures, signed repositories (heavier)"

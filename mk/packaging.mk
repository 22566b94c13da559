# Packaging: the deb and rpm of the DKMS tree, prebuilt module packages for
# fleets, and their tests. Included by the top-level Makefile; the recipes
# live in debian/pkgtools/ and rpm/, the tests in tests/packaging/.

RELEASE := $(call meta,Release)
DIST_TARBALL := $(DIST)/$(NAME)-$(VERSION).tar.gz
# kmod-deb/kmod-rpm: the module to package (default: `make module`'s) and
# its signing key and certificate (PEM key, DER or PEM certificate), or
# SIGN=none to package it unsigned (refused otherwise: Secure Boot hosts
# would keep the kernel's own xe).
KO ?=
SIGN_KEY ?=
SIGN_CERT ?=
KMOD_KO = $(or $(KO),$(BUILD)/$(KVER)/xe.ko)

.PHONY: deb rpm kmod-deb kmod-rpm check-packages check-packages-trixie

deb: $(DIST_TARBALL)
	debian/pkgtools/build-deb.sh $< $(DIST)

rpm: $(DIST_TARBALL)
	rpm/build-rpm.sh $< $(DIST)

kmod-deb kmod-rpm: kmod-%:
	@test -n "$(KVER)" || { echo "make $@: pass KVER=<kernel release>" >&2; exit 2; }
	$(if $(KO),,$(MAKE) module KVER=$(KVER))
	$(if $(filter deb,$*),debian/pkgtools/build-kmod-deb.sh,rpm/build-kmod-rpm.sh) \
		"$(KVER)" "$(KMOD_KO)" $(DIST) $(SIGN_KEY) $(SIGN_CERT)

# The suites whose isolated roots the lifecycle runs in (tests/packaging/root.sh).
PACKAGES_SUITES ?= bookworm trixie

check-packages:
	PACKAGES_SUITES="$(PACKAGES_SUITES)" tests/packaging/run.sh

# `make check` runs the lifecycle in the Debian 12 root (dkms 3.0.10, whose
# autoinstall is where a skipped kernel used to break apt); the Debian 13
# root (dkms 3.2.2, backports 7.x) is part of `make check-full`, for time.
check: PACKAGES_SUITES = bookworm

check-packages-trixie:
	tests/packaging/run.sh lifecycle:trixie

CHECKS += check-packages
HEAVY_CHECKS += check-packages-trixie
HELP_LINES += "make deb                      Debian packages: DKMS, headers, smoke tests, in dist/"
HELP_LINES += "make rpm                      rpm packages: DKMS, headers, smoke tests, SRPM, in dist/"
HELP_LINES += "make kmod-deb KVER=kernel     prebuilt module package for one kernel, in dist/"
HELP_LINES += "make kmod-rpm KVER=kernel     the same as an rpm. KO=xe.ko, SIGN_KEY=, SIGN_CERT= (or SIGN=none)"
HELP_LINES += "make check-packages           build, lint, install, upgrade, remove in Debian 12 and 13 roots (PACKAGES_SUITES=)"
HELP_LINES += "make check-packages-trixie    the lifecycle in the Debian 13 root alone (part of check-full)"

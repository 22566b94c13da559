#!/bin/bash
# make-dist.sh OUTPUT - the DKMS source tarball: dkms.conf and META at the
# top of xe-vm-export-<version>/, with the contents of src/ beside them, and
# the smoke test's sources under tests/smoke/ (the packages build its binary;
# they keep tests/ out of the DKMS tree). Only files tracked by git go in, so
# nothing generated can slip in. COPYING (the licence) goes in at the top.
set -euo pipefail

out=$1
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
meta() { sed -n "s/^$1:[[:space:]]*//p" META; }
name=$(meta Name)
version=$(meta Version)
regex="^($(meta Series | sed 's/\./\\\\./g; s/ /|/g'))\\\\."
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dir=$stage/$name-$version
mkdir -p "$dir"
git ls-files -z src | sed -z 's|^src/||' | (cd src && xargs -0 cp --parents -t "$dir")
git ls-files -z tests/smoke/Makefile 'tests/smoke/*.[ch]' | xargs -0 cp --parents -t "$dir"
cp META COPYING "$dir/"
sed -e "s/@VERSION@/$version/" -e "s/@SERIES_REGEX@/$regex/" dkms.conf >"$dir/dkms.conf"
# The sample auxiliary driver's own DKMS module builds against this version.
sed -i "s/@VERSION@/$version/" "$dir/samples/xe_vm_export_aux/dkms.conf"
mkdir -p "$(dirname "$out")"
# Reproducible: fixed owner, order and times.
tar -C "$stage" --owner=0 --group=0 --numeric-owner --sort=name \
	--mtime="@$(git log -1 --format=%ct 2>/dev/null || echo 0)" \
	-czf "$out" "$name-$version"
echo "$out"

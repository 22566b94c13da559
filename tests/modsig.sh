#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# modsig.sh - check a kernel module's appended signature against a
# certificate, the way the kernel does: the PKCS#7 (CMS) signature after the
# module's bytes must verify over exactly those bytes with the certificate's
# key. A module that is unsigned, signed by another key, or whose bytes or
# signature were altered fails, with the reason on stderr.
#
#   modsig.sh verify MODULE CERT     exit 0 verified, 1 not
#   modsig.sh strip MODULE OUT       the module without its signature
#   modsig.sh sign MODULE KEY CERT OUT   append a signature as the kernel's
#                                    sign-file does (sha256, no certificates,
#                                    no attributes), for tests
#
# MODULE may be .ko, .ko.xz, .ko.zst or .ko.gz (the signature is over the
# uncompressed module). CERT is PEM or DER (DKMS's /var/lib/dkms/mok.pub is
# DER). The trailer layout is the kernel's struct module_signature
# (include/linux/module_signature.h): algo, hash, id_type (2: PKCS#7),
# signer_len, key_id_len, 3 pad bytes, sig_len (big-endian 32 bits), then the
# magic string "~Module signature appended~\n".
#
# Needs: openssl, coreutils, od; xz, zstd or gzip for compressed modules.
# Used by tests/smoke/run.sh; tests/packaging can call it on the DKMS-built
# module of its root with the root's MOK certificate.

set -euo pipefail

readonly MAGIC='~Module signature appended~'
readonly MAGIC_LEN=28 INFO_LEN=12 PKEY_ID_PKCS7=2

die() {
	printf 'modsig: %s\n' "$*" >&2
	exit 1
}

# uncompressed MODULE OUT - the module's uncompressed bytes into OUT.
uncompressed() {
	case "$1" in
	*.xz) xz -dc "$1" >"$2" ;;
	*.zst) zstd -qdc "$1" >"$2" ;;
	*.gz) gzip -dc "$1" >"$2" ;;
	*) cat "$1" >"$2" ;;
	esac
}

# be32 FILE OFFSET - the big-endian 32-bit number at OFFSET of FILE.
be32() {
	od -An -tu1 -j "$2" -N 4 "$1" | awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }'
}

# byte FILE OFFSET - the unsigned byte at OFFSET of FILE.
byte() {
	od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' '
}

# split_sig KO DIR NAME - DIR/content (the signed bytes) and DIR/sig.p7s
# (DER) of KO; NAME is the module's name in messages.
split_sig() {
	local ko=$1 dir=$2 name=$3 size info sig_len id_type

	size=$(stat -c %s "$ko")
	[ "$size" -gt $((MAGIC_LEN + INFO_LEN)) ] || die "$name: too small to carry a signature"
	[ "$(tail -c "$MAGIC_LEN" "$ko" | head -c $((MAGIC_LEN - 1)) | tr -d '\0')" = "$MAGIC" ] ||
		die "$name: not signed (no \"$MAGIC\" trailer)"
	info=$((size - MAGIC_LEN - INFO_LEN))
	id_type=$(byte "$ko" $((info + 2)))
	[ "$id_type" -eq "$PKEY_ID_PKCS7" ] ||
		die "$name: signature id_type $id_type, not PKCS#7 ($PKEY_ID_PKCS7)"
	sig_len=$(be32 "$ko" $((info + 8)))
	if [ "$sig_len" -eq 0 ] || [ "$sig_len" -ge "$info" ]; then
		die "$name: signature length $sig_len does not fit the module"
	fi
	head -c $((info - sig_len)) "$ko" >"$dir/content"
	tail -c $((size - info + sig_len)) "$ko" | head -c "$sig_len" >"$dir/sig.p7s"
}

# pem_cert CERT OUT - CERT (PEM or DER) as PEM.
pem_cert() {
	openssl x509 -in "$1" -out "$2" 2>/dev/null ||
		openssl x509 -inform DER -in "$1" -out "$2" 2>/dev/null ||
		die "$1: not an X.509 certificate (PEM or DER)"
}

cmd_verify() {
	local module=$1 cert=$2 tmp

	[ -f "$module" ] || die "$module: no such module"
	[ -f "$cert" ] || die "$cert: no such certificate"
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now: tmp is local
	trap "rm -rf '$tmp'" EXIT
	uncompressed "$module" "$tmp/module.ko"
	split_sig "$tmp/module.ko" "$tmp" "$module"
	pem_cert "$cert" "$tmp/cert.pem"
	# The certificate is both the signer's and the trust anchor (a MOK is
	# self-signed); the purpose is the kernel's business, not X.509's.
	if ! openssl cms -verify -binary -inform DER -in "$tmp/sig.p7s" \
		-content "$tmp/content" -certfile "$tmp/cert.pem" -CAfile "$tmp/cert.pem" \
		-purpose any -out /dev/null 2>"$tmp/err"; then
		die "$module: signature does not verify against $cert: $(grep -m1 -iE 'error|fail' "$tmp/err" || head -n1 "$tmp/err")"
	fi
	printf 'modsig: %s: signature verified against %s (%s)\n' "$module" "$cert" \
		"$(openssl x509 -in "$tmp/cert.pem" -noout -subject)"
}

# be32_bytes N - N as 4 big-endian bytes.
be32_bytes() {
	local shift

	for shift in 24 16 8 0; do
		# shellcheck disable=SC2059 # the format is the octal escape
		printf "\\$(printf %03o $(($1 >> shift & 255)))"
	done
}

cmd_sign() {
	local module=$1 key=$2 cert=$3 out=$4 tmp sig_len

	tmp=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now: tmp is local
	trap "rm -rf '$tmp'" EXIT
	pem_cert "$cert" "$tmp/cert.pem"
	openssl cms -sign -binary -noattr -nocerts -nosmimecap -md sha256 -outform DER \
		-in "$module" -signer "$tmp/cert.pem" -inkey "$key" -out "$tmp/sig.p7s"
	sig_len=$(stat -c %s "$tmp/sig.p7s")
	{
		cat "$module" "$tmp/sig.p7s"
		# algo, hash, id_type=PKCS#7, signer_len, key_id_len, pad[3]
		printf '\0\0\002\0\0\0\0\0'
		be32_bytes "$sig_len"
		printf '%s\n' "$MAGIC"
	} >"$out"
}

cmd_strip() {
	local tmp

	tmp=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now: tmp is local
	trap "rm -rf '$tmp'" EXIT
	uncompressed "$1" "$tmp/module.ko"
	split_sig "$tmp/module.ko" "$tmp" "$1"
	cp "$tmp/content" "$2"
}

main() {
	case "${1:-}" in
	verify) [ $# -eq 3 ] || die "usage: modsig.sh verify MODULE CERT"; cmd_verify "$2" "$3" ;;
	strip) [ $# -eq 3 ] || die "usage: modsig.sh strip MODULE OUT"; cmd_strip "$2" "$3" ;;
	sign) [ $# -eq 5 ] || die "usage: modsig.sh sign MODULE KEY CERT OUT"; cmd_sign "$2" "$3" "$4" "$5" ;;
	*) die "usage: modsig.sh verify MODULE CERT | strip MODULE OUT | sign MODULE KEY CERT OUT" ;;
	esac
}

main "$@"

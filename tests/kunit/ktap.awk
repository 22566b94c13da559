# ktap.awk - the KUnit results in a kernel console log, as records.
#
# KUnit (6.12, kunit.stats_enabled=2) prints each suite as
#       KTAP version 1
#       # Subtest: SUITE
#       1..N
#       ok 1 CASE              (or "not ok", "ok 1 CASE # SKIP why")
#           ok 1 PARAM         (one line per parameter of a param case)
#       # CASE: pass:P fail:F skip:S total:T   (param cases only)
#   # SUITE: pass:P fail:F skip:S total:T      (cases)
#   # Totals: pass:P fail:F skip:S total:T     (parameters expanded)
#   ok 1 SUITE
# behind the console's "[ seconds]" stamps. Output, tab-separated:
#   start   SUITE                          a suite began
#   cases   SUITE PASS FAIL SKIP TOTAL     its cases
#   totals  SUITE PASS FAIL SKIP TOTAL     the same, parameters expanded
#   notok   SUITE CASE                     a failed case

function counts(line,    n, f) {
	n = split(line, f, /[: ]+/)
	return f[n - 6] "\t" f[n - 4] "\t" f[n - 2] "\t" f[n]
}

{
	sub(/\r$/, "")
	sub(/^\[[ 0-9.]+\] /, "")
}

/^    # Subtest: / {
	suite = substr($0, 16)
	print "start\t" suite
	next
}

/^# [^ ]+: pass:[0-9]+ fail:[0-9]+ skip:[0-9]+ total:[0-9]+$/ {
	name = substr($2, 1, length($2) - 1)
	if (name == "Totals")
		print "totals\t" suite "\t" counts($0)
	else
		print "cases\t" name "\t" counts($0)
	next
}

/^    not ok [0-9]+ / {
	c = $0
	sub(/^    not ok [0-9]+ /, "", c)
	print "notok\t" suite "\t" c
}

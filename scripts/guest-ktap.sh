# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# scripts/guest-ktap.sh - sourced by the guest's test scripts (guest-lifecycle,
# guest-reliability): write one KTAP document of shell-driven tests to the kernel log,
# bracketed for scripts/vm-run, which parses it with the KUnit suites.
#
# The sourcing script sets step_timeout; ktap_begin SUITE N, then one result per test,
# then ktap_end.

n=0
failed=0
suite=

kmsg() { echo "$*" >/dev/kmsg; }
# count PATTERN: lines of the kernel log matching PATTERN (extended regex).
count() { dmesg | grep -Ec "$1" || true; }
# run CMD...: CMD quietly, bounded by the step timeout.
run() { timeout "$step_timeout" "$@" >/dev/null 2>&1; }

# ktap_begin SUITE N: the document's header, for N tests.
ktap_begin() {
	suite=$1
	kmsg "rasync-ktap: begin $suite"
	kmsg "KTAP version 1"
	kmsg "1..1"
	kmsg "    KTAP version 1"
	kmsg "    # Subtest: $suite"
	kmsg "    1..$2"
}

# result NAME OK|FAIL [why]: one KTAP test line (a failure with its reason).
result() {
	n=$((n + 1))
	if [ "$2" = OK ]; then
		kmsg "    ok $n $1"
	else
		failed=1
		kmsg "    # $1: $3"
		echo "$suite: $1 FAILED: $3" >&2
		kmsg "    not ok $n $1"
	fi
}

# ktap_end: the suite's own result line.
ktap_end() {
	if [ "$failed" -eq 0 ]; then kmsg "ok 1 $suite"; else kmsg "not ok 1 $suite"; fi
	kmsg "rasync-ktap: end"
}

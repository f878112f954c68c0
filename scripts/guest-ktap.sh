# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# scripts/guest-ktap.sh - sourced by the guest's test scripts (guest-lifecycle,
# guest-reliability): write one KTAP document of shell-driven tests to the kernel log,
# bracketed for scripts/vm-run, which parses it with the KUnit suites.
#
# The sourcing script sets step_timeout (and name, the test under way); ktap_begin SUITE
# N, then one result per test, then ktap_end. Every insmod and rmmod is bounded by
# MODULE_TIMEOUT (50 s, set by scripts/guest): one that hangs ends the script at once,
# naming the module ("rasync-guest: FAILED: insmod rasync_lc_a.ko hung for 50 s").

n=0
failed=0
suite=
module_timeout=${MODULE_TIMEOUT:-50}

kmsg() { echo "$*" >/dev/kmsg; }
# count PATTERN: lines of the kernel log matching PATTERN (extended regex).
count() { dmesg | grep -Ec "$1" || true; }
# run CMD...: CMD quietly, bounded by the step timeout; insmod and rmmod by
# MODULE_TIMEOUT (see bounded).
run() {
	case "$1" in
	insmod | rmmod) bounded "$module_timeout" "$@" ;;
	*) timeout "$step_timeout" "$@" >/dev/null 2>&1 ;;
	esac
}

# bounded SECONDS insmod|rmmod ARG...: run it quietly and return its status. If it is
# still running after SECONDS, the test under way fails, the KTAP document is closed and
# the script exits 1, leaving the command behind: a load or removal stuck in the kernel
# (D state) ignores even SIGKILL, and timeout(1) would wait for it forever. A watchdog
# signals this shell, whose wait returns at the signal.
bounded() {
	b_secs=$1
	shift
	b_hung=0
	trap 'b_hung=1' USR1
	"$@" >/dev/null 2>&1 &
	b_pid=$!
	(
		trap 'kill "$b_sleep" 2>/dev/null; exit 0' TERM
		sleep "$b_secs" &
		b_sleep=$!
		wait "$b_sleep"
		# Still running: not gone, and not a zombie that this shell has yet to reap.
		case "$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$b_pid/status" 2>/dev/null)" in
		'' | Z) ;;
		*) kill -USR1 $$ ;;
		esac
	) &
	b_dog=$!
	b_rc=0
	wait "$b_pid" || b_rc=$?
	kill "$b_dog" 2>/dev/null
	wait "$b_dog" 2>/dev/null
	trap - USR1
	[ "$b_hung" -eq 0 ] || hung "$1 $(basename "$2")" "$b_secs"
	return "$b_rc"
}

# hung WHAT SECONDS: WHAT (e.g. "rmmod rasync_lc_a") never returned: fail the test under
# way, close the KTAP document and end the script.
hung() {
	kmsg "rasync-guest: FAILED: $1 hung for $2 s"
	echo "rasync-guest: FAILED: $1 hung for $2 s" >&2
	if [ -n "$suite" ]; then
		result "${name:-module_load_or_removal}" FAIL "$1 hung for $2 s"
		ktap_end
	fi
	exit 1
}

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

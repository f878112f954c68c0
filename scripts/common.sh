# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/common.sh - sourced by rasync's scripts: tool paths that do not depend on how
# the calling shell was set up (CI runs with a bare environment).

# rustup's toolchain and `cargo install`ed tools (bindgen).
if [ -d "$HOME/.cargo/bin" ]; then
	case ":$PATH:" in
	*":$HOME/.cargo/bin:"*) ;;
	*) PATH="$HOME/.cargo/bin:$PATH" ;;
	esac
fi

RASYNC_CACHE=${RASYNC_CACHE:-$HOME/.cache/rasync}
# virtme-ng goes here when the system Python refuses pip installs (PEP 668).
RASYNC_VENV=$RASYNC_CACHE/venv
if [ -x "$RASYNC_VENV/bin/vng" ]; then
	PATH="$RASYNC_VENV/bin:$PATH"
fi
export PATH RASYNC_CACHE

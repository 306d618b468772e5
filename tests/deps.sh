#!/bin/sh
# Install the Debian packages ndflow needs to build and test, when any is missing.
# As root it runs apt-get; otherwise it prints the command and fails.
set -u
pkgs="gcc make libc6-dev pkg-config libjansson-dev zlib1g-dev libpcre2-dev tzdata openssh-server openssh-client bats bats-assert bats-support jq datamash mandoc parallel prometheus-alertmanager curl chromium fonts-dejavu-core"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
	echo "deps: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
		echo "deps: apt-get failed" >&2; exit 1; }
else
	echo "deps: missing packages:$missing" >&2
	echo "deps: run: sudo apt-get install -y$missing" >&2
	exit 1
fi

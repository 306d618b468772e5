#!/usr/bin/env bats
# The README's GNU parallel recipe, run as written across two "hosts": two sshd
# instances on 127.0.0.1 on free ports, each with its own PATH (its "install":
# an aggregate that notes each run, then runs the build's), reached through an
# ssh config file given in PARALLEL_SSH.  The merged result must equal one
# local run.  Keys, configs and logs live in a temporary directory; the sshd
# instances are stopped in teardown_file, also after a failure.

bats_require_minimum_version 1.5.0

# free_port prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_host N: sshd number N on a free port, its PATH starting with $S/binN.
start_host() {
	local n=$1 port
	port=$(free_port)
	mkdir -p "$S/bin$n"
	printf '#!/bin/sh\necho "$$" >>"%s/ran%s"\nexec "%s/aggregate" "$@"\n' "$S" "$n" "$NDFLOW_BIN" >"$S/bin$n/aggregate"
	chmod +x "$S/bin$n/aggregate"
	cat >"$S/sshd$n.conf" <<-EOF
		Port $port
		ListenAddress 127.0.0.1
		HostKey $S/host_key
		PidFile $S/sshd$n.pid
		AuthorizedKeysFile $S/authorized_keys
		StrictModes no
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		SetEnv PATH=$S/bin$n:/usr/local/bin:/usr/bin:/bin
	EOF
	cat >>"$S/ssh_config" <<-EOF
		Host host$n
		  HostName 127.0.0.1
		  Port $port
	EOF
	/usr/sbin/sshd -D -f "$S/sshd$n.conf" -E "$S/sshd$n.log" </dev/null >/dev/null 2>&1 3>&- &
	echo $! >"$S/pid$n"
}

setup_file() {
	[ -x /usr/sbin/sshd ] || skip "no /usr/sbin/sshd: install openssh-server (tests/deps.sh does)"
	export NDFLOW_BIN=${NDFLOW_BIN:-$(cd "$BATS_TEST_DIRNAME/../build/bin" && pwd)}
	S=$(mktemp -d)
	export S
	# sshd refuses to start as root without its privilege separation directory.
	[ "$(id -u)" -ne 0 ] || [ -d /run/sshd ] || { mkdir -p /run/sshd && chmod 755 /run/sshd; }
	ssh-keygen -q -t ed25519 -N '' -C ndflow-test-host -f "$S/host_key"
	ssh-keygen -q -t ed25519 -N '' -C ndflow-test-user -f "$S/id"
	cp "$S/id.pub" "$S/authorized_keys"
	cat >"$S/ssh_config" <<-EOF
		Host *
		  User $(id -un)
		  IdentityFile $S/id
		  IdentitiesOnly yes
		  StrictHostKeyChecking no
		  UserKnownHostsFile /dev/null
		  LogLevel ERROR
		  BatchMode yes
		  ConnectTimeout 10
	EOF
	start_host 1
	start_host 2
	local h i
	for h in 1 2; do
		for i in $(seq 100); do
			ssh -F "$S/ssh_config" "host$h" true 2>/dev/null && continue 2
			sleep 0.1
		done
		echo "sshd $h did not start:" >&2
		cat "$S/sshd$h.log" >&2
		return 1
	done
}

teardown_file() {
	local h
	[ -n "${S:-}" ] || return 0
	for h in 1 2; do
		[ -s "$S/pid$h" ] && kill "$(cat "$S/pid$h")" 2>/dev/null
	done
	rm -rf "$S"
}

setup() { load common-setup; _common_setup; }

# recipe prints the README's command that follows the line naming this file.
recipe() {
	awk '/tests\/parallel-ssh.bats runs the next command/ { on = 1; next }
	     on && /^$/ { exit }
	     on { sub(/^    /, ""); print }' "$TESTS_DIR/../README.md"
}

@test "the README's recipe: aggregate --partial on two ssh hosts, aggregate --merge here, equals one local run" {
	cmd=$(recipe)
	[[ $cmd == parallel* ]] || fail "no recipe found in README.md: '$cmd'"
	"$NDFLOW_BIN/../gen" 20000 21 >"$T/events.ndjson"
	rm -f "$S/ran1" "$S/ran2"
	cd "$T"
	run -0 --separate-stderr env PARALLEL_SSH="ssh -F $S/ssh_config" sh -c "$cmd"
	distributed=$output
	assert_equal "$stderr" ""
	# Both hosts ran mappers: each aggregate on a host's PATH noted its runs.
	[ -s "$S/ran1" ] || fail "host1 ran no aggregate"
	[ -s "$S/ran2" ] || fail "host2 ran no aggregate"
	# One local run of the same aggregates gives the same bytes, groups in the same order.
	run -0 aggregate -i events.ndjson -g page count sum:value p50:value
	assert_equal "$distributed" "$output"
	# And the counts are the input's, as jq counts them.
	assert_equal "$(jq -r '[.page, .count] | @tsv' <<<"$distributed")" \
	    "$(jq -r .page events.ndjson | awk '!n[$0]++ { order[++k] = $0 } END { for (i = 1; i <= k; i++) printf "%s\t%d\n", order[i], n[order[i]] }')"
}

#!/usr/bin/env bats
# Promises every tool keeps: a man page that lints clean and documents every option --help shows,
# and a working make install.

setup() {
	load common-setup
	_common_setup
	ROOT="$TESTS_DIR/.."
}

tools() { for c in "$ROOT"/cmd/*.c; do basename "$c" .c; done; }

@test "every tool has a man page, and every man page lints clean" {
	command -v mandoc >/dev/null || skip "mandoc is not installed"
	for t in $(tools); do
		[ -f "$ROOT/man/man1/$t.1" ] || { echo "no man page for $t"; false; }
	done
	for m in "$ROOT"/man/man1/*.1 "$ROOT"/man/man7/*.7; do
		run mandoc -Tlint -Wwarning "$m"
		[ -z "$output" ] || { echo "$output"; false; }
	done
}

@test "every long option in a tool's --help is documented in its man page" {
	for t in $(tools); do
		for o in $("$t" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
			grep -q -- "Fl \\\\-${o#--}\\b" "$ROOT/man/man1/$t.1" ||
			    { echo "$t: $o is in --help but not in $t.1"; false; }
		done
	done
}

@test "every tool's --help starts with its usage line, which the man page's name matches" {
	for t in $(tools); do
		run -0 "$t" --help
		[[ "${lines[0]}" == "Usage: $t "* ]] || { echo "$t: ${lines[0]}"; false; }
		grep -q "^\.Nm $t\$" "$ROOT/man/man1/$t.1"
	done
}

@test "make install puts the binaries and man pages under DESTDIR and PREFIX" {
	run make -s -C "$ROOT" install DESTDIR="$T/root" PREFIX=/opt/nd
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	for t in $(tools); do
		[ -x "$T/root/opt/nd/bin/$t" ]
		[ -f "$T/root/opt/nd/share/man/man1/$t.1" ]
	done
	[ -f "$T/root/opt/nd/share/man/man7/ndflow.7" ]
	run -0 "$T/root/opt/nd/bin/ingest" --version
}

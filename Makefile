# ndflow — build, test, install, demo, bench, fuzz, sanitizers.
# Every lib/*.c goes into lib/libndflow.a, every cmd/X.c becomes bin/X,
# every tests/lib/test_*.c becomes a unit-test binary: adding a file needs
# no change here.

PREFIX	?= /usr/local
DESTDIR	?=
BINDIR	 = $(PREFIX)/bin
MANDIR	 = $(PREFIX)/share/man

CC	?= cc
OPT	?= -O2 -g
WARN	 = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wno-unused-parameter
ifeq ($(CI),true)
WARN	+= -Werror
endif
CPPFLAGS += -D_GNU_SOURCE -Ilib
CFLAGS	?=
CFLAGS	+= -std=c11 $(OPT) $(WARN) $(SAN)
LDLIBS	 = -ljansson -lpcre2-8 -lz -lm

# B is the build directory: build/ normally, build/san for sanitizers.
B	?= build
LIBSRC	 = $(wildcard lib/*.c)
LIBOBJ	 = $(patsubst lib/%.c,$(B)/lib/%.o,$(LIBSRC))
LIBA	 = $(B)/libndflow.a
CMDSRC	 = $(wildcard cmd/*.c)
TOOLS	 = $(patsubst cmd/%.c,%,$(CMDSRC))
BINS	 = $(patsubst %,$(B)/bin/%,$(TOOLS))
UNITSRC	 = $(wildcard tests/lib/test_*.c)
UNITS	 = $(patsubst tests/lib/%.c,$(B)/tests/%,$(UNITSRC))
HDRS	 = $(wildcard lib/*.h) $(wildcard tests/lib/*.h)

.PHONY: all deps test unit sanitize demo bench fuzz install uninstall lint clean
all: $(BINS) $(UNITS) $(B)/gen $(B)/tests/killrename.so bin

# bin/ holds the normal build's binaries, for people and for the tests.
bin: $(BINS)
	@if [ "$(B)" = build ]; then mkdir -p bin && for t in $(TOOLS); do ln -sf ../build/bin/$$t bin/$$t; done; fi

$(B)/lib/%.o: lib/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBA): $(LIBOBJ)
	@rm -f $@
	ar rcs $@ $^
	@mkdir -p lib && if [ "$(B)" = build ]; then ln -sf ../build/libndflow.a lib/libndflow.a; fi

$(B)/bin/%: cmd/%.c $(LIBA) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

$(B)/tests/%: tests/lib/%.c $(LIBA) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

# The fault-injection shim of tests/crash.bats (LD_PRELOAD; never sanitized,
# so that it loads into either build).
$(B)/tests/killrename.so: tests/shim/killrename.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -Wall -Wextra $(if $(filter true,$(CI)),-Werror) -shared -fPIC -o $@ $< -ldl

# The seeded event generator for the demo data, tests and benchmarks.
$(B)/gen: tests/bench/gen.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $<

deps:
	@sh tests/deps.sh

# The README's test command: unit tests and bats suites, one summary line.
test: deps all
	@NDFLOW_BUILD=$(B) sh tests/run.sh

sanitize: deps
	$(MAKE) B=build/san OPT='-O1 -g -fno-omit-frame-pointer' \
	    SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    NDFLOW_BUILD=build/san sh tests/run.sh

demo: deps all
	@sh tests/demo.sh

bench: deps all
	@sh tests/bench/run.sh

fuzz:
	@sh tests/fuzz/run.sh

lint:
	@for m in man/man*/*.[0-9]; do mandoc -Tlint -Wwarning $$m; done

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	for t in $(TOOLS); do install -m 755 build/bin/$$t $(DESTDIR)$(BINDIR)/$$t; done
	for m in man/man1/*.1; do install -m 644 $$m $(DESTDIR)$(MANDIR)/man1/; done
	for m in man/man7/*.7; do install -m 644 $$m $(DESTDIR)$(MANDIR)/man7/; done

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$t; done
	for m in man/man1/*.1; do rm -f $(DESTDIR)$(MANDIR)/man1/$$(basename $$m); done
	rm -f $(DESTDIR)$(MANDIR)/man7/ndflow.7

clean:
	rm -rf build bin lib/libndflow.a

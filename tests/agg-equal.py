#!/usr/bin/env python3
# The oracle of tests/agg-equal.bats: groups and distinct values by JSON
# equality, worked out from json.loads, independently of ndflow.
# Reads lines {"k":K,"v":V} and prints, per group in order of first
# appearance, the group's first spelling, its count and the number of
# distinct v (null skipped); with "mode" also the most frequent v's first spelling (the
# inputs have no ties).  Spellings are the raw texts, found by the tests'
# fixed layout: {"k":RAW,"v":RAW}.
import json
import sys


def canon(x):
    if isinstance(x, bool) or x is None:
        return ("lit", x)
    if isinstance(x, int):
        return ("num", x)
    if isinstance(x, float):
        if x.is_integer() and abs(x) < 9.2e18:
            return ("num", int(x))
        return ("num", x)
    if isinstance(x, str):
        return ("str", x)
    if isinstance(x, list):
        return ("arr", tuple(canon(e) for e in x))
    return ("obj", tuple(sorted((k, canon(v)) for k, v in x.items())))


def raw_parts(line):
    # {"k":RAW,"v":RAW}: RAW of k ends where json.JSONDecoder stops.
    dec = json.JSONDecoder()
    assert line.startswith('{"k":')
    _, end = dec.raw_decode(line, 5)
    kraw = line[5:end]
    assert line[end:end + 5] == ',"v":'
    _, vend = dec.raw_decode(line, end + 5)
    return kraw, line[end + 5:vend]


def main():
    mode = len(sys.argv) > 1 and sys.argv[1] == "mode"
    groups = {}
    for line in sys.stdin:
        line = line.rstrip("\n")
        rec = json.loads(line)
        kraw, vraw = raw_parts(line)
        g = groups.setdefault(canon(rec["k"]), {"raw": kraw, "n": 0, "vals": {}})
        g["n"] += 1
        if rec["v"] is None:
            continue    # null is skipped, as SQL skips NULL
        e = g["vals"].setdefault(canon(rec["v"]), [vraw, 0])
        e[1] += 1
    for g in groups.values():
        out = '{"k":%s,"count":%d,"v_distinct":%d' % (g["raw"], g["n"], len(g["vals"]))
        if mode:
            out += ',"v_mode":%s' % max(g["vals"].values(), key=lambda e: e[1])[0]
        print(out + "}")


main()

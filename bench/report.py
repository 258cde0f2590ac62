#!/usr/bin/env python3
"""Write docs/benchmarks.md from the raw output of bench/run.sh (stdlib only).

    bench/report.py OUT_DIR DOC_PATH

OUT_DIR holds meta.tsv, results.tsv and rss.tsv. The page is regenerated
wholesale; only the text between the notes markers of an existing page is
carried over, so analysis written by hand survives a rerun.
"""
import os
import statistics
import sys

from report_lib import mib as mib_bytes, notes_section, num, page_header, read_meta, read_tsv, write_page

DEFAULT_NOTES = (
    "_Write analysis here (profiles, known bottlenecks, what changed since the "
    "last run). Text between the notes markers survives `bench/run.sh`._"
)
# Issue 2, item 8: Basalt >= 0.8x Redis at pipeline 1, >= 0.5x at pipeline 16.
TARGETS = {1: 0.8, 16: 0.5}
# Issue 4: scripting, transactions and pub/sub rows, >= 0.7x at any pipeline.
ROW_TARGETS = {"EVALSHA": 0.7, "MULTI/EXEC": 0.7, "PUBLISH": 0.7}


def target_for(pipeline, label):
    for prefix, target in ROW_TARGETS.items():
        if label.startswith(prefix):
            return target
    return TARGETS.get(pipeline, 0.5)


def ops(v):
    return "error" if v is None else f"{v:,.0f}"


def ms(v):
    if v is None:
        return "?"
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def mib(kib):
    v = num(kib)
    return mib_bytes(None if v is None else v * 1024, 1)


def main():
    out_dir, doc_path = sys.argv[1], sys.argv[2]
    meta = read_meta(os.path.join(out_dir, "meta.tsv"))
    results = read_tsv(os.path.join(out_dir, "results.tsv"))
    rss = {row["server"]: row for row in read_tsv(os.path.join(out_dir, "rss.tsv"))}
    rounds = int(meta["rounds"])

    # (pipeline, test) rows in the order they ran; per server the values of
    # every successful round.
    order, labels, runs, errors = [], {}, {}, {}
    for row in results:
        key = (int(row["pipeline"]), row["test"])
        if key not in labels:
            order.append(key)
        if row["label"]:
            labels[key] = row["label"]
        cell = runs.setdefault((key, row["server"]), [])
        if row["status"] == "ok":
            cell.append((float(row["rps"]), num(row["p50"]), num(row["p99"]), int(row["round"])))
        else:
            errors.setdefault((key, row["server"]), []).append(f"round {row['round']}: {row['status']}")
    first_seen = {k: i for i, k in enumerate(order)}
    order.sort(key=lambda k: (k[0], first_seen[k]))

    def med(key, server, i):
        vals = [r[i] for r in runs.get((key, server), []) if r[i] is not None]
        return statistics.median(vals) if vals else None

    lines = []
    w = lines.append
    page_header(w, "Benchmarks", "bench/run.sh")
    if meta.get("quick"):
        w("> **Quick mode** (`BENCH_QUICK=1`): few requests per test, a smoke run of")
        w("> the script, not a measurement. Run `bench/run.sh` for real numbers.")
        w("")
    if meta.get("basalt_other"):
        w(f"> **The Basalt column is not Basalt**: it ran `{meta['basalt_other']}` (a test of the script).")
        w("")
    if meta.get("busy"):
        w(f"> **Other work was running** when this run started ({meta['busy']}; load average")
        w(f"> {meta.get('loadavg', '?')}): it shares the CPUs and skews these numbers.")
        w("")
    w("Basalt against Debian's `redis-server`, side by side in one run on one")
    w("machine, both driven by `redis-benchmark`. Absolute numbers drift on this")
    w("shared machine; quote the ratios.")
    w("")
    w("## Setup")
    w("")
    w(f"- Date: {meta['date']}")
    w(f"- Machine: {meta['nproc']} CPUs ({meta['cpu']}), {meta['mem']}, {meta['kernel']};"
      f" load average {meta.get('loadavg', '?')} at the start")
    w(f"- Basalt: {meta['basalt']}, started with `{meta['basalt_args']}`")
    w(f"- Redis: {meta['redis_version']}, started with `redis-server {meta['redis_args']}`")
    w(f"- Client: {meta['benchmark_version']}")
    w(f"- Command: `{meta['command']}`")
    w("")
    w("## Method")
    w("")
    sc, cc = meta["server_cpu"], meta["client_cpu"]
    w(f"- Both servers are pinned to CPU {sc} (`taskset -c {sc}`), every client")
    w(f"  (`redis-benchmark`, `redis-cli`) to CPU {cc}; all traffic is on 127.0.0.1.")
    w("- One server runs at a time: the other one's process group is frozen with")
    w("  SIGSTOP and resumed with SIGCONT for its own turn, so RocksDB's flushes and")
    w("  compactions (or Redis's fsync thread and AOF rewrite) never run during the")
    w("  other server's measurement. Both stay up, loaded and warm for the whole run.")
    w(f"- Each server is first loaded with {int(meta['load_keys']):,} keys")
    w(f"  (`key:000000000000` ..., {meta['data_size']}-byte values, `redis-cli --pipe`),")
    w("  the names `redis-benchmark -r` uses, so GET reads existing keys. Memory is")
    w("  read right after loading (`VmRSS` in `/proc/<pid>/status`).")
    w(f"- Each test: `redis-benchmark -c {meta['clients']} -d {meta['data_size']} "
      f"-r {meta['keyspace']} -n N -P <pipeline> -t <test> --csv`, with")
    w(f"  N = {int(meta['req_p1']):,} at pipeline 1 and {int(meta['req_p16']):,} at pipeline 16,")
    w(f"  scaled per test by the weight in `{meta['tests']}` (MSET sets 10 keys per request).")
    w(f"- {rounds} round(s); within a round the servers alternate, and the order flips")
    w("  every round. The table gives the median over the rounds of each column")
    w("  (ops/s, p50, p99 separately).")
    w("- Ratio = Basalt ops/s ÷ Redis ops/s. Target (issue 2): ≥ 0.8 at pipeline 1,")
    w("  ≥ 0.5 at pipeline 16; issue 4's rows (EVALSHA, MULTI/EXEC, PUBLISH): ≥ 0.7.")
    w("- MULTI/EXEC and PUBLISH rows come from `bench/driver` (`basalt-bench`), as")
    w("  redis-benchmark cannot send a transaction or count deliveries: MULTI/EXEC")
    w("  = transactions/s of MULTI, SET, SET, GET, EXEC with -c clients, every reply")
    w("  checked; PUBLISH = messages delivered per second to 100 subscribers of one")
    w("  channel, from 4 publishers. Pipeline = transactions or publishes in flight")
    w("  per connection. These rows have no latency columns.")
    w("")
    w("## Throughput and latency")
    w("")
    w("| test | pipeline | Basalt ops/s | Redis ops/s | ratio | Basalt p50/p99 ms | Redis p50/p99 ms | target | meets? |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|:---:|")
    met = total = 0
    for key in order:
        p, test = key
        b_rps, r_rps = med(key, "basalt", 0), med(key, "redis", 0)
        target = target_for(p, labels.get(key, test))
        ratio = b_rps / r_rps if b_rps and r_rps else None
        ok = ratio is not None and ratio >= target
        total += 1
        met += ok
        note = "; ".join(
            f"{s}: {len(runs.get((key, s), []))}/{rounds} rounds ok"
            for s in ("basalt", "redis")
            if len(runs.get((key, s), [])) < rounds
        )
        note = f" ({note})" if note else ""
        w(
            f"| {labels.get(key, test)} | {p} | {ops(b_rps)} | {ops(r_rps)} | "
            f"{'—' if ratio is None else f'{ratio:.2f}'} | "
            f"{ms(med(key, 'basalt', 1))} / {ms(med(key, 'basalt', 2))} | "
            f"{ms(med(key, 'redis', 1))} / {ms(med(key, 'redis', 2))} | "
            f"≥ {target} | {'yes' if ok else '**no**'}{note} |"
        )
    w("")
    w(f"{met} of {total} rows meet the target.")
    w("")
    if errors:
        w("Failed runs (a row's medians use only its successful rounds):")
        w("")
        for (key, server), errs in sorted(errors.items()):
            for e in errs:
                w(f"- {server}, {labels.get(key, key[1])}, pipeline {key[0]}, {e}")
        w("")

    w(f"## Memory after loading {int(meta['load_keys']):,} keys")
    w("")
    w("| server | DBSIZE | RSS idle MiB | RSS after load MiB | peak RSS MiB | RSS after benchmark MiB | data dir MiB | load time s |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    for server, name in (("basalt", "Basalt"), ("redis", "Redis")):
        row = rss.get(server)
        if not row:
            continue
        w(
            f"| {name} | {row['dbsize']} | {mib(row['rss_idle_kib'])} | {mib(row['rss_loaded_kib'])} | "
            f"{mib(row['hwm_kib'])} | {mib(row['rss_end_kib'])} | {mib(row['data_kib'])} | {row['load_s']} |"
        )
    b, r = num(rss.get("basalt", {}).get("rss_loaded_kib")), num(rss.get("redis", {}).get("rss_loaded_kib"))
    w("")
    if b and r:
        w(f"Basalt/Redis RSS after load: {b / r:.2f}.")
    for server in ("basalt", "redis"):
        errs = rss.get(server, {}).get("load_errors")
        if errs not in (None, "0"):
            w(f"{server}: `redis-cli --pipe` reported {errs} errors while loading.")
    w("")

    w("## Raw rounds")
    w("")
    w("ops/s of each round, in round order, to show the spread behind the medians.")
    w("")
    w("| test | pipeline | Basalt | Redis |")
    w("|---|---:|---|---|")
    for key in order:
        cells = []
        for server in ("basalt", "redis"):
            vals = sorted(runs.get((key, server), []), key=lambda v: v[3])
            cells.append(", ".join(f"{v[0]:,.0f}" for v in vals) or "—")
        w(f"| {labels.get(key, key[1])} | {key[0]} | {cells[0]} | {cells[1]} |")
    w("")
    notes_section(lines, doc_path, DEFAULT_NOTES)
    write_page(doc_path, lines)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Write docs/large-dataset.md from the raw output of bench/large.sh (stdlib only).

    bench/large_report.py OUT_DIR DOC_PATH

OUT_DIR holds meta.tsv, load.tsv, zipf.tsv, disk.tsv, settle.tsv and
rss-samples.tsv. The page is regenerated wholesale; only the text between the
notes markers of an existing page is carried over.
"""
import sys

from report_lib import MiB, mib, notes_section, num, page_header, read_meta, read_tsv, write_page

DEFAULT_NOTES = (
    "_Write analysis here. Text between the notes markers survives "
    "`bench/large.sh`._"
)
# Issue 8, item 5.
GET_P99_MS = 2.0
DISK_RATIO = 1.2
# Column families this workload writes: strings and every hash's metadata go
# to "metadata", hash fields to "default". Basalt opens 7 (Kvrocks' layout).
WRITTEN_CFS = 2
ALL_CFS = 7
# The fixed part of the RSS bound beyond the idle process (see the page).
FIXED_SLACK_MIB = 64


def yes(ok):
    return "yes" if ok else "**no**"


def zipf_share(n, theta, k):
    """Share of requests that go to the k most popular of n keys."""
    if n <= 0:
        return 0.0
    k = max(0, min(k, n))
    if theta == 0:
        return k / n
    total = top = 0.0
    for i in range(1, n + 1):
        w = i ** -theta
        total += w
        if i <= k:
            top += w
    return top / total


def cpu_by_phase(samples):
    """{(server, phase): (server %, other work on the server's CPU %, client CPU busy %)}.

    Sums the deltas of consecutive samples of one server process within one
    phase; shares are of one CPU's time.
    """
    acc = {}
    for a, b in zip(samples, samples[1:]):
        if a["server"] != b["server"] or a["phase"] != b["phase"]:
            continue
        v = [
            (num(a.get(k)), num(b.get(k)))
            for k in (
                "server_ticks",
                "server_cpu_busy",
                "server_cpu_total",
                "client_cpu_busy",
                "client_cpu_total",
            )
        ]
        if any(x is None or y is None for x, y in v) or v[0][1] < v[0][0]:
            continue  # no data, or the server restarted in between
        d = [y - x for x, y in v]
        t = acc.setdefault((b["server"], b["phase"]), [0.0] * 5)
        for i in range(5):
            t[i] += d[i]
    shares = {}
    for key, (ticks, busy, total, cbusy, ctotal) in acc.items():
        if total > 0 and ctotal > 0:
            server = 100 * ticks / total
            shares[key] = (server, max(0.0, 100 * busy / total - server), 100 * cbusy / ctotal)
    return shares


def usec_per_call(path):
    """{command: usec_per_call} from a saved INFO commandstats."""
    calls = {}
    try:
        text = open(path).read()
    except FileNotFoundError:
        return calls
    for line in text.splitlines():
        name, _, rest = line.strip().partition(":")
        if not name.startswith("cmdstat_"):
            continue
        fields = dict(kv.split("=", 1) for kv in rest.split(",") if "=" in kv)
        if "usec_per_call" in fields:
            calls[name[len("cmdstat_") :]] = float(fields["usec_per_call"])
    return calls


def main(out, doc_path):
    meta = read_meta(f"{out}/meta.tsv")
    loads = read_tsv(f"{out}/load.tsv", missing_ok=True)
    zipf = read_tsv(f"{out}/zipf.tsv", missing_ok=True)
    disk = {r["stage"]: r for r in read_tsv(f"{out}/disk.tsv", missing_ok=True)}
    samples = read_tsv(f"{out}/rss-samples.tsv", missing_ok=True)

    raw = sum(int(r["raw_bytes"]) for r in loads if r["server"] == "basalt")
    cache_mb = int(num(meta.get("config_rocksdb.block_cache_size"), num(meta.get("cache_mb"), 0)))
    wbs = int(num(meta.get("config_rocksdb.write_buffer_size"), 64))
    wbn = int(num(meta.get("config_rocksdb.max_write_buffer_number"), 4))
    jobs = meta.get("config_rocksdb.max_background_jobs", "?")
    idle_kib = num(meta.get("rss_idle_kib"), 0)
    memtable_bound = WRITTEN_CFS * wbs * wbn * MiB
    memtable_all = ALL_CFS * wbs * wbn * MiB
    fixed = idle_kib * 1024 + FIXED_SLACK_MIB * MiB
    bound = cache_mb * MiB + memtable_bound + fixed
    bound_all = cache_mb * MiB + memtable_all + fixed
    value_size = int(num(meta.get("value_size"), 0))
    string_keys = int(num(meta.get("string_keys"), 0))
    hash_keys = int(num(meta.get("hash_keys"), 0))
    fields = int(num(meta.get("fields"), 0))
    theta = num(meta.get("theta"), 0.99)

    basalt = [s for s in samples if s["server"] == "basalt" and num(s["rss_kib"]) is not None]
    redis = [s for s in samples if s["server"] == "redis" and num(s["rss_kib"]) is not None]

    def rss_stats(rows):
        v = [num(r["rss_kib"]) * 1024 for r in rows]
        return (min(v), max(v), v[-1]) if v else (None, None, None)

    b_min, b_max, b_final = rss_stats(basalt)

    def rest_bytes(r):
        """RSS not explained by the block cache and the memtables."""
        parts = [num(r["rss_kib"]), num(r["block_cache_bytes"]), num(r["memtable_bytes"])]
        return None if None in parts else parts[0] * 1024 - parts[1] - parts[2]

    rests = [v for v in map(rest_bytes, basalt) if v is not None]
    rest_max = max(rests) if rests else None
    cpu = cpu_by_phase(samples)
    # VmHWM of the process before the restart and of the one after it.
    hwm_basalt = max(num(meta.get(k), 0) for k in ("hwm_kib_basalt_first", "hwm_kib_basalt")) * 1024
    zrow = {(r["server"], r["op"]): r for r in zipf}
    get = zrow.get(("basalt", "get"))
    get_p99 = num(get["p99_ms"]) if get else None
    final = disk.get("after_restart") or disk.get("after_load")
    du = num(final["du_bytes"]) if final else None
    archive = num(final["wal_archive_bytes"]) if final else None
    sst = num(final["sst_bytes"]) if final else None

    lines = []
    w = lines.append
    page_header(w, "Data far larger than memory", "bench/large.sh")
    w(
        "Basalt with a block cache many times smaller than its data: strings and "
        "hashes loaded far past the cache, then GET, HGET and SET on zipfian keys. "
        "Issue 8, item 5. Debian's `redis-server` holds the same data in RAM for the "
        "memory comparison."
    )
    w("")

    # --- targets -------------------------------------------------------------
    w("## Targets")
    w("")
    w("| target | measured | met? |")
    w("|---|---|:---:|")
    if b_max is not None:
        w(
            f"| Basalt RSS ≤ block cache + memtables + fixed = {mib(bound)} MiB "
            f"(see [the bound](#the-rss-bound)) | max {mib(b_max)} MiB over the whole run "
            f"(min {mib(b_min)}, final {mib(b_final)}) | {yes(b_max <= bound)} |"
        )
    if get_p99 is not None:
        w(
            f"| GET p99 < {GET_P99_MS:g} ms at {get['clients']} clients | "
            f"{get_p99:.3f} ms ({float(get['ops_per_sec']):,.0f} ops/s) | {yes(get_p99 < GET_P99_MS)} |"
        )
    if du is not None and raw:
        w(
            f"| on disk ≤ {DISK_RATIO}× raw data (compression on) | du {du / raw:.2f}× "
            f"({mib(du)} MiB for {mib(raw)} MiB raw) | {yes(du / raw <= DISK_RATIO)} |"
        )
        if archive:
            rest = du - archive
            w(
                f"| the same without the WAL archive (`rocksdb.wal_ttl_seconds 0`, "
                f"`rocksdb.wal_size_limit_mb 0`) | {rest / raw:.2f}× ({mib(rest)} MiB; "
                f"SST files alone {sst / raw:.2f}×) | {yes(rest / raw <= DISK_RATIO)} |"
            )
    w("")

    # --- setup ---------------------------------------------------------------
    w("## Setup")
    w("")
    w(f"- Date: {meta.get('date', '?')}")
    w(
        f"- Machine: {meta.get('nproc', '?')} CPUs ({meta.get('cpu', '?')}), {meta.get('mem', '?')}, "
        f"{meta.get('kernel', '?')}; disk {meta.get('disk', '?')}; load average "
        f"{meta.get('loadavg', '?')} at the start, {meta.get('loadavg_end', '?')} at the end"
    )
    if meta.get("busy") or meta.get("busy_end"):
        w(
            f"- **Other work was running** (skews the numbers): at the start "
            f"{meta.get('busy') or 'none'}, at the end {meta.get('busy_end') or 'none'}"
        )
    w(f"- Basalt: {meta.get('basalt', '?')}, started with `{meta.get('basalt_args', '?')}`")
    w(
        f"- Basalt's RocksDB settings (CONFIG GET): block cache {cache_mb} MB, "
        f"write_buffer_size {wbs} MB × max_write_buffer_number {wbn} per column family, "
        f"compression {meta.get('config_rocksdb.compression', '?')}, block size "
        f"{meta.get('config_rocksdb.block_size', '?')}, max_background_jobs {jobs}, "
        f"max_total_wal_size {meta.get('config_rocksdb.max_total_wal_size', '?')} MB, "
        f"wal_ttl_seconds {meta.get('config_rocksdb.wal_ttl_seconds', '?')}, "
        f"wal_size_limit_mb {meta.get('config_rocksdb.wal_size_limit_mb', '?')}, "
        f"workers {meta.get('config_workers', '?')}"
    )
    if meta.get("redis") == "1":
        w(
            f"- Redis: {meta.get('redis_version', '?')}, started with "
            f"`redis-server {meta.get('redis_args', '?')}`: **no persistence** (neither RDB nor "
            "AOF), so its RSS is the data in memory and nothing else"
        )
    else:
        w("- Redis: not run (the data would not fit in RAM, or LARGE_REDIS=0)")
    w(f"- Command: `{meta.get('command', 'bench/large.sh')}`")
    w("")
    w("Data set (the same for both servers, loaded by `basalt-bench load`):")
    w("")
    w("| kind | keys | layout | raw bytes |")
    w("|---|---:|---|---:|")
    for r in loads:
        if r["server"] != "basalt":
            continue
        if r["kind"] == "string":
            layout = f"`s:<12 digits>` → {value_size}-byte value"
        else:
            layout = f"`h:<12 digits>` → {fields} fields `field:000`… of {value_size} bytes"
        w(f"| {r['kind']} | {int(r['keys']):,} | {layout} | {int(r['raw_bytes']):,} |")
    w(
        f"| total | {sum(int(r['keys']) for r in loads if r['server'] == 'basalt'):,} | | "
        f"**{raw:,}** ({mib(raw)} MiB, {raw / (cache_mb * MiB):.0f}× the block cache) |"
    )
    w("")
    w(
        "Raw bytes are exactly the key, field and value bytes sent (a hash's key "
        "counted once), without any per-key overhead. Each value is half random "
        "bytes (a fresh stream per value: incompressible) and half repeated English "
        "text."
    )
    if "compress_zlib1" in meta:
        extra = f", lz4 -1 to {float(meta['compress_lz4']):.2f}" if "compress_lz4" in meta else ""
        w(
            f"Measured on 200 values read back, in 16 KiB chunks (RocksDB's block "
            f"size): zlib -1 compresses them to {float(meta['compress_zlib1']):.2f} of their "
            f"size{extra}; snappy (Basalt's default) is in lz4's range."
        )
    w("")

    # --- method --------------------------------------------------------------
    w("## Method")
    w("")
    w(
        f"- Server pinned to CPU {meta.get('server_cpu', '0')} (`taskset`; RocksDB's flush "
        f"and compaction threads with it), every client to CPU {meta.get('client_cpu', '1')}; "
        "loopback only. One server runs at a time: Basalt's whole run, then Redis's."
    )
    w(
        f"- Load: `basalt-bench load`, {meta.get('load_clients', '?')} connections, "
        f"pipeline {meta.get('load_pipeline', '?')}, keys in a scrambled order (not "
        "sorted, so RocksDB compacts as it would for real traffic); every reply checked."
    )
    w(
        "- Then Basalt is left until compaction settles (no pending compaction bytes "
        "in `INFO rocksdb` and the SST total unchanged for 10 s), restarted (a clean "
        "shutdown leaves the memtables in the WAL; reopening replays it and writes "
        "them to L0 SST files, so all data is in SST files), left to settle again, and "
        "the data directory measured: `du` (allocated bytes) and, by file type, SST "
        "files, live WAL, archived WAL (`db/archive`) and the rest (MANIFEST, LOG, OPTIONS)."
    )
    w(
        f"- Each operation: `basalt-bench zipf --op <op> --clients {meta.get('clients', '?')} "
        f"--theta {meta.get('theta', '?')} --duration {meta.get('duration', '?')} "
        f"--warmup {meta.get('warmup', '?')}`: every connection sends one request and waits "
        "for its reply (no pipelining), keys drawn from YCSB's zipfian generator "
        "scrambled over the key space (rank r → key (r · 2654435761 + 12345) mod N), HGET "
        "of a uniformly chosen field; every reply's size checked (a miss would count as "
        "an error). Latency is measured from the write of the request to the end of "
        "the reply, into a log-bucketed histogram (buckets ≤ 1/32 of their value "
        "wide; the bucket's upper edge is reported). The warm-up requests are not "
        "counted. Order: GET, HGET, then SET (SET overwrites existing keys with new "
        "values of the same size)."
    )
    w(
        "- RSS: `VmRSS` of the server from `/proc/<pid>/status`, sampled once a second "
        "for the whole run, with Basalt's `block_cache_usage` and `memtables_usage` "
        "from `INFO memory` at the same instant."
    )
    if string_keys and value_size:
        k = int(cache_mb * MiB // (value_size + 30))
        share = zipf_share(string_keys, theta, k)
        w(
            f"- How much the cache can hold: the {k:,} hottest strings (about what "
            f"{cache_mb} MB of {value_size}-byte values holds uncompressed) receive "
            f"{share * 100:.0f}% of the GETs at theta {theta:g} (a pure zipfian over "
            f"{string_keys:,} keys); the other {100 - share * 100:.0f}% read blocks the "
            "cache does not have."
        )
    w(
        "- **The OS page cache is not limited.** The machine has far more RAM than "
        "the data, so SST blocks that miss the block cache are read from the page "
        "cache, not the disk: the numbers measure the block-cache-miss path "
        "(pread + checksum + decompression + parse), not disk seeks."
    )
    w("")

    # --- throughput ----------------------------------------------------------
    w("## Throughput and latency")
    w("")
    w(
        "| operation | server | ops/s | p50 ms | p99 ms | p999 ms | max ms | requests | errors "
        "| server CPU % | other work on its CPU % | client CPU busy % |"
    )
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for op in ["get", "hget", "set"]:
        for server in ["basalt", "redis"]:
            r = zrow.get((server, op))
            if not r:
                continue
            c = cpu.get((server, op))
            c = " | ".join(f"{x:.0f}" for x in c) if c else "? | ? | ?"
            w(
                f"| {op.upper()} | {server.capitalize()} | {float(r['ops_per_sec']):,.0f} | "
                f"{r['p50_ms']} | {r['p99_ms']} | {r['p999_ms']} | {r['max_ms']} | "
                f"{int(r['requests']):,} | {r['errors']} | {c} |"
            )
    w("")
    per_call = {
        server: usec_per_call(f"{out}/info-commandstats-{server}.txt") for server in ("basalt", "redis")
    }
    if per_call["basalt"]:
        parts = []
        for op in ("get", "hget", "set"):
            b, r = per_call["basalt"].get(op), per_call["redis"].get(op)
            if b is not None:
                parts.append(f"{op.upper()} {b:.1f} µs" + (f" (Redis {r:.1f} µs)" if r is not None else ""))
        w(
            "Time inside the command itself (`INFO commandstats` usec_per_call over "
            "the whole run, load included; the rest of a request's CPU is the network, "
            "parsing and the runtime): " + ", ".join(parts) + "."
        )
        w("")
    w(
        "CPU columns, over the whole phase (warm-up included), as shares of one CPU: "
        f"the server process (all its threads) on CPU {meta.get('server_cpu', '0')}; "
        "the rest of that CPU's busy time (other processes, interrupts, and steal: "
        "time the hypervisor ran something else), which the server could not use; "
        f"and CPU {meta.get('client_cpu', '1')}'s busy time (the load generator and "
        "anything else). A fair run has the second column near 0."
    )
    w("")

    # --- memory --------------------------------------------------------------
    w("## Memory")
    w("")
    w("Basalt's RSS by phase (one sample a second):")
    w("")
    w(
        "| phase | samples | RSS min MiB | RSS max MiB | RSS last MiB | block cache max MiB "
        "| memtables max MiB | RSS − cache − memtables max MiB |"
    )
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    phases = []
    for s in basalt:
        if not phases or phases[-1][0] != s["phase"]:
            phases.append((s["phase"], []))
        phases[-1][1].append(s)
    for name, rows in phases:
        lo, hi, last = rss_stats(rows)
        cache = [num(r["block_cache_bytes"]) for r in rows if num(r["block_cache_bytes"]) is not None]
        mem = [num(r["memtable_bytes"]) for r in rows if num(r["memtable_bytes"]) is not None]
        rest = [v for v in map(rest_bytes, rows) if v is not None]
        w(
            f"| {name} | {len(rows)} | {mib(lo)} | {mib(hi)} | {mib(last)} | "
            f"{mib(max(cache)) if cache else '?'} | {mib(max(mem)) if mem else '?'} | "
            f"{mib(max(rest)) if rest else '?'} |"
        )
    if b_max is not None:
        w(
            f"| **whole run** | {len(basalt)} | {mib(b_min)} | **{mib(b_max)}** | {mib(b_final)} | | | "
            f"{mib(rest_max)} |"
        )
    w("")
    if basalt:
        worst = max(basalt, key=lambda r: num(r["rss_kib"]))
        w(
            f"At the peak ({mib(num(worst['rss_kib']) * 1024)} MiB, phase {worst['phase']}) "
            f"the block cache held {mib(num(worst['block_cache_bytes']))} MiB and the "
            f"memtables {mib(num(worst['memtable_bytes']))} MiB. Peak RSS by the kernel's "
            f"count (VmHWM, between samples too): {mib(hwm_basalt)} MiB."
        )
        w("")
    if meta.get("redis") == "1":
        r_loaded = num(meta.get("rss_loaded_kib_redis"))
        w("Side by side, the same data:")
        w("")
        w("| server | RSS idle MiB | RSS after load MiB | RSS max MiB (sampled) | RSS at end MiB | peak (VmHWM) MiB |")
        w("|---|---:|---:|---:|---:|---:|")
        b_loaded = num(meta.get("rss_loaded_kib_basalt"))
        b_loaded = b_loaded * 1024 if b_loaded else None
        w(
            f"| Basalt ({cache_mb} MB block cache) | {mib(idle_kib * 1024)} | {mib(b_loaded)} | {mib(b_max)} | "
            f"{mib(num(meta.get('rss_end_kib_basalt'), 0) * 1024)} | {mib(hwm_basalt)} |"
        )
        _, r_max, _ = rss_stats(redis)
        w(
            f"| Redis (no persistence) | {mib(num(meta.get('rss_idle_kib_redis'), 0) * 1024)} | "
            f"{mib(r_loaded * 1024 if r_loaded else None)} | {mib(r_max)} | "
            f"{mib(num(meta.get('rss_end_kib_redis'), 0) * 1024)} | {mib(num(meta.get('hwm_kib_redis'), 0) * 1024)} |"
        )
        w("")
        if r_loaded and b_max:
            w(
                f"Redis needs {r_loaded * 1024 / raw:.2f}× the raw data in RSS "
                f"(`used_memory` {mib(num(meta.get('used_memory_redis')))} MiB); Basalt's peak is "
                f"{b_max / (r_loaded * 1024):.2f}× Redis's loaded RSS."
            )
            w("")

    # --- the bound -----------------------------------------------------------
    w("## The RSS bound")
    w("")
    w(
        "What Basalt's memory is made of, and the bound it follows from the "
        "configuration (values of this run):"
    )
    w("")
    w("| part | bound | from |")
    w("|---|---:|---|")
    w(
        f"| block cache | {cache_mb} MiB | `rocksdb.block_cache_size`. Data blocks, and (with "
        "`cache_index_and_filter_blocks`) the partitioned index and bloom filter blocks, "
        "charged to it; L0 files' and top-level index/filter blocks are pinned there, "
        "which can push usage a little past the capacity (the cache is not strict) |"
    )
    w(
        f"| memtables | {WRITTEN_CFS} × {wbs} × {wbn} = {mib(memtable_bound)} MiB | "
        f"`rocksdb.write_buffer_size` × `rocksdb.max_write_buffer_number` per column family "
        f"that receives writes: {WRITTEN_CFS} here (`metadata`: strings and hash metadata; "
        f"`default`: hash fields). There is no shared write-buffer limit, so a workload "
        f"writing all {ALL_CFS} families could reach {ALL_CFS} × {wbs} × {wbn} = "
        f"{mib(memtable_all)} MiB. `rocksdb.max_total_wal_size` forces flushes and in practice "
        "keeps them well under that |"
    )
    w(
        f"| fixed | idle RSS {mib(idle_kib * 1024)} + {FIXED_SLACK_MIB} = {mib(fixed)} MiB | "
        f"the process before any data (binary, tokio workers, thread stacks, allocator) "
        f"measured at start; plus a {FIXED_SLACK_MIB} MiB allowance, set before measuring, "
        f"for the rest: up to {jobs} flush/compaction jobs' buffers (read-ahead, output "
        "file buffer, block and filter builders), requests and replies in flight (these "
        "grow with clients × pipeline depth × request size), SST table readers, and memory "
        "freed but not yet returned by jemalloc (`dirty_decay_ms`, 10 s by default: a "
        "flushed memtable stays in RSS that long) |"
    )
    w(
        f"| **bound** | **{mib(bound)} MiB** | {cache_mb} + {mib(memtable_bound)} + {mib(fixed)} "
        f"(with all {ALL_CFS} families written: {mib(bound_all)} MiB) |"
    )
    w("")
    if b_max is not None:
        w(
            f"Measured: max {mib(b_max)} MiB, {'within' if b_max <= bound else '**over**'} "
            f"the bound ({b_max / bound:.2f}× it)."
        )
        if rest_max is not None:
            w(
                f"The part outside the block cache and the memtables peaked at "
                f"{mib(rest_max)} MiB, {'within' if rest_max <= fixed else '**over**'} the "
                f"fixed allowance of {mib(fixed)} MiB."
            )
        w("")

    # --- disk ----------------------------------------------------------------
    w("## Disk")
    w("")
    w(
        "| when | du MiB | SST MiB | WAL MiB | WAL archive MiB | other MiB | du / raw | (du − archive) / raw | SST / raw |"
    )
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    labels = {
        "after_load": "after load, compaction settled",
        "after_restart": "after restart (memtables flushed) and settling",
        "end": "end of run (after SET)",
    }
    for stage, r in disk.items():
        d, a, s_ = num(r["du_bytes"]), num(r["wal_archive_bytes"]), num(r["sst_bytes"])
        w(
            f"| {labels.get(stage, stage)} | {mib(d)} | {mib(s_)} | {mib(num(r['wal_bytes']))} | "
            f"{mib(a)} | {mib(num(r['other_bytes']))} | {d / raw:.2f} | {(d - a) / raw:.2f} | {s_ / raw:.2f} |"
        )
    w("")
    w(
        f"Raw data: {raw:,} bytes ({mib(raw)} MiB). du counts allocated blocks, the "
        "other columns file sizes. The WAL archive is every WAL file RocksDB has "
        "retired, kept for `rocksdb.wal_ttl_seconds` (default 10800 s) up to "
        "`rocksdb.wal_size_limit_mb` (default 16384 MB) so that replicas could catch up: "
        "right after a load it is about as large as everything written."
    )
    w("")

    # --- load ----------------------------------------------------------------
    w("## Load")
    w("")
    w("| server | kind | keys | raw MiB | seconds | raw MB/s |")
    w("|---|---|---:|---:|---:|---:|")
    for r in loads:
        secs = num(r["seconds"], 0)
        w(
            f"| {r['server'].capitalize()} | {r['kind']} | {int(r['keys']):,} | {mib(int(r['raw_bytes']))} | "
            f"{secs:.1f} | {int(r['raw_bytes']) / 1e6 / secs if secs else 0:,.1f} |"
        )
    w("")
    settles = [(k[len("settle_"):], v) for k, v in meta.items() if k.startswith("settle_")]
    if settles:
        w(
            "Compaction settled "
            + ", ".join(f"{v} s {k.replace('_', ' ')}" for k, v in settles)
            + "."
        )
        w("")
    dbsize = meta.get("dbsize_basalt")
    if dbsize:
        expected = string_keys + hash_keys
        ok = dbsize.strip() == str(expected)
        w(
            f"DBSIZE at the end: Basalt {dbsize}"
            + (f", Redis {meta['dbsize_redis']}" if meta.get("dbsize_redis") else "")
            + f" (expected {expected}{'' if ok else ': **mismatch**'})."
        )
        w("")

    notes_section(lines, doc_path, DEFAULT_NOTES)
    write_page(doc_path, lines)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

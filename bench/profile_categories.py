#!/usr/bin/env python3
"""Sorts the CPU samples of one `perf record` of basalt-server into categories.

    perf script -F comm,tid,period,ip,sym,dso --no-inline -i perf.data \
        | bench/profile_categories.py > profile.json

Used by bench/profile.sh (see docs/performance.md). Works on flat profiles
(`perf record` without -g: one frame per sample) and on call graphs
(`-g` or `--call-graph dwarf`: the leaf frame first).

How a sample is categorised
---------------------------
1. By thread name first: RocksDB's own threads (`rocksdb:low`, `rocksdb:high`:
   flush and compaction) and Basalt's background threads are "background";
   the `wal-fsync` thread is "WAL write".
2. Otherwise the frames are walked from the leaf (where the CPU was) towards
   the thread's entry point, and the first frame that a *decisive* rule
   matches names the category. Generic frames (memcpy, memcmp, comparators,
   syscall entry, page faults, interrupts, pthread mutexes, hashing, ...)
   are *neutral*: they take the category of the first decisive caller, so
   a memcpy inside `MemTable::Add` counts as memtable insert and the kernel's
   `copy_user` inside a socket send counts as socket I/O. With a flat
   profile there is no caller, and a neutral leaf takes its rule's
   fallback category (often "other").
3. Self time, not inclusive time: a sample counts once, for the leaf-most
   decisive frame. A worker blocked in a futex under a key lock counts as
   "thread switches/futex", not as "key locks". `inclusive` in the output
   gives the other view (share of samples with a frame anywhere in the
   chain), which is only meaningful with call graphs.

Samples are weighted by their period (ns of CPU for cpu-clock), so
percentages are shares of the server's CPU time during the run.

Symbol names are matched against both the names before and after the
crate split of crates/server (basalt_server::..., basalt_core::...,
basalt_commands::..., basalt_net::...), so before/after profiles compare.
"""

import json
import re
import sys
from collections import Counter, defaultdict

# Category keys, their labels, and the group they roll up into for the
# short summary. Order = order in tables.
CATEGORIES = [
    ("parse", "RESP parse", "RESP parse"),
    ("dispatch", "connection loop, dispatch, command lookup, stats", "dispatch"),
    ("handler", "command handlers, key/metadata encoding", "command logic"),
    ("locks", "locks: key locks, dataset lock, txn checks", "key locks"),
    ("rd_mem", "RocksDB read: memtable", "RocksDB read"),
    ("rd_sst", "RocksDB read: SST, block cache, bloom", "RocksDB read"),
    ("rd_other", "RocksDB read: Get setup (superversion, ReadOptions, pinning)", "RocksDB read"),
    ("rd_iter", "RocksDB read: iterators (create, merge, DBIter; not their block reads)", "RocksDB read"),
    ("wb_build", "RocksDB write: WriteBatch build", "RocksDB write (other)"),
    ("wal", "WAL write (log writer, crc, FlushWAL, file write, fsync)", "WAL write"),
    ("mem_ins", "memtable insert", "memtable insert"),
    ("wgroup", "write group, synchronisation (WriteImpl, WriteThread)", "write group/sync"),
    ("encode", "reply encoding", "reply encoding"),
    ("tokio", "tokio runtime (tasks, wakers, I/O driver; user side)", "tokio/epoll/socket"),
    ("epoll", "epoll (kernel and mio)", "tokio/epoll/socket"),
    ("sock", "socket read/write (send/recv syscalls, TCP, loopback)", "tokio/epoll/socket"),
    ("switch", "thread switches, futex, wakeups", "thread switches/futex"),
    ("alloc", "allocation (jemalloc, malloc, new/delete)", "allocation"),
    ("bg", "background threads (RocksDB flush/compaction, expiry, stats)", "background"),
    ("other", "other", "other"),
]
LABEL = {k: l for k, l, _ in CATEGORIES}
GROUP = {k: g for k, _, g in CATEGORIES}
NEUTRAL = None

# (regex, category or NEUTRAL, fallback for a neutral leaf with no decisive
# caller). First matching rule wins for a frame, so specific rules go first.
R = []


def rule(pattern, cat, fallback="other"):
    R.append((re.compile(pattern), cat, fallback))


# --- neutral helpers (checked first, as their names overlap others) --------
rule(r"^\[unknown\]$", NEUTRAL)
rule(r"^(__)?mem(cpy|move|set|cmp|chr|rchr)|^__mem|^bcmp$|^__strlen|^str(len|cmp)", NEUTRAL)
rule(r"^(__)?(libc_)?(write|__libc_write|__GI___libc_write)$|^__GI___libc_write", NEUTRAL)
rule(r"^(__)?(libc_)?(read|__libc_read)$", NEUTRAL)
rule(r"^syscall$|^__GI_syscall|^__syscall", NEUTRAL, "switch")
rule(r"pthread_mutex_|^__lll_lock|^___pthread_mutex|pthread_cond_|^__pthread_", NEUTRAL)
# RocksDB's mutexes guard the block cache shards as well as the write path:
# the caller decides.
rule(r"^rocksdb::port::(Mutex|CondVar|RWMutex)|^rocksdb::Instrumented(Mutex|CondVar)", NEUTRAL, "wgroup")
rule(r"^(std::sys::.*::time::Timespec::now|std::time::Instant::now|clock_gettime|__vdso_clock_gettime|__clock_gettime)", NEUTRAL, "dispatch")
rule(r"rocksdb::(SystemClock|Env)::Now|rocksdb::.*Clock.*::Now|rocksdb::StopWatch|rocksdb::PerfStepTimer", NEUTRAL)
rule(r"Comparator(Impl)?(<[^>]*>)?::(Compare|operator\(\)|Equal|CompareWithoutTimestamp|CompareTimestamp|FindShortestSeparator|FindShortSuccessor)|^rocksdb::Slice::|^rocksdb::(Get|Put|Encode|Decode)(Varint|Fixed|LengthPrefixed)|^rocksdb::ExtractUserKey|^rocksdb::ParseInternalKey|^rocksdb::UnPackSequenceAndType|^rocksdb::PackSequenceAndType", NEUTRAL)
rule(r"^rocksdb::Status::|^rocksdb::IOStatus::|^std::__cxx11::basic_string|^std::string|^std::vector|^rocksdb::autovector", NEUTRAL)
rule(r"^(core::hash|std::hash|<std::hash|core::hash::sip|hashbrown::|<core::hash)", NEUTRAL)
rule(r"^XXH|rocksdb::.*XXH|rocksdb::Hash|rocksdb::GetSliceHash|rocksdb::BloomHash", NEUTRAL, "rd_sst")
rule(r"^(core::fmt|<core::fmt|alloc::fmt|core::str|core::slice|<core::slice|core::ptr::drop_in_place<alloc|alloc::vec|<alloc::vec|alloc::slice|core::iter|core::ops|core::result|core::option)", NEUTRAL)
rule(r"^(bytes::|<bytes::)", NEUTRAL)
# kernel generic: syscall entry/exit, copies, interrupts, page faults
rule(r"^(entry_SYSCALL|do_syscall_64|syscall_exit|exit_to_user_mode|syscall_return|__x64_sys_(write|read)$|ksys_(write|read)|vfs_(write|read)$|__fdget|fdget|__fget|fput|__fput|_copy_|copy_user|copyin|copyout|rep_movs|rep_stos|__check_object_size|check_heap_object|__virt_addr_valid|security_|apparmor|rw_verify_area|fsnotify|__fsnotify|irqentry|asm_|sysvec_|__sysvec|irq_|__irq|handle_irq|hrtimer_interrupt|__hrtimer|tick_|update_process_times|scheduler_tick|account_|__raw_spin|_raw_spin|raw_spin|_raw_read|_raw_write|native_|__rcu|rcu_|lock_acquire|lock_release|preempt_|__cond_resched|_cond_resched|__local_bh|local_bh|__softirqentry|__do_softirq|do_softirq|handle_softirqs|kmem_cache_|__kmem_cache|kmalloc|__kmalloc|kfree|__slab|slab_|___slab|mod_objcg|obj_cgroup|refill_obj|memcg_|__memcg|__mod_memcg|mem_cgroup|exc_page_fault|asm_exc|do_user_addr_fault|handle_mm_fault|__handle_mm_fault|do_anonymous_page|do_fault|clear_page|alloc_pages|__alloc_pages|get_page_from_freelist|__folio|folio_|lru_|release_pages|free_unref|__free_pages|percpu_counter|__percpu|up_read|down_read|up_write|down_write|mutex_lock|mutex_unlock|__mutex|ktime_get|read_tsc|kvm_clock|pvclock|__get_user|__put_user|clear_user|strncpy_from_user|__x86_indirect|__x86_return|srso_|retbleed|entry_)", NEUTRAL)

# --- thread switches, futex, wakeups ----------------------------------------
rule(r"^(__schedule|schedule$|schedule_|finish_task_switch|__switch_to|context_switch|pick_next|put_prev|set_next|enqueue_|dequeue_|update_curr|update_load|update_cfs|update_rq|update_min_vruntime|reweight|__update_load|psi_|switch_mm|switch_fpu|restore_fpregs|fpregs_|__enqueue|__dequeue|check_preempt|resched_curr|sched_|__sched|do_sched_yield|__x64_sys_sched_yield|yield_task|hrtimer_(start|cancel|try)|hrtimer_sleeper|do_nanosleep|__x64_sys_nanosleep|__x64_sys_clock_nanosleep|common_nsleep|hrtimer_nanosleep)", "switch")
rule(r"^(futex_|__futex|do_futex|__x64_sys_futex|get_futex|hash_futex|wake_q|wake_up_q|mark_wake_futex)", "switch")
rule(r"^(try_to_wake_up|ttwu_|wake_up_process|__wake_up|wake_up_|autoremove_wake|default_wake|select_task_rq|select_idle|available_idle|cpus_share|__smp_call|smp_call|send_call_function|native_send_call|x2apic|default_send_IPI|__default_send_IPI)", NEUTRAL, "switch")
rule(r"^(eventfd_|__x64_sys_eventfd|eventfd_write|eventfd_read)", "switch")
rule(r"(std::sys::.*futex|std::sys::sync::|std::thread::park|std::thread::Thread::unpark|std::sys::pal::unix::futex|std::sys::unix::futex|<std::thread::|sched_yield|__sched_yield|nanosleep|__GI___nanosleep|clock_nanosleep|__clock_nanosleep)", "switch")
rule(r"(mio::waker|mio::sys::unix::waker)", "switch")

# --- allocation ---------------------------------------------------------------
rule(r"^(_rjem_|je_|tikv_jemalloc|<tikv_jemallocator|tikv_jemallocator|sdallocx|mallocx|rallocx|malloc$|free$|calloc$|realloc$|__libc_malloc|__libc_free|__libc_calloc|__libc_realloc|_int_malloc|_int_free|_int_realloc|malloc_consolidate|unlink_chunk|cfree|tcache|__GI___libc_malloc|__GI___libc_free|operator new|operator delete|(__rustc::)?__rust_(alloc|dealloc|realloc|alloc_zeroed|no_alloc)|__rdl_|__rg_|alloc::alloc::|<alloc::alloc::|alloc::raw_vec::|<alloc::raw_vec|alloc::raw_vec|<tikv_jemallocator)", "alloc")

# --- epoll ---------------------------------------------------------------------
rule(r"^(ep_poll_callback)", NEUTRAL, "epoll")
rule(r"^(ep_|do_epoll|__x64_sys_epoll|epoll_|__GI_epoll|__epoll|mio::sys::unix::selector::epoll|<mio::sys::unix::selector::epoll|mio::poll::Poll::poll)", "epoll")

# --- socket I/O (kernel TCP and loopback, libc and std wrappers) -------------
rule(r"^(tcp_|__tcp_|tcp4_|inet_|__inet_|inet6_|sock_|__sock_|sk_|__sk_|skb_|__skb_|kfree_skb|__kfree_skb|consume_skb|__alloc_skb|alloc_skb|__build_skb|ip_|__ip_|ipv4_|ip4_|ip_rcv|__netif|netif_|net_rx_action|__napi|napi_|process_backlog|loopback_|dev_hard_start_xmit|__dev_queue_xmit|dev_queue_xmit|validate_xmit|__x64_sys_(sendto|recvfrom|sendmsg|recvmsg|send|recv)|__sys_(sendto|recvfrom|sendmsg|recvmsg)|____sys_(sendmsg|recvmsg)|___sys_|release_sock|lock_sock|__release_sock|security_sock|selinux_sock|nf_|__nf_|ipt_|nft_|raw_local_deliver|raw_v4|icmp_|dst_|__dst|neigh_|sch_direct|qdisc_|__qdisc|pfifo|eth_|bpf_|__cgroup_bpf|cgroup_bpf|skb_copy|simple_copy_to_iter|__skb_datagram|skb_release|skb_attempt|sk_stream|sk_wait|sk_page_frag|sk_reset_timer|mod_timer|__mod_timer|lock_timer_base|minmax_|bictcp|cubictcp|__x64_sys_shutdown|inet_ehashfn|__inet_lookup|udp_)", "sock")
rule(r"^(__send|__libc_send|send$|__recv|__libc_recv|recv$|__GI___send|__GI___recv|sendto|recvfrom)", "sock")
rule(r"(std::sys::.*net::Socket|std::sys::pal::unix::net|std::sys::net|<std::net::tcp|std::net::tcp|<&std::net::tcp|mio::net::tcp|<mio::net::tcp|<&mio::net::tcp|mio::io_source)", "sock")

# --- tokio runtime --------------------------------------------------------------
rule(r"(^tokio::|^<tokio::|tokio::runtime|tokio::io|tokio::net|tokio::sync|tokio::task|tokio::time|tokio::macros|^futures|^<futures|core::future|<core::future|std::panicking::try|std::panic::catch_unwind|__rust_try)", "tokio")

# --- RESP parse and reply encoding ---------------------------------------------
rule(r"basalt_resp::request|RequestParser|basalt_resp::inline|basalt_resp::number|basalt_resp::error", "parse")
rule(r"basalt_resp::encode|basalt_resp::reply|basalt_resp::double|Reply.*::encode|drop_in_place<basalt_resp::reply::Reply|^itoa::|<itoa::|^ryu::|<ryu::|bulk_or_null", "encode")

# --- key locks ----------------------------------------------------------------
# (basalt_core::dataset: the shared lock every command holds after the
# crate split; its uncontended fast path is inlined into the dispatcher.)
rule(r"basalt_engine::lock|KeyLocks|parking_lot::raw_mutex|parking_lot_core|<parking_lot::raw_mutex|lock_api::|basalt_engine::txn|LockGuard|basalt_core::dataset|^arc_swap::|^<arc_swap::", "locks")

# --- RocksDB: WAL ----------------------------------------------------------------
rule(r"rocksdb::DBImpl::(WriteToWAL|WriteWAL|ConcurrentWriteToWAL|FlushWAL|SyncWAL|WriteGroupToWAL|MarkLogsSynced|LockWAL|UnlockWAL|ApplyWALToManifest)|rocksdb::log::Writer|crc32c|rocksdb::crc32c|WritableFileWriter|PosixWritableFile|FSWritableFile|rocksdb::.*WritableFile|rocksdb_flush_wal|DBCommon<.*>::flush_wal|rocksdb::db::.*flush_wal|Storage::(flush_wal_buffer|sync_wal)|rocksdb::IOTracer|rocksdb::.*Fsync|rocksdb::.*Sync\b", "wal")
rule(r"^(ext4_|__ext4|jbd2|__jbd2|generic_perform_write|generic_file_write_iter|__generic_file_write_iter|generic_write_end|block_write_end|__block_commit_write|block_write_begin|mark_buffer_dirty|__mark_inode_dirty|file_update_time|file_modified|inode_needs_update_time|generic_update_time|balance_dirty_pages|iomap_|filemap_dirty|filemap_get_folio|__filemap_get_folio|filemap_write|file_write_and_wait|__filemap_fdatawrite|do_writepages|write_cache_pages|__x64_sys_(fdatasync|fsync)|vfs_fsync|do_fsync|blk_|submit_bio|__submit_bio|bio_|virtblk|virtqueue|vring|iov_iter_copy_from_user|copy_page_from_iter|fault_in_iov_iter|fault_in_readable|pagecache_|grab_cache_page|ondemand_readahead|__es_|es_|ext4)", "wal")

# --- RocksDB: memtable insert --------------------------------------------------
rule(r"rocksdb::MemTable::(Add|Update|UpdateCallback|UpdateFlushState|UpdateEntryChecksum|MaybeUpdateNewestUDT)|InlineSkipList<.*>::(Insert|FindSpliceForLevel|RecomputeSpliceLevels|RandomHeight|AllocateNode|AllocateKey|Splice)|SkipListRep::Insert|rocksdb::\(anonymous namespace\)::SkipListRep::Insert|WriteBatchInternal::InsertInto|MemTableInserter|rocksdb::WriteBatch::Iterate|rocksdb::ReadRecordFromWriteBatch|rocksdb::WriteBatchInternal::Iterate|DynamicBloom::Add|ConcurrentArena|ColumnFamilyMemTablesImpl|rocksdb::MemTable::KeyComparator.*Insert|rocksdb::WriteBatch::Handler|rocksdb::MemTableRep::Allocate", "mem_ins")

# --- RocksDB: write batch build --------------------------------------------------
rule(r"rocksdb::WriteBatch::(Put|Delete|DeleteRange|Merge|WriteBatch|~WriteBatch|Clear)|rocksdb::WriteBatchInternal::(Put|Delete|DeleteRange|Merge)|rocksdb_writebatch_|rocksdb::write_batch::|<rocksdb::write_batch|basalt_engine::storage::Storage::(put|delete|delete_range)|WriteBatchWithTransaction|rocksdb::LocalSavePoint|rocksdb::WriteBatch::.*ProtectionInfo", "wb_build")

# --- RocksDB: write group / synchronisation ----------------------------------------
rule(r"rocksdb::WriteThread|rocksdb::DBImpl::(WriteImpl|Write\b|Write\(|PreprocessWrite|WriteImplWALOnly|PipelinedWriteImpl|UnorderedWriteMemtable|WriteStatusCheck|HandleWriteBufferManagerFlush|ScheduleFlushes|SwitchMemtable|MemTableInsertStatusCheck)|rocksdb::DB::Write|rocksdb::DB::Put|rocksdb_write|DBCommon<.*>::write|rocksdb::db::.*::write|basalt_engine::storage::Storage::(write|write_raw|replay)|rocksdb::WriteBatchInternal::(SetSequence|Sequence|Count|SetCount|ByteSize|Append|AppendedByteSize|Contents|SetContents)|rocksdb::WriteController|rocksdb::VersionSet::(LastSequence|SetLastSequence|FetchAddLastAllocatedSequence)|rocksdb::DBImpl::(MaybeFlush|FindObsoleteFiles)|rocksdb::WriteBufferManager", "wgroup")

# --- RocksDB: reads ----------------------------------------------------------------
rule(r"rocksdb::MemTable::(Get|GetFromTable|MultiGet|NewIterator|NewRangeTombstoneIterator|ShouldFlushNow|IsEmpty)|rocksdb::MemTableListVersion::(Get|MultiGet|GetFromList)|InlineSkipList<.*>::(FindGreaterOrEqual|FindLessThan|FindLast|Iterator|KeyIsAfterNode|Contains)|SkipListRep::(Get|Iterator)|rocksdb::(\(anonymous namespace\)::)?SaveValue|rocksdb::MemTable::KeyComparator|DynamicBloom::(MayContain|DoubleProbe)|rocksdb::DynamicBloom|rocksdb::MemTableRep::Get|rocksdb::MemTable::Get", "rd_mem")
rule(r"rocksdb::Version::(Get|MultiGet|MultiGetFromSST)|rocksdb::TableCache|rocksdb::BlockBasedTable|rocksdb::Block::|rocksdb::Block\b|rocksdb::BlockIter|rocksdb::DataBlockIter|rocksdb::IndexBlockIter|rocksdb::MetaBlockIter|rocksdb::DataBlockHashIndex|rocksdb::LRUCache|rocksdb::lru_cache|rocksdb::LRUHandle|rocksdb::ShardedCache|rocksdb::clock_cache|rocksdb::HyperClockCache|rocksdb::CacheShard|rocksdb::Cache::|rocksdb::FastLocalBloom|rocksdb::.*FilterBlockReader|rocksdb::.*FilterBitsReader|rocksdb::FullFilterBlock|rocksdb::ParsedFullFilterBlock|rocksdb::PartitionIndexReader|rocksdb::BinarySearchIndexReader|rocksdb::HashIndexReader|rocksdb::.*IndexReader|rocksdb::GetContext|rocksdb::\(anonymous namespace\)::FilePicker|rocksdb::FilePicker|rocksdb::BlockFetcher|rocksdb::CachableEntry|rocksdb::RandomAccessFileReader|rocksdb::PosixRandomAccessFile|rocksdb::.*RandomAccessFile|rocksdb::BlockHandle|rocksdb::BlockContents|rocksdb::UncompressBlock|rocksdb::Snappy|rocksdb::LZ4|snappy::|LZ4_|ZSTD_|rocksdb::BloomFilterPolicy|rocksdb::.*BloomBitsReader|rocksdb::.*PartitionedFilter|rocksdb::FindFileInRange|rocksdb::.*Statistics|rocksdb::PinnedIteratorsManager|rocksdb::ReadRangeDelAggregator|rocksdb::RangeDelAggregator|rocksdb::FragmentedRangeTombstone|rocksdb::BlockPrefetcher|rocksdb::FilePrefetchBuffer|^(filemap_read|__x64_sys_pread64|ksys_pread64|ext4_file_read_iter|generic_file_read_iter|filemap_get_pages|copy_page_to_iter|page_cache_|touch_atime|atime_needs_update)", "rd_sst")
rule(r"rocksdb::DBImpl::(Get|GetImpl|GetEntity|MultiGet|MultiGetImpl|MultiGetCommon|MultiGetWithCallback|PrepareMultiGetKeys|GetAndRefSuperVersion|ReturnAndCleanupSuperVersion|CleanupSuperVersion|GetLastPublishedSequence|GetSnapshot|GetSystemClock)|rocksdb::DB::Get|rocksdb::DB::MultiGet|rocksdb::SuperVersion|rocksdb::ThreadLocalPtr|rocksdb::ColumnFamilyData::(GetThreadLocalSuperVersion|ReturnThreadLocalSuperVersion|GetReferencedSuperVersion)|rocksdb_get_pinned|rocksdb_batched_multi_get|rocksdb_multi_get|rocksdb_pinnableslice|rocksdb_readoptions|rocksdb::ReadOptions::|rocksdb::PinnableSlice|rocksdb::Cleanable|rocksdb::LookupKey|rocksdb::MergeContext|rocksdb::db_options::ReadOptions|<rocksdb::db_options::ReadOptions|DBCommon<.*>::(get_pinned|batched_multi_get|multi_get|get)|rocksdb::db::.*(get_pinned|multi_get)|rocksdb::db_pinnable_slice|<rocksdb::db_pinnable_slice|DBPinnableSlice|basalt_engine::storage::Storage::(get|multi_get|txn_lookup)|basalt_engine::storage::Value", "rd_other")

rule(r"rocksdb::(DBIter|ArenaWrappedDBIter|NewArenaWrappedDbIterator|MergingIterator|MergeIteratorBuilder|LevelIterator|\(anonymous namespace\)::LevelIterator|BlockBasedTableIterator|MemTableIterator|IteratorWrapper|DBImpl::NewIterator|DBImpl::NewInternalIterator|Version::AddIterators|Version::AddIteratorsForLevel|ColumnFamilyData::NewIterator|NewMergingIterator|NewEmptyInternalIterator|InternalIteratorBase|Iterator::|IteratorBase|ArenaWrappedDBIter)|rocksdb_create_iterator|rocksdb_iter_|DBRawIteratorWithThreadMode|rocksdb::db_iterator|basalt_engine::iter", "rd_iter")

# --- dispatch / connection loop / stats --------------------------------------------
rule(r"(basalt_server|basalt_net|basalt_core)::connection::(execute|check|run|serve|write|drain_pushes|invalidate_watches|serve_waiters)|(basalt_server|basalt_core|basalt_net)::dispatch|CommandTable|(basalt_server|basalt_core)::command::(Command|CommandTable|arity|allowed_while_subscribed|flags)|(basalt_server|basalt_core)::(stats|clients|notify|slowlog|shared|offload|context|transaction|scripting::busy_error|blocking::BlockingRegistry::has_waiters|pubsub::Subscriptions)|parking_lot::raw_rwlock|<parking_lot::raw_rwlock|basalt_config::|ClientHandle", "dispatch")

# --- command handlers, data types, key encoding ------------------------------------
rule(r"basalt_types::|basalt_commands::|(basalt_server|basalt_core)::command::|basalt_engine::(metadata|key|encoding|version|column_family)|basalt_engine::|basalt_server::|basalt_core::|basalt_net::", "handler")

# RocksDB left over (anything else in the C++ library or the Rust binding):
# the caller decides (GetComparator under DBImpl::Get is a read).
rule(r"^rocksdb::|^<rocksdb::|^rocksdb_|^non-virtual thunk to rocksdb::|^TLS init function for rocksdb::", NEUTRAL)
rule(r"^(std::|<std::|core::|<core::|alloc::|<alloc::)", NEUTRAL)

# Frames that say where a sample is, for the inclusive view (any frame in
# the chain). Only meaningful with call graphs.
INCLUSIVE = [
    ("RESP parse (RequestParser)", r"RequestParser|basalt_resp::request"),
    ("command execution (execute)", r"connection::execute|::dispatch::"),
    ("key locks (KeyLocks)", r"basalt_engine::lock"),
    ("RocksDB Get (DBImpl::Get*/MultiGet)", r"rocksdb::DBImpl::(Get|GetImpl|MultiGet)"),
    ("RocksDB Write (DBImpl::WriteImpl)", r"rocksdb::DBImpl::WriteImpl"),
    ("  of which memtable insert (InsertInto)", r"WriteBatchInternal::InsertInto"),
    ("  of which write thread (WriteThread)", r"rocksdb::WriteThread"),
    ("  of which WAL record (WriteToWAL)", r"rocksdb::DBImpl::(WriteToWAL|WriteGroupToWAL|ConcurrentWriteToWAL)"),
    ("FlushWAL (WAL buffer to the OS)", r"rocksdb::DBImpl::FlushWAL"),
    ("reply encoding (encode)", r"basalt_resp::encode|Reply.*::encode"),
    ("socket send (sendto)", r"__sys_sendto|tcp_sendmsg"),
    ("socket receive (recvfrom)", r"__sys_recvfrom|tcp_recvmsg"),
    ("epoll_wait", r"do_epoll_wait|ep_poll$"),
    ("futex", r"^do_futex|^futex_wait|^futex_wake"),
    ("scheduler (__schedule)", r"^__schedule$"),
    ("allocator", r"^(_rjem_|je_|malloc$|free$|_int_malloc|_int_free|operator new|operator delete|__rust_alloc|__rust_dealloc|__rust_realloc)"),
]
INCLUSIVE_RE = [(n, re.compile(p)) for n, p in INCLUSIVE]

# Finer splits of some categories, to size specific changes. Mode "leaf":
# walk the frames from the leaf, the first frame matching any rule decides;
# mode "any": rules in order, the first one matching any frame decides.
# Samples matching none count as "other".
DETAILS = {
    "rd_sst": ("leaf", [
        ("bloom / filter probes", r"Filter|Bloom|KeyMayMatch"),
        ("index blocks (two-level index search)", r"IndexBlockIter|IndexReader|IndexValue|NewIndexIterator|PartitionIndex|IndexBlock"),
        ("block cache (LRU lookup, ref, release)", r"LRUCache|lru_cache|LRUHandle|ShardedCache|CacheShard|rocksdb::Cache::|CachableEntry|GetEntryFromCache|RetrieveBlock|MaybeReadBlockAndLoadToCache|LookupAndPin|CacheKey"),
        ("data blocks (hash index, seek, entry decode)", r"DataBlockIter|DataBlockHashIndex|rocksdb::Block::NewDataIterator|BlockIter<rocksdb::Slice>|SeekForGet|ParseNextDataKey|SaveValue|GetContext::SaveValue"),
        ("SST file read (pread, decompress)", r"RandomAccessFile|pread|filemap_read|BlockFetcher|Uncompress|Snappy|LZ4|ZSTD"),
        ("file picking, table cache, Version::Get", r"FilePicker|Version::Get|Version::MultiGet|TableCache|FindFileInRange|GetContext|BlockBasedTable::Get"),
    ]),
    "rd_other": ("leaf", [
        ("ReadOptions create/drop (per get)", r"ReadOptions"),
        ("superversion (thread-local ref/unref)", r"SuperVersion|ThreadLocalPtr"),
        ("PinnableSlice / Cleanable", r"PinnableSlice|Cleanable|pinnable"),
        ("DBImpl::Get/GetImpl itself", r"rocksdb::DBImpl::Get|rocksdb::DB::Get"),
        ("C API and Rust binding", r"rocksdb_get_pinned|rocksdb_batched|DBCommon|rocksdb::db::"),
        ("Basalt Storage::get", r"basalt_engine"),
    ]),
    "wal": ("leaf", [
        ("crc32c of WAL records", r"crc32c"),
        ("kernel: ext4 buffered write of the WAL buffer", r"^(ext4_|__ext4|jbd2|__jbd2|generic_perform_write|zero_user|__block_commit|block_write|mark_buffer|file_update_time|file_modified|iomap_|__filemap|filemap_|folio|balance_dirty|vfs_write|ksys_write|__x64_sys_write)"),
        ("kernel: fsync (wal-fsync thread)", r"fsync|fdatasync|file_write_and_wait|writepages|submit_bio|blk_"),
        ("log::Writer record framing (WriteToWAL)", r"log::Writer|WriteToWAL|WriteGroupToWAL"),
        ("WritableFileWriter / FlushWAL (user side)", r"WritableFile|FlushWAL|flush_wal"),
    ]),
    "sock": ("any", [
        ("send path (sendto; TCP, loopback delivery, waking the client)", r"__sys_sendto|tcp_sendmsg|^__send$|__libc_send|Socket::send|poll_write"),
        ("receive path (recvfrom)", r"__sys_recvfrom|tcp_recvmsg|^__recv$|__libc_recv|Socket::recv|poll_read"),
    ]),
    "dispatch": ("leaf", [
        ("timing (Instant::now/elapsed per command)", r"clock_gettime|Instant|Timespec"),
        ("command lookup (lowercase, SipHash)", r"CommandTable|sip::|hash_one|from_utf8|make_ascii_lowercase"),
        ("argument list drop (Vec<Bytes>)", r"drop_in_place<alloc::vec::Vec<bytes|shared_v_drop|promotable"),
        ("stats, slowlog, client bookkeeping", r"stats|slowlog|ClientHandle|record_command|notify|clients"),
        ("execute / connection loop itself", r"connection::"),
    ]),
}
DETAILS_RE = {k: (mode, [(n, re.compile(p)) for n, p in rules]) for k, (mode, rules) in DETAILS.items()}


def detail_of(cat, frames):
    mode, rules = DETAILS_RE[cat]
    if mode == "leaf":
        for sym, _ in frames:
            for name, rx in rules:
                if rx.search(sym):
                    return name
    else:
        for name, rx in rules:
            if any(rx.search(sym) for sym, _ in frames):
                return name
    return "other"


def alloc_caller(frames):
    """Category of the first decisive frame above the allocator."""
    for sym, _ in frames:
        cat, _ = classify_frame(sym)
        if cat is NEUTRAL or cat == "alloc":
            continue
        return cat
    return "other"


BACKGROUND_COMM = re.compile(r"^(rocksdb:|reclaim|stats-sampler|expire|active-expire|basalt-expire|basalt-reclaim|jemalloc_bg)")
WAL_COMM = re.compile(r"^wal-fsync")

HASH_SUFFIX = re.compile(r"::h[0-9a-f]{16}$")


def clean(sym):
    sym = HASH_SUFFIX.sub("", sym)
    # perf prints "+0x1f" offsets only with symoff; strip them if present.
    sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
    return sym


_cache = {}


def classify_frame(sym):
    """(category or None for neutral, fallback) for one frame's symbol."""
    hit = _cache.get(sym)
    if hit is not None:
        return hit
    result = (NEUTRAL, "other")
    for rx, cat, fallback in R:
        if rx.search(sym):
            result = (cat, fallback)
            break
    _cache[sym] = result
    return result


def categorise(comm, frames):
    if BACKGROUND_COMM.search(comm):
        return "bg"
    if WAL_COMM.search(comm):
        return "wal"
    if not frames:
        return "other"
    for sym, _dso in frames:
        cat, _ = classify_frame(sym)
        if cat is not NEUTRAL:
            return cat
    return classify_frame(frames[0][0])[1]


def short_dso(dso):
    if dso.startswith("[") or not dso:
        return dso
    return dso.rsplit("/", 1)[-1]


HEADER = re.compile(r"^\s*(?P<comm>\S.*?)\s+(?P<tid>\d+)\s+(?P<period>\d+)\s*:?\s*(?P<rest>.*)$")
FRAME = re.compile(r"^\s+(?P<ip>[0-9a-f]+)\s+(?P<sym>.*?)\s+\((?P<dso>[^()]*)\)\s*$")


def parse_frame(text):
    m = FRAME.match(" " + text if not text[:1].isspace() else text)
    if not m:
        return None
    return clean(m.group("sym")), m.group("dso")


def samples(lines):
    """Yields (comm, tid, period, frames) from `perf script` text.

    With call graphs a sample is a header line, then one frame per line
    (each starting with a tab), then a blank line. Flat profiles put the one
    frame on the header line (whose comm perf pads with spaces)."""
    cur = None
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if cur:
                yield cur
                cur = None
            continue
        if line.startswith("\t"):
            if cur is not None:
                f = parse_frame(line)
                if f:
                    cur[3].append(f)
            continue
        m = HEADER.match(line)
        if not m:
            continue
        if cur:
            yield cur
        cur = (m.group("comm").strip(), int(m.group("tid")), int(m.group("period")), [])
        rest = m.group("rest").strip()
        if rest:
            f = parse_frame(" " + rest)
            if f:
                cur[3].append(f)
    if cur:
        yield cur


# Where a chain may stop and still be complete enough: the tokio task poll
# (connection futures run under it) or a thread's entry point.
ROOTS = re.compile(r"^(start_thread|clone3?|__clone|_start|__libc_start_main|__libc_start_call_main|ret_from_fork|std::sys::.*thread_start|main$|tokio::runtime::task::raw::poll|tokio::runtime::task::harness|tokio::runtime::scheduler::.*::(run|run_task|block_on)|std::sys::.*Thread::new::thread_start)")


def summarise(lines, top=40):
    total = 0
    n = 0
    cats = Counter()
    syms = Counter()
    sym_cat = {}
    sym_dso = {}
    inc = Counter()
    threads = Counter()
    kernel = 0
    rooted = 0
    depth_total = 0
    per_cat_syms = defaultdict(Counter)
    details = defaultdict(Counter)
    for comm, _tid, period, frames in samples(lines):
        n += 1
        total += period
        cat = categorise(comm, frames)
        cats[cat] += period
        # threads: collapse numbered names (rocksdb:low0 -> rocksdb:low)
        threads[re.sub(r"\d+$", "", comm)] += period
        if frames:
            leaf, dso = frames[0]
            syms[leaf] += period
            sym_dso[leaf] = short_dso(dso)
            sym_cat.setdefault(leaf, Counter())[cat] += period
            per_cat_syms[cat][leaf] += period
            if cat in DETAILS_RE:
                details[cat][detail_of(cat, frames)] += period
            elif cat == "alloc":
                details["alloc"]["called from " + LABEL[alloc_caller(frames)]] += period
            if dso == "[kernel.kallsyms]":
                kernel += period
            depth_total += len(frames)
            if len(frames) > 1 and any(ROOTS.search(s) for s, _ in frames[-4:]):
                rooted += 1
            seen = set()
            for name, rx in INCLUSIVE_RE:
                for s, _ in frames:
                    if rx.search(s):
                        seen.add(name)
                        break
            for name in seen:
                inc[name] += period
    if total == 0:
        return {"samples": 0}

    def pct(v):
        return round(100.0 * v / total, 2)

    return {
        "samples": n,
        "cpu_ms_sampled": round(total / 1e6, 1),
        "avg_frames": round(depth_total / n, 1) if n else 0,
        "chains_to_entry_pct": round(100.0 * rooted / n, 1) if n else 0,
        "kernel_pct": pct(kernel),
        "categories": [
            {"key": k, "label": LABEL[k], "group": GROUP[k], "pct": pct(cats[k])}
            for k, _, _ in CATEGORIES
        ],
        "groups": sorted(
            ({"group": g, "pct": round(sum(pct(cats[k]) for k, _, gg in CATEGORIES if gg == g), 2)}
             for g in dict.fromkeys(g for _, _, g in CATEGORIES)),
            key=lambda x: -x["pct"],
        ),
        "top_symbols": [
            {"symbol": s, "dso": sym_dso.get(s, ""), "pct": pct(v),
             "category": sym_cat[s].most_common(1)[0][0]}
            for s, v in syms.most_common(top)
        ],
        "top_symbols_by_category": {
            k: [{"symbol": s, "pct": pct(v)} for s, v in per_cat_syms[k].most_common(5)]
            for k, _, _ in CATEGORIES if per_cat_syms[k]
        },
        "inclusive": [{"name": name, "pct": pct(inc[name])} for name, _ in INCLUSIVE],
        # percentages of all samples, like the categories they split
        "details": {
            k: [{"name": n, "pct": pct(v)} for n, v in details[k].most_common()]
            for k in list(DETAILS) + ["alloc"] if details[k]
        },
        "threads": [{"thread": t, "pct": pct(v)} for t, v in threads.most_common()],
    }


def main():
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input", nargs="?", help="perf script output (default stdin)")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--explain", metavar="SYMBOL", help="print the rule a symbol matches and exit")
    a = ap.parse_args()
    if a.explain:
        cat, fb = classify_frame(a.explain)
        print(f"{a.explain}: {'neutral (fallback ' + fb + ')' if cat is None else cat}")
        return
    src = open(a.input, errors="replace") if a.input else sys.stdin
    with src:
        out = summarise(src, a.top)
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

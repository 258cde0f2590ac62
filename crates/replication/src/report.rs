//! What INFO replication and ROLE show. Offsets are RocksDB sequence
//! numbers (a replica's equal its master's), not Redis's byte offsets.

use crate::link::LinkState;
use crate::Replication;
use basalt_core::shared::Shared;
use basalt_resp::Reply;
use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

/// The `# Replication` section of INFO.
pub fn info_section(shared: &Shared, out: &mut String) {
    let repl = crate::of(shared);
    let storage = shared.data().storage.clone();
    let latest = match &repl {
        Some(r) => r.shown_offset(&storage),
        None => storage.latest_sequence_number(),
    };
    let _ = out.write_str("# Replication\r\n");
    let link = repl.as_ref().and_then(|r| r.link());
    match &link {
        None => {
            let _ = out.write_str("role:master\r\n");
        }
        Some(link) => {
            let state = link.state();
            let up = state == LinkState::Connected;
            let _ = write!(
                out,
                "role:slave\r\nmaster_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:{}\r\n",
                link.host,
                link.port,
                if up { "up" } else { "down" },
                if up { link.last_io_secs() as i64 } else { -1 },
                (state == LinkState::Sync) as u8,
            );
            if state == LinkState::Sync {
                let total = link.sync_total.load(Relaxed);
                let read = link.sync_read.load(Relaxed);
                let _ = write!(
                    out,
                    "master_sync_total_bytes:{total}\r\nmaster_sync_read_bytes:{read}\r\nmaster_sync_left_bytes:{}\r\nmaster_sync_last_io_seconds_ago:{}\r\n",
                    total.saturating_sub(read),
                    link.last_io_secs(),
                );
            }
            if let Some(down) = link.down_secs() {
                let _ = write!(out, "master_link_down_since_seconds:{down}\r\n");
            }
            let _ = write!(
                out,
                "slave_read_repl_offset:{latest}\r\nslave_repl_offset:{latest}\r\nslave_priority:100\r\nslave_read_only:1\r\nreplica_announced:1\r\n"
            );
        }
    }
    let peers = repl.as_ref().map(|r| r.feed.list()).unwrap_or_default();
    let _ = write!(out, "connected_slaves:{}\r\n", peers.len());
    let (min, max_lag) = {
        let c = shared.config.read();
        (c.min_replicas_to_write, c.min_replicas_max_lag)
    };
    if min > 0 && max_lag > 0 {
        let good = repl.as_ref().map_or(0, |r| r.good_replicas(max_lag));
        let _ = write!(out, "min_slaves_good_slaves:{good}\r\n");
    }
    for (i, p) in peers.iter().enumerate() {
        let _ = write!(
            out,
            "slave{i}:ip={},port={},state=online,offset={},lag={}\r\n",
            p.ip,
            p.port,
            p.offset(),
            p.lag_secs()
        );
    }
    // The replication id of this node's history (on a replica, its
    // master's, as stored by the master's batches it applied), and the one it
    // followed before its last promotion, as Redis shows replid2.
    let storage = shared.data().storage.clone();
    let replid = storage
        .replication_id()
        .or_else(|| storage.stored_replication_id())
        .unwrap_or_else(|| "0".repeat(basalt_engine::replication::REPLICATION_ID_LEN));
    let (replid2, second) = match storage.previous_replication_id() {
        Some((id, last)) => (id, (last + 1) as i64),
        None => (
            "0".repeat(basalt_engine::replication::REPLICATION_ID_LEN),
            -1,
        ),
    };
    // The in-memory backlog (engine `backlog.rs`): offsets are sequences,
    // as everywhere here; its length is in bytes, as Redis's.
    let backlog = storage.backlog();
    let (active, first, histlen) = (
        u8::from(backlog.is_on()),
        backlog.first(),
        backlog.len_bytes(),
    );
    drop(storage);
    let _ = write!(
        out,
        "master_failover_state:{}\r\nmaster_replid:{replid}\r\nmaster_replid2:{replid2}\r\nmaster_repl_offset:{latest}\r\nsecond_repl_offset:{second}\r\nrepl_backlog_active:{active}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{first}\r\nrepl_backlog_histlen:{histlen}\r\n",
        repl.as_ref().map_or("no-failover", |r| r.failover_state()),
        backlog_size(shared),
    );
    out.push_str(&stats_lines(shared));
}

/// `repl-backlog-size` as configured.
fn backlog_size(shared: &Shared) -> String {
    shared
        .config
        .read()
        .get(&[b"repl-backlog-size".as_slice()])
        .into_iter()
        .next()
        .map(|(_, v)| v)
        .unwrap_or_default()
}

/// Kvrocks' sync counters (INFO stats and replication).
pub fn stats_lines(shared: &Shared) -> String {
    let (full, ok, err) = match crate::of(shared) {
        Some(r) => (
            r.counters.sync_full.load(Relaxed),
            r.counters.sync_partial_ok.load(Relaxed),
            r.counters.sync_partial_err.load(Relaxed),
        ),
        None => (0, 0, 0),
    };
    format!("sync_full:{full}\r\nsync_partial_ok:{ok}\r\nsync_partial_err:{err}\r\n")
}

/// ROLE, in Redis's shape.
pub fn role_reply(shared: &Shared) -> Reply {
    let repl = crate::of(shared);
    let storage = shared.data().storage.clone();
    let latest = match &repl {
        Some(r) => r.shown_offset(&storage),
        None => storage.latest_sequence_number(),
    } as i64;
    match repl.as_ref().and_then(|r| r.link()) {
        Some(link) => Reply::Array(vec![
            Reply::bulk("slave"),
            Reply::bulk(link.host.clone()),
            Reply::Integer(link.port as i64),
            Reply::bulk(link.state().name()),
            Reply::Integer(latest),
        ]),
        None => {
            let peers = repl
                .map(|r: std::sync::Arc<Replication>| r.feed.list())
                .unwrap_or_default();
            Reply::Array(vec![
                Reply::bulk("master"),
                Reply::Integer(latest),
                Reply::Array(
                    peers
                        .iter()
                        .map(|p| {
                            Reply::Array(vec![
                                Reply::bulk(p.ip.clone()),
                                Reply::bulk(p.port.to_string()),
                                Reply::bulk(p.offset().to_string()),
                            ])
                        })
                        .collect(),
                ),
            ])
        }
    }
}

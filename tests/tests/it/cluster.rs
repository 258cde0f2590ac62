//! Cluster mode: nodes started with `cluster-enabled yes`, a topology
//! pushed with CLUSTERX as an operator would, then the `redis` crate's
//! cluster client, raw connections for the error replies, and the
//! replication the topology sets up.

use basalt_tests::client::{err, q, reply};
use basalt_tests::cluster::{node_id, shard_field, start_node};
use basalt_tests::nodes::{assert_same_data, connect, wait_in_sync, wait_until};
use basalt_tests::{against_redis, Server};
use redis::{Commands, Connection, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// The slots of master `i` of `n`, as Redis's `--cluster create` splits them.
fn slot_range(i: usize, n: usize) -> (usize, usize) {
    let per = 16384 / n;
    let start = i * per;
    let end = if i + 1 == n { 16383 } else { start + per - 1 };
    (start, end)
}

/// `masters` masters with the slots split evenly, then one replica for
/// each master in `replica_of` order, all told with SETNODEID + SETNODES.
struct Cluster {
    nodes: Vec<Server>,
    masters: usize,
}

impl Cluster {
    fn start(masters: usize, replicas: usize) -> Cluster {
        let nodes: Vec<Server> = (0..masters + replicas).map(|_| start_node(&[])).collect();
        let cluster = Cluster { nodes, masters };
        cluster.push(&cluster.lines(|i| i), 1);
        cluster
    }

    /// SETNODES lines where node `i` has the role of node `role(i)` in
    /// the initial layout (master k, or replica of master k - masters).
    fn lines(&self, role: impl Fn(usize) -> usize) -> String {
        let mut text = String::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let r = role(i);
            let head = format!("{} 127.0.0.1 {}", node_id(i), node.port);
            if r < self.masters {
                let (a, b) = slot_range(r, self.masters);
                text.push_str(&format!("{head} master - {a}-{b}\n"));
            } else {
                let master_role = r - self.masters;
                let master = (0..self.nodes.len())
                    .find(|&j| role(j) == master_role)
                    .unwrap();
                text.push_str(&format!("{head} slave {}\n", node_id(master)));
            }
        }
        text
    }

    fn push(&self, lines: &str, version: i64) {
        for (i, node) in self.nodes.iter().enumerate() {
            let mut c = node.client();
            let _: () = q(&mut c, &["CLUSTERX", "SETNODEID", &node_id(i)]);
            let ok: String = q(
                &mut c,
                &["CLUSTERX", "SETNODES", lines, &version.to_string()],
            );
            assert_eq!(ok, "OK");
        }
    }

    fn master_urls(&self) -> Vec<String> {
        self.nodes[..self.masters].iter().map(Server::url).collect()
    }
}

/// The node (index) among `nodes` that owns `key` in the initial layout.
fn owner_of(key: &str, masters: usize) -> usize {
    let slot = slot_of(key);
    (0..masters)
        .find(|&i| {
            let (a, b) = slot_range(i, masters);
            (a..=b).contains(&slot)
        })
        .unwrap()
}

fn slot_of(key: &str) -> usize {
    let mut c = crc16(key.as_bytes()) as usize;
    c &= 16383;
    c
}

/// Redis's CRC16 of the key or its hash tag (computed here, independently
/// of the server, to check it).
fn crc16(key: &[u8]) -> u16 {
    let hashed = match key.iter().position(|&b| b == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(0) | None => key,
            Some(len) => &key[open + 1..open + 1 + len],
        },
        None => key,
    };
    crc::Crc::<u16>::new(&crc::CRC_16_XMODEM).checksum(hashed)
}

/// A connection to a replica that serves reads of its master's slots
/// (the checker reads every key).
fn readonly(server: &Server) -> Connection {
    let mut c = server.client();
    let _: () = q(&mut c, &["READONLY"]);
    c
}

/// Each node's replication-offset in CLUSTER SHARDS, by node id.
fn shard_offsets(c: &mut Connection) -> std::collections::HashMap<String, i64> {
    shard_field(c, "replication-offset")
        .into_iter()
        .map(|(id, v)| (id, v.parse().unwrap_or_else(|_| panic!("offset {v}"))))
        .collect()
}

fn moved_to(e: &str) -> (usize, u16) {
    // "MOVED <slot> 127.0.0.1:<port>"
    let mut parts = e.split_whitespace();
    assert_eq!(parts.next(), Some("MOVED"), "{e}");
    let slot = parts.next().unwrap().parse().unwrap();
    let port = parts
        .next()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    (slot, port)
}

#[test]
fn three_masters_three_replicas_serve_a_cluster_client() {
    if against_redis() {
        return;
    }
    let cluster = Cluster::start(3, 3);
    let client = redis::cluster::ClusterClient::builder(cluster.master_urls())
        .connection_timeout(Duration::from_secs(5))
        .response_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut cc = client.get_connection().unwrap();
    for i in 0..300 {
        let _: () = cc.set(format!("key:{i}"), i).unwrap();
    }
    let _: () = cc.hset("{user1}.profile", "name", "ann").unwrap();
    let _: () = cc.sadd("{user1}.tags", "a").unwrap();
    for i in 0..300 {
        let v: i64 = cc.get(format!("key:{i}")).unwrap();
        assert_eq!(v, i);
    }
    // A multi-key command on keys sharing a hash tag.
    let n: i64 = redis::cmd("EXISTS")
        .arg("{user1}.profile")
        .arg("{user1}.tags")
        .query(&mut cc)
        .unwrap();
    assert_eq!(n, 2);

    // Each key is on the master that owns its slot, and only there.
    let mut per_master = [0usize; 3];
    for i in 0..300 {
        per_master[owner_of(&format!("key:{i}"), 3)] += 1;
    }
    per_master[owner_of("{user1}", 3)] += 2;
    for (m, expected) in per_master.iter().enumerate() {
        let mut c = cluster.nodes[m].client();
        let size: usize = q(&mut c, &["DBSIZE"]);
        assert_eq!(size, *expected, "master {m}");
    }
    let mut c = cluster.nodes[owner_of("key:7", 3)].client();
    let slot = slot_of("key:7").to_string();
    assert_eq!(reply(&mut c, &["CLUSTER", "KEYSLOT", "key:7"]), slot);
    let in_slot: Vec<String> = q(&mut c, &["CLUSTER", "GETKEYSINSLOT", &slot, "10"]);
    assert!(in_slot.contains(&"key:7".to_string()), "{in_slot:?}");
    let count: usize = q(&mut c, &["CLUSTER", "COUNTKEYSINSLOT", &slot]);
    assert_eq!(count, in_slot.len());

    // Each replica follows its master and holds the same data.
    for (m, expected) in per_master.iter().enumerate() {
        let (master, replica) = (&cluster.nodes[m], &cluster.nodes[3 + m]);
        wait_in_sync(master, replica, WAIT);
        let n = assert_same_data(&mut master.client(), &mut readonly(replica));
        assert_eq!(n, *expected);
    }

    // CLUSTER SHARDS offsets: a master knows its own and its replica's
    // (acknowledged), a replica what it applied for itself and its master,
    // and neither knows another shard's.
    let (m1, r1) = (node_id(1), node_id(4));
    wait_until(WAIT, "the replica's offset in CLUSTER SHARDS", || {
        let on_master = shard_offsets(&mut cluster.nodes[1].client());
        let on_replica = shard_offsets(&mut cluster.nodes[4].client());
        let ok = on_master[&m1] > 0
            && on_master[&r1] == on_master[&m1]
            && on_master[&node_id(0)] == 0
            && on_replica[&r1] == on_master[&m1]
            && on_replica[&m1] == on_master[&m1]
            && on_replica[&node_id(2)] == 0;
        if ok {
            Ok(())
        } else {
            Err(format!("master: {on_master:?}, replica: {on_replica:?}"))
        }
    });

    // A replica redirects to its master, unless READONLY asks it to serve
    // reads; writes are always redirected.
    let key = "key:1";
    let m = owner_of(key, 3);
    let mut r = cluster.nodes[3 + m].client();
    let (_, port) = moved_to(&err(&mut r, &["GET", key]));
    assert_eq!(port, cluster.nodes[m].port);
    assert_eq!(reply(&mut r, &["READONLY"]), "OK");
    assert_eq!(reply(&mut r, &["GET", key]), "1");
    let (_, port) = moved_to(&err(&mut r, &["SET", key, "2"]));
    assert_eq!(port, cluster.nodes[m].port);
    assert_eq!(reply(&mut r, &["READWRITE"]), "OK");
    moved_to(&err(&mut r, &["GET", key]));
    // A key of another master's slot is redirected even with READONLY.
    let other = (0..100)
        .map(|i| format!("key:{i}"))
        .find(|k| owner_of(k, 3) != m)
        .unwrap();
    assert_eq!(reply(&mut r, &["READONLY"]), "OK");
    let (_, port) = moved_to(&err(&mut r, &["GET", &other]));
    assert_eq!(port, cluster.nodes[owner_of(&other, 3)].port);

    // A master replaced by its replica: version 2 swaps the roles of
    // master 0 and its replica; the old master follows the new one.
    let lines = cluster.lines(|i| match i {
        0 => 3,
        3 => 0,
        i => i,
    });
    cluster.push(&lines, 2);
    let (new_master, old_master) = (&cluster.nodes[3], &cluster.nodes[0]);
    let key0 = (0..300)
        .map(|i| format!("key:{i}"))
        .find(|k| owner_of(k, 3) == 0)
        .unwrap();
    let mut nm = new_master.client();
    let mut om = old_master.client();
    wait_until(
        WAIT,
        "the promoted replica to take writes",
        || match redis::cmd("SET")
            .arg(&key0)
            .arg("promoted")
            .query::<Value>(&mut nm)
        {
            Ok(_) => Ok(()),
            Err(e) => Err(e.to_string()),
        },
    );
    let (_, port) = moved_to(&err(&mut om, &["SET", &key0, "x"]));
    assert_eq!(port, new_master.port);
    wait_in_sync(new_master, old_master, WAIT);
    assert_same_data(&mut nm, &mut readonly(old_master));
    let mut cc = client.get_connection().unwrap();
    let v: String = cc.get(&key0).unwrap();
    assert_eq!(v, "promoted");

    // A replica restarted from its nodes.conf follows its master again.
    let mut cluster = cluster;
    cluster.nodes[4].restart();
    let key1 = (0..300)
        .map(|i| format!("key:{i}"))
        .find(|k| owner_of(k, 3) == 1)
        .unwrap();
    let _: () = cc.set(&key1, "after-restart").unwrap();
    wait_in_sync(&cluster.nodes[1], &cluster.nodes[4], WAIT);
    let mut r = connect(&cluster.nodes[4], WAIT);
    let _: () = q(&mut r, &["READONLY"]);
    assert_eq!(reply(&mut r, &["GET", &key1]), "after-restart");
    assert_eq!(reply(&mut r, &["CLUSTERX", "VERSION"]), "2");
}

#[test]
fn routing_errors_on_raw_connections() {
    if against_redis() {
        return;
    }
    let a = start_node(&[]);
    let b = start_node(&[]);
    let (ida, idb) = (node_id(0), node_id(1));
    // Slots 10000-16383 are served by no one.
    let lines = format!(
        "{ida} 127.0.0.1 {} master - 0-5000\n{idb} 127.0.0.1 {} master - 5001-9999",
        a.port, b.port
    );
    let mut ca = a.client();
    let mut cb = b.client();
    for c in [&mut ca, &mut cb] {
        let _: () = q(c, &["CLUSTERX", "SETNODES", &lines, "1"]);
    }
    // Each node found itself by its port.
    assert_eq!(reply(&mut ca, &["CLUSTERX", "MYID"]), ida);
    assert_eq!(reply(&mut cb, &["CLUSTER", "MYID"]), idb);
    // foo is slot 12182 (unassigned), bar 5061 (b), hello 866 (a).
    assert_eq!(
        err(&mut ca, &["GET", "foo"]),
        "CLUSTERDOWN Hash slot not served"
    );
    let info: String = q(&mut ca, &["CLUSTER", "INFO"]);
    assert!(info.contains("cluster_state:fail\r\n"), "{info}");
    assert!(info.contains("cluster_slots_assigned:10000\r\n"), "{info}");
    assert_eq!(
        err(&mut ca, &["SET", "bar", "1"]),
        format!("MOVED 5061 127.0.0.1:{}", b.port)
    );
    assert_eq!(reply(&mut cb, &["SET", "bar", "1"]), "OK");
    assert_eq!(reply(&mut ca, &["SET", "hello", "1"]), "OK");
    assert_eq!(
        err(&mut ca, &["MSET", "hello", "1", "bar", "2"]),
        "CROSSSLOT Keys in request don't hash to the same slot"
    );
    // Hash tags put keys in one slot.
    assert_eq!(slot_of("{hello}.a"), 866);
    assert_eq!(
        reply(&mut ca, &["MSET", "{hello}.a", "1", "{hello}.b", "2"]),
        "OK"
    );
    assert_eq!(reply(&mut ca, &["CLUSTER", "COUNTKEYSINSLOT", "866"]), "3");
    // Blocking commands on many keys: all in one slot.
    assert_eq!(
        err(&mut ca, &["BLPOP", "hello", "bar", "1"]),
        "CROSSSLOT Keys in request don't hash to the same slot"
    );
    // Commands without keys run anywhere.
    assert_eq!(reply(&mut ca, &["PING"]), "PONG");

    // MULTI: a command that is not served here dooms the transaction, a
    // transaction across slots is refused at EXEC and discarded.
    assert_eq!(reply(&mut ca, &["MULTI"]), "OK");
    assert!(err(&mut ca, &["SET", "bar", "x"]).starts_with("MOVED 5061"));
    assert!(err(&mut ca, &["EXEC"]).starts_with("EXECABORT"));
    assert_eq!(reply(&mut ca, &["MULTI"]), "OK");
    assert_eq!(reply(&mut ca, &["SET", "hello", "x"]), "QUEUED");
    assert_eq!(reply(&mut ca, &["SET", "{hello}.a", "y"]), "QUEUED");
    assert_eq!(reply(&mut ca, &["EXEC"]), "[OK,OK]");
    let a_key_of_a = "key:0";
    assert!(slot_of(a_key_of_a) <= 5000, "{}", slot_of(a_key_of_a));
    assert_eq!(reply(&mut ca, &["MULTI"]), "OK");
    assert_eq!(reply(&mut ca, &["SET", "hello", "x"]), "QUEUED");
    assert_eq!(reply(&mut ca, &["SET", a_key_of_a, "y"]), "QUEUED");
    assert_eq!(
        err(&mut ca, &["EXEC"]),
        "CROSSSLOT Keys in request don't hash to the same slot"
    );
    // The transaction is gone.
    assert_eq!(err(&mut ca, &["EXEC"]), "ERR EXEC without MULTI");
    assert_eq!(reply(&mut ca, &["GET", a_key_of_a]), "nil");

    // Scripts: declared keys in one slot, and the script's commands stay
    // on this node (tests/it/cluster_scripts.rs has the rest).
    assert_eq!(
        err(&mut ca, &["EVAL", "return 1", "2", "hello", a_key_of_a]),
        "CROSSSLOT Keys in request don't hash to the same slot"
    );
    assert!(err(&mut ca, &["EVAL", "return 1", "1", "bar"]).starts_with("MOVED 5061"));
    assert_eq!(
        reply(
            &mut ca,
            &[
                "EVAL",
                "return redis.call('get', KEYS[1])",
                "1",
                "{hello}.a"
            ]
        ),
        "y"
    );
    let e = err(&mut ca, &["EVAL", "return redis.call('get', 'bar')", "0"]);
    assert!(e.contains("non local key"), "{e}");
    // A script with a shebang stays in its keys' slot; one without (Redis's
    // compatibility mode) may touch several slots served here.
    let e = err(
        &mut ca,
        &[
            "EVAL",
            "#!lua\nreturn redis.call('get', ARGV[1])",
            "1",
            "hello",
            a_key_of_a,
        ],
    );
    assert!(e.contains("do not hash to the same slot"), "{e}");
    assert_eq!(
        reply(
            &mut ca,
            &[
                "EVAL",
                "return redis.call('get', ARGV[1])",
                "1",
                "hello",
                a_key_of_a,
            ],
        ),
        "nil"
    );

    // SORT's BY and GET patterns must form keys of the sorted key's slot.
    assert_eq!(
        err(&mut ca, &["SORT", "{hello}.l", "BY", "w_*"]),
        "ERR BY option of SORT denied in Cluster mode when keys formed by the pattern may be in different slots."
    );
    assert_eq!(
        err(&mut ca, &["SORT", "{hello}.l", "GET", "w_*"]),
        "ERR GET option of SORT denied in Cluster mode when keys formed by the pattern may be in different slots."
    );
    let _: () = q(&mut ca, &["RPUSH", "{hello}.l", "2", "1"]);
    let _: () = q(&mut ca, &["MSET", "{hello}w_1", "9", "{hello}w_2", "3"]);
    assert_eq!(
        reply(
            &mut ca,
            &["SORT", "{hello}.l", "BY", "{hello}w_*", "GET", "{hello}w_*"]
        ),
        "[3,9]"
    );

    // Shard channels are routed by slot.
    assert!(err(&mut ca, &["SPUBLISH", "bar", "m"]).starts_with("MOVED 5061"));
    assert_eq!(reply(&mut ca, &["SPUBLISH", "hello", "m"]), "0");

    // SETSLOT moves a slot to b, as the next version: a now redirects.
    assert_eq!(
        err(&mut ca, &["CLUSTERX", "SETSLOT", "866", "NODE", &idb, "3"]),
        "ERR Invalid cluster version"
    );
    for c in [&mut ca, &mut cb] {
        let _: () = q(c, &["CLUSTERX", "SETSLOT", "866", "NODE", &idb, "2"]);
    }
    assert_eq!(reply(&mut ca, &["CLUSTERX", "VERSION"]), "2");
    assert_eq!(
        err(&mut ca, &["GET", "hello"]),
        format!("MOVED 866 127.0.0.1:{}", b.port)
    );
    // (the data stays where it was: moving it is CLUSTERX MIGRATE's job)
    assert_eq!(reply(&mut cb, &["GET", "hello"]), "nil");
    let nodes: String = q(&mut ca, &["CLUSTER", "NODES"]);
    let line_b = nodes.lines().find(|l| l.starts_with(&idb)).unwrap();
    assert!(line_b.ends_with(" connected 866 5001-9999"), "{line_b}");
}

#[test]
fn setnodes_validation_and_version_rules() {
    if against_redis() {
        return;
    }
    let s = start_node(&[]);
    let mut c = s.client();
    let (a, b) = (node_id(0), node_id(1));
    assert_eq!(reply(&mut c, &["CLUSTERX", "VERSION"]), "-1");
    assert_eq!(
        err(&mut c, &["CLUSTER", "INFO"]),
        "CLUSTERDOWN The cluster is not initialized"
    );
    assert_eq!(
        err(&mut c, &["GET", "k"]),
        "CLUSTERDOWN Hash slot not served"
    );
    let p = s.port;
    let cases = [
        ("".to_string(), "ERR Invalid cluster nodes info"),
        (
            format!("{a} 127.0.0.1 {p} master"),
            "ERR Invalid cluster nodes info",
        ),
        (
            format!("abc 127.0.0.1 {p} master -"),
            "ERR Invalid cluster node id",
        ),
        (
            format!("{a} 127.0.0.1 65536 master -"),
            "ERR Invalid cluster node port",
        ),
        (
            format!("{a} 127.0.0.1 {p} boss -"),
            "ERR Invalid cluster node role",
        ),
        (
            format!("{a} 127.0.0.1 {p} master {b}"),
            "ERR Invalid cluster node id",
        ),
        (
            format!("{a} 127.0.0.1 {p} slave -"),
            "ERR Invalid cluster node id",
        ),
        (
            format!("{a} 127.0.0.1 {p} slave {b} 0-10"),
            "ERR Invalid cluster nodes info",
        ),
        (
            format!("{a} 127.0.0.1 {p} master - 16384"),
            "ERR Slot is out of range",
        ),
        (
            format!("{a} 127.0.0.1 {p} master - 10-5"),
            "ERR Slot is out of range",
        ),
        (
            format!("{a} 127.0.0.1 {p} master - 0-10\n{b} 127.0.0.1 1 master - 5"),
            "ERR Slot distribution is overlapped",
        ),
        (
            format!("{a} 127.0.0.1 {p} master - 0-10 {b} 127.0.0.1 1 master - 11"),
            "ERR Invalid cluster nodes info: missing newline between node entries",
        ),
    ];
    for (lines, expected) in &cases {
        assert_eq!(
            err(&mut c, &["CLUSTERX", "SETNODES", lines, "1"]),
            *expected,
            "{lines}"
        );
    }
    // A failed SETNODES changes nothing.
    assert_eq!(reply(&mut c, &["CLUSTERX", "VERSION"]), "-1");
    assert_eq!(
        err(&mut c, &["CLUSTERX", "SETNODES", "x", "v"]),
        "ERR Invalid version"
    );
    let good = format!("{a} 127.0.0.1 {p} master - 0-16383\n{b} 127.0.0.1 1 slave {a}");
    assert_eq!(
        err(&mut c, &["CLUSTERX", "SETNODES", &good, "5", "now"]),
        "ERR Invalid setnodes options"
    );
    assert_eq!(reply(&mut c, &["CLUSTERX", "SETNODES", &good, "5"]), "OK");
    assert_eq!(reply(&mut c, &["CLUSTERX", "VERSION"]), "5");
    // Lower: refused; equal: a no-op (even with other lines); force: applied.
    assert_eq!(
        err(&mut c, &["CLUSTERX", "SETNODES", &good, "4"]),
        "ERR Invalid cluster version"
    );
    assert_eq!(reply(&mut c, &["CLUSTERX", "SETNODES", "junk", "5"]), "OK");
    assert_eq!(
        reply(&mut c, &["CLUSTERX", "SETNODES", &good, "3", "FORCE"]),
        "OK"
    );
    assert_eq!(reply(&mut c, &["CLUSTERX", "VERSION"]), "3");
    // SETSLOT: the next version exactly, a known master.
    let setslot = |c: &mut Connection, slots: &str, id: &str, v: &str| {
        err(c, &["CLUSTERX", "SETSLOT", slots, "NODE", id, v])
    };
    assert_eq!(setslot(&mut c, "1", &a, "3"), "ERR Invalid cluster version");
    assert_eq!(setslot(&mut c, "1", &b, "4"), "ERR The node isn't a master");
    assert_eq!(
        setslot(&mut c, "1", &node_id(9), "4"),
        "ERR No this node in the cluster"
    );
    assert_eq!(setslot(&mut c, "1", "short", "4"), "ERR Invalid node id");
    assert_eq!(
        setslot(&mut c, "16384", &a, "4"),
        "ERR Invalid slot id: out of numeric range"
    );
    assert!(setslot(&mut c, "9-2", &a, "4").contains("(int1 <= int2)"));
    assert_eq!(
        err(&mut c, &["CLUSTERX", "SETSLOT", "1", "NOD", &a, "4"]),
        "ERR Invalid setslot options"
    );
    assert_eq!(
        err(&mut c, &["CLUSTERX", "SETNODEID", "short"]),
        "ERR CLUSTERX command, CLUSTERX VERSION|MYID|SETNODEID|SETNODES|SETSLOT|MIGRATE"
    );
    assert_eq!(
        err(&mut c, &["CLUSTERX", "MIGRATE", "1", &b, "later"]),
        "ERR Invalid sync flag"
    );
    // The topology decides replication here.
    assert_eq!(
        err(&mut c, &["REPLICAOF", "127.0.0.1", "1"]),
        "ERR can't change to slave in cluster mode"
    );
    assert!(err(&mut c, &["CLUSTER", "ADDSLOTS", "1"]).contains("CLUSTERX"));

    // Formats: SLOTS (Redis 7: each node with a map of more endpoints),
    // SHARDS, NODES, REPLICAS, MYSHARDID.
    let slots: Value = q(&mut c, &["CLUSTER", "SLOTS"]);
    let rendered = basalt_tests::client::show(&slots);
    assert_eq!(
        rendered,
        format!("[[0,16383,[127.0.0.1,{p},{a},[]],[127.0.0.1,1,{b},[]]]]")
    );
    let shards = reply(&mut c, &["CLUSTER", "SHARDS"]);
    assert!(
        shards.starts_with(&format!(
            "[[slots,[0,16383],nodes,[[id,{a},port,{p},ip,127.0.0.1,endpoint,127.0.0.1,role,master,replication-offset,"
        )),
        "{shards}"
    );
    assert!(
        shards.ends_with(&format!(
            "[id,{b},port,1,ip,127.0.0.1,endpoint,127.0.0.1,role,replica,replication-offset,0,health,fail]]]]"
        )),
        // The replica (port 1) is not connected to this master.
        "{shards}"
    );
    let nodes: String = q(&mut c, &["CLUSTER", "NODES"]);
    let lines: Vec<&str> = nodes.lines().collect();
    assert_eq!(lines.len(), 2, "{nodes}");
    let f: Vec<&str> = lines[0].split(' ').collect();
    assert_eq!(f[0], a);
    assert_eq!(f[1], format!("127.0.0.1:{p}@{}", p as u32 + 10000));
    assert_eq!(f[2], "myself,master");
    assert_eq!(f[3], "-");
    assert_eq!((f[6], f[7], f[8]), ("3", "connected", "0-16383"));
    let f: Vec<&str> = lines[1].split(' ').collect();
    assert_eq!((f[2], f[3], f.len()), ("slave", a.as_str(), 8));
    // The same line, but for the ping/pong times (the clock moved on).
    let replicas: Vec<String> = q(&mut c, &["CLUSTER", "REPLICAS", &a]);
    let without_times = |l: &str| {
        let mut f: Vec<String> = l.split(' ').map(String::from).collect();
        f.drain(4..6);
        f
    };
    assert_eq!(replicas.len(), 1);
    assert_eq!(without_times(&replicas[0]), without_times(lines[1]));
    assert_eq!(
        err(&mut c, &["CLUSTER", "REPLICAS", &node_id(7)]),
        format!("ERR Unknown node {}", node_id(7))
    );
    assert_eq!(reply(&mut c, &["CLUSTER", "MYSHARDID"]), a);
    assert_eq!(
        err(&mut c, &["CLUSTER", "COUNTKEYSINSLOT", "16384"]),
        "ERR Invalid slot"
    );
    assert_eq!(
        err(&mut c, &["CLUSTER", "GETKEYSINSLOT", "1", "-1"]),
        "ERR Invalid slot or number of keys"
    );
    let info: String = q(&mut c, &["CLUSTER", "INFO"]);
    for field in [
        "cluster_state:ok",
        "cluster_slots_assigned:16384",
        "cluster_known_nodes:2",
        "cluster_size:1",
        "cluster_current_epoch:3",
    ] {
        assert!(info.contains(&format!("{field}\r\n")), "{field} in {info}");
    }

    // RESET: refused with data, then forgets the topology.
    let _: () = q(&mut c, &["SET", "k", "v"]);
    assert_eq!(
        err(&mut c, &["CLUSTER", "RESET"]),
        "ERR Can't reset cluster while database is not empty"
    );
    let _: () = q(&mut c, &["DEL", "k"]);
    assert_eq!(reply(&mut c, &["CLUSTER", "RESET", "HARD"]), "OK");
    assert_eq!(reply(&mut c, &["CLUSTERX", "VERSION"]), "-1");
    assert!(!s.data_dir().join("nodes.conf").exists());
}

#[test]
fn nodes_conf_survives_a_restart() {
    if against_redis() {
        return;
    }
    let mut s = start_node(&[]);
    let (a, b) = (node_id(0), node_id(1));
    let lines = format!(
        "{a} 127.0.0.1 {} master - 0-100 200 300-16383\n{b} 127.0.0.1 1 master - 101-199 201-299",
        s.port
    );
    {
        let mut c = s.client();
        let _: () = q(&mut c, &["CLUSTERX", "SETNODEID", &a]);
        let _: () = q(&mut c, &["CLUSTERX", "SETNODES", &lines, "7"]);
        let _: () = q(&mut c, &["SET", "foo", "bar"]);
    }
    let conf = std::fs::read_to_string(s.data_dir().join("nodes.conf")).unwrap();
    assert_eq!(
        conf,
        format!(
            "version 7\nid {a}\nnode {a} 127.0.0.1 {} master - 0-100 200 300-16383\n\
             node {b} 127.0.0.1 1 master - 101-199 201-299\n",
            s.port
        )
    );
    let before = {
        let mut c = s.client();
        reply(&mut c, &["CLUSTER", "SLOTS"])
    };
    s.restart();
    let mut c = connect(&s, WAIT);
    assert_eq!(reply(&mut c, &["CLUSTERX", "VERSION"]), "7");
    assert_eq!(reply(&mut c, &["CLUSTERX", "MYID"]), a);
    assert_eq!(reply(&mut c, &["CLUSTER", "SLOTS"]), before);
    // The keys kept their slot encoding: foo (12182) is still found.
    assert_eq!(reply(&mut c, &["GET", "foo"]), "bar");
    assert_eq!(reply(&mut c, &["CLUSTER", "COUNTKEYSINSLOT", "12182"]), "1");
    assert_eq!(reply(&mut c, &["KEYS", "f*"]), "[foo]");
    // k78 is slot 195, served by the other node.
    assert_eq!(err(&mut c, &["GET", "k78"]), "MOVED 195 127.0.0.1:1");
}

#[test]
fn standalone_server_has_cluster_support_disabled() {
    if against_redis() {
        return;
    }
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(
        err(&mut c, &["CLUSTER", "INFO"]),
        "ERR This instance has cluster support disabled"
    );
    assert_eq!(
        err(&mut c, &["READONLY"]),
        "ERR This instance has cluster support disabled"
    );
    assert_eq!(
        err(&mut c, &["CLUSTERX", "VERSION"]),
        "ERR Cluster mode is not enabled"
    );
}

#[test]
fn redis_cli_follows_a_moved_redirect() {
    if against_redis()
        || std::process::Command::new("redis-cli")
            .arg("-v")
            .output()
            .is_err()
    {
        return;
    }
    let a = start_node(&[]);
    let b = start_node(&[]);
    let lines = format!(
        "{} 127.0.0.1 {} master - 0-8191\n{} 127.0.0.1 {} master - 8192-16383",
        node_id(0),
        a.port,
        node_id(1),
        b.port
    );
    for s in [&a, &b] {
        let _: () = q(&mut s.client(), &["CLUSTERX", "SETNODES", &lines, "1"]);
    }
    // foo is slot 12182: on b; redis-cli -c asks a and follows the MOVED.
    let out = std::process::Command::new("redis-cli")
        .args(["-c", "-p", &a.port.to_string(), "SET", "foo", "via-a"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "OK");
    assert_eq!(reply(&mut b.client(), &["GET", "foo"]), "via-a");
    assert_eq!(reply(&mut a.client(), &["DBSIZE"]), "0");
}

//! Scripts and functions in cluster mode, as Redis 7.0 checks them
//! (`scriptVerifyClusterState`, `scriptPrepareForRun`): the replies below
//! are those of a 3-master redis-server 7.0.15 cluster for the same calls.
//! Two real nodes: A serves 0-5460, B the rest. b (slot 3300), f (3168)
//! and j (3564) are A's; a (15495) is B's.

use basalt_tests::client::{err, q, reply};
use basalt_tests::cluster::{node_id, start_node};
use basalt_tests::{against_redis, Server};
use redis::Connection;

/// Nodes A and B, and a connection to A.
fn two_nodes() -> (Server, Server, Connection) {
    let a = start_node(&[]);
    let b = start_node(&[]);
    let lines = format!(
        "{} 127.0.0.1 {} master - 0-5460\n{} 127.0.0.1 {} master - 5461-16383",
        node_id(0),
        a.port,
        node_id(1),
        b.port
    );
    for (i, node) in [&a, &b].into_iter().enumerate() {
        let mut c = node.client();
        let _: () = q(&mut c, &["CLUSTERX", "SETNODEID", &node_id(i)]);
        let _: () = q(&mut c, &["CLUSTERX", "SETNODES", &lines, "1"]);
    }
    let c = a.client();
    (a, b, c)
}

/// The script error without its "script: <sha>, on @user_script:N." tail.
fn head(e: &str) -> &str {
    e.split(" script: ").next().unwrap_or(e)
}

const CROSS: &str = "ERR Script attempted to access keys that do not hash to the same slot";
const NON_LOCAL: &str = "ERR Script attempted to access a non local key in a cluster node";
const NO_CLUSTER: &str = "ERR Can not run script on cluster, 'no-cluster' flag is set.";

#[test]
fn script_flags_and_slots_in_cluster_mode() {
    if against_redis() {
        return;
    }
    let (_a, b, mut c) = two_nodes();
    let two_slots = "redis.call('set', 'b', '1'); return redis.call('set', 'f', '2')";

    // Without a shebang (compatibility mode) a script may touch keys of
    // several slots, each served here.
    assert_eq!(reply(&mut c, &["EVAL", two_slots, "0"]), "OK");
    // With one, it stays in the slot of the first key it touched...
    let e = err(&mut c, &["EVAL", &format!("#!lua\n{two_slots}"), "0"]);
    assert_eq!(head(&e), CROSS, "{e}");
    assert!(e.ends_with("on @user_script:2."), "{e}");
    // ... or of its declared keys.
    let e = err(
        &mut c,
        &["EVAL", "#!lua\nreturn redis.call('get', 'f')", "1", "b"],
    );
    assert_eq!(head(&e), CROSS, "{e}");
    // Unless it says allow-cross-slot-keys.
    let script = format!("#!lua flags=allow-cross-slot-keys\n{two_slots}");
    assert_eq!(reply(&mut c, &["EVAL", &script, "0"]), "OK");
    assert_eq!(reply(&mut c, &["GET", "f"]), "2");

    // A key another node serves is refused whatever the flags; so is one
    // command's keys across slots.
    let e = err(&mut c, &["EVAL", "return redis.call('set', 'a', '1')", "0"]);
    assert_eq!(head(&e), NON_LOCAL, "{e}");
    let e = err(
        &mut c,
        &[
            "EVAL",
            "#!lua flags=allow-cross-slot-keys\nreturn redis.call('mset', 'b', '1', 'f', '2')",
            "0",
        ],
    );
    assert_eq!(head(&e), NON_LOCAL, "{e}");
    // redis.pcall hands the error to the script, with Redis's text.
    assert_eq!(
        err(
            &mut c,
            &["EVAL", "return redis.pcall('set', 'a', '1')", "0"]
        ),
        NON_LOCAL
    );
    // Declared keys across slots: CROSSSLOT, whatever the flags.
    for script in ["return 1", "#!lua flags=allow-cross-slot-keys\nreturn 1"] {
        assert_eq!(
            err(&mut c, &["EVAL", script, "2", "b", "f"]),
            "CROSSSLOT Keys in request don't hash to the same slot"
        );
    }

    // no-cluster: refused in cluster mode, after routing.
    assert_eq!(
        err(&mut c, &["EVAL", "#!lua flags=no-cluster\nreturn 1", "0"]),
        NO_CLUSTER
    );
    assert_eq!(
        err(
            &mut c,
            &["EVAL", "#!lua flags=no-cluster\nreturn 1", "1", "a"]
        ),
        format!("MOVED 15495 127.0.0.1:{}", b.port)
    );

    // Functions: the flags given to register_function.
    let lib = "#!lua name=lib\n\
        redis.register_function{function_name='f1', callback=function(k, a) redis.call('set', 'b', '1'); return redis.call('set', 'f', '2') end}\n\
        redis.register_function{function_name='f2', callback=function(k, a) redis.call('set', 'b', '1'); return redis.call('set', 'f', '2') end, flags={'allow-cross-slot-keys'}}\n\
        redis.register_function{function_name='f3', callback=function(k, a) return 1 end, flags={'no-cluster'}}";
    assert_eq!(reply(&mut c, &["FUNCTION", "LOAD", lib]), "lib");
    let e = err(&mut c, &["FCALL", "f1", "0"]);
    assert_eq!(
        e,
        format!("{CROSS} script: f1, on @user_function:2."),
        "{e}"
    );
    assert_eq!(reply(&mut c, &["FCALL", "f2", "0"]), "OK");
    assert_eq!(err(&mut c, &["FCALL", "f3", "0"]), NO_CLUSTER);
    // no-cluster is checked before the write flag of FCALL_RO.
    assert_eq!(err(&mut c, &["FCALL_RO", "f3", "0"]), NO_CLUSTER);

    // A script that runs long enough to leave the connection's thread
    // keeps its declared keys' slot there.
    let slow = "#!lua\nlocal t = 0\nfor i = 1, 3000000 do t = t + i end\nreturn redis.call('get', ARGV[1])";
    for _ in 0..2 {
        let e = err(&mut c, &["EVAL", slow, "1", "b", "j"]);
        assert_eq!(head(&e), CROSS, "{e}");
        assert_eq!(reply(&mut c, &["EVAL", slow, "1", "b", "b"]), "1");
    }
}

#[test]
fn no_cluster_scripts_run_outside_cluster_mode() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(
        reply(&mut c, &["EVAL", "#!lua flags=no-cluster\nreturn 1", "0"]),
        "1"
    );
}

//! Geo commands: members of a sorted set scored by Redis's 52-bit geohash,
//! searched and measured exactly as Redis 7.0 does.

use basalt_tests::client::{err, int, q, reply};
use basalt_tests::Server;

#[test]
fn geoadd_scores_members_by_their_geohash() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(
        int(
            &mut c,
            &[
                "GEOADD",
                "g",
                "13.361389",
                "38.115556",
                "Palermo",
                "15.087269",
                "37.502669",
                "Catania"
            ]
        ),
        2
    );
    // The scores Redis gives the same points.
    assert_eq!(
        q::<String>(&mut c, &["ZSCORE", "g", "Palermo"]),
        "3479099956230698"
    );
    assert_eq!(
        q::<String>(&mut c, &["ZSCORE", "g", "Catania"]),
        "3479447370796909"
    );
    assert_eq!(q::<String>(&mut c, &["TYPE", "g"]), "zset");
    // NX leaves existing members; XX adds none; CH counts moves.
    assert_eq!(int(&mut c, &["GEOADD", "g", "NX", "0", "0", "Palermo"]), 0);
    assert_eq!(int(&mut c, &["GEOADD", "g", "XX", "0", "0", "Nowhere"]), 0);
    assert_eq!(int(&mut c, &["ZCARD", "g"]), 2);
    assert_eq!(
        int(
            &mut c,
            &["GEOADD", "g", "CH", "1", "1", "Palermo", "2", "2", "Rome"]
        ),
        2
    );
}

#[test]
fn geoadd_errors() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(
        err(&mut c, &["GEOADD", "g", "200", "0", "x"]),
        "ERR invalid longitude,latitude pair 200.000000,0.000000"
    );
    assert_eq!(
        err(&mut c, &["GEOADD", "g", "0", "86", "x"]),
        "ERR invalid longitude,latitude pair 0.000000,86.000000"
    );
    assert_eq!(
        err(&mut c, &["GEOADD", "g", "NX", "1", "2"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["GEOADD", "g", "NX", "XX", "1", "2", "m"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["GEOADD", "g", "a", "2", "m"]),
        "ERR value is not a valid float"
    );
    assert_eq!(int(&mut c, &["EXISTS", "g"]), 0);
    q::<()>(&mut c, &["SET", "s", "v"]);
    assert!(err(&mut c, &["GEOADD", "s", "1", "2", "m"]).starts_with("WRONGTYPE"));
}

/// Sicily with two points near the edges of Redis's search cells; every
/// expected reply below is redis-server 7.0.15's to the same command.
fn sicily(c: &mut redis::Connection) {
    assert_eq!(
        reply(
            c,
            &[
                "GEOADD",
                "Sicily",
                "13.361389",
                "38.115556",
                "Palermo",
                "15.087269",
                "37.502669",
                "Catania",
                "12.758489",
                "38.788135",
                "edge1",
                "17.241510",
                "38.788135",
                "edge2"
            ]
        ),
        "4"
    );
}

#[test]
fn geodist_geopos_geohash_and_searches_answer_as_redis() {
    let server = Server::start();
    let mut c = server.client();
    sicily(&mut c);
    assert_eq!(
        reply(&mut c, &["GEODIST", "Sicily", "Palermo", "Catania"]),
        "166274.1516"
    );
    assert_eq!(
        reply(&mut c, &["GEODIST", "Sicily", "Palermo", "Catania", "km"]),
        "166.2742"
    );
    assert_eq!(
        reply(&mut c, &["GEODIST", "Sicily", "Palermo", "Catania", "MI"]),
        "103.3182"
    );
    assert_eq!(
        reply(&mut c, &["GEODIST", "Sicily", "Palermo", "Catania", "ft"]),
        "545518.8700"
    );
    assert_eq!(
        reply(&mut c, &["GEODIST", "Sicily", "Palermo", "nope"]),
        "nil"
    );
    assert_eq!(reply(&mut c, &["GEODIST", "nokey", "a", "b"]), "nil");
    assert_eq!(reply(&mut c, &["GEOPOS", "Sicily", "Palermo", "nope", "Catania"]), "[[13.36138933897018433,38.11555639549629859],nil,[15.08726745843887329,37.50266842333162032]]");
    assert_eq!(
        reply(&mut c, &["GEOHASH", "Sicily", "Palermo", "Catania", "nope"]),
        "[sqc8b49rny0,sqdtr74hyu0,nil]"
    );
    assert_eq!(reply(&mut c, &["GEOHASH", "nokey", "a"]), "[nil]");
    assert_eq!(
        reply(
            &mut c,
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST"]
        ),
        "[[Palermo,190.4424],[Catania,56.4413]]"
    );
    assert_eq!(reply(&mut c, &["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHCOORD"]), "[[Palermo,[13.36138933897018433,38.11555639549629859]],[Catania,[15.08726745843887329,37.50266842333162032]]]");
    assert_eq!(reply(&mut c, &["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH"]), "[[Palermo,190.4424,3479099956230698,[13.36138933897018433,38.11555639549629859]],[Catania,56.4413,3479447370796909,[15.08726745843887329,37.50266842333162032]]]");
    assert_eq!(
        reply(&mut c, &["GEORADIUS", "Sicily", "15", "37", "200", "km"]),
        "[Palermo,Catania]"
    );
    assert_eq!(
        reply(
            &mut c,
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "DESC"]
        ),
        "[Palermo,Catania]"
    );
    assert_eq!(
        reply(
            &mut c,
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1"]
        ),
        "[Catania]"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEORADIUS",
                "Sicily",
                "15",
                "37",
                "200",
                "km",
                "COUNT",
                "1",
                "DESC"
            ]
        ),
        "[Palermo]"
    );
    assert_eq!(
        reply(
            &mut c,
            &["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "ASC"]
        ),
        "[Catania,Palermo]"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEORADIUSBYMEMBER",
                "Sicily",
                "Palermo",
                "100",
                "km",
                "WITHDIST"
            ]
        ),
        "[[Palermo,0.0000],[edge1,91.4007]]"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEORADIUSBYMEMBER_RO",
                "Sicily",
                "Palermo",
                "500",
                "km",
                "DESC",
                "WITHDIST"
            ]
        ),
        "[[edge2,346.1273],[Catania,166.2742],[edge1,91.4007],[Palermo,0.0000]]"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km",
                "ASC"
            ]
        ),
        "[Catania,Palermo]"
    );
    assert_eq!(reply(&mut c, &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC", "WITHCOORD", "WITHDIST", "WITHHASH"]), "[[Catania,56.4413,3479447370796909,[15.08726745843887329,37.50266842333162032]],[Palermo,190.4424,3479099956230698,[13.36138933897018433,38.11555639549629859]]]");
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYBOX",
                "400",
                "400",
                "km",
                "ASC",
                "WITHDIST"
            ]
        ),
        "[[Catania,56.4413],[Palermo,190.4424],[edge2,279.7403],[edge1,279.7405]]"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMMEMBER",
                "Palermo",
                "BYBOX",
                "200",
                "200",
                "km",
                "DESC"
            ]
        ),
        "[edge1,Palermo]"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "mi",
                "ASC",
                "COUNT",
                "1",
                "ANY"
            ]
        ),
        "[Palermo]"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEOSEARCH",
                "nokey",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km"
            ]
        ),
        "[]"
    );
}

#[test]
fn search_errors_are_redis_errors() {
    let server = Server::start();
    let mut c = server.client();
    sicily(&mut c);
    assert_eq!(
        reply(&mut c, &["GEORADIUS", "Sicily", "200", "0", "1", "km"]),
        "ERR invalid longitude,latitude pair 200.000000,0.000000"
    );
    assert_eq!(
        reply(&mut c, &["GEORADIUS", "Sicily", "0", "0", "-1", "km"]),
        "ERR radius cannot be negative"
    );
    assert_eq!(
        reply(&mut c, &["GEORADIUS", "Sicily", "0", "0", "abc", "km"]),
        "ERR need numeric radius"
    );
    assert_eq!(
        reply(&mut c, &["GEORADIUS", "Sicily", "0", "0", "1", "parsec"]),
        "ERR unsupported unit provided. please use M, KM, FT, MI"
    );
    assert_eq!(
        reply(
            &mut c,
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "0"]
        ),
        "ERR COUNT must be > 0"
    );
    assert_eq!(
        reply(
            &mut c,
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "x"]
        ),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        reply(
            &mut c,
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "ANY"]
        ),
        "ERR the ANY argument requires COUNT argument"
    );
    assert_eq!(reply(&mut c, &["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "STORE", "dst"]), "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options");
    assert_eq!(
        reply(
            &mut c,
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "FOO"]
        ),
        "ERR syntax error"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEORADIUS_RO",
                "Sicily",
                "15",
                "37",
                "200",
                "km",
                "STORE",
                "dst"
            ]
        ),
        "ERR syntax error"
    );
    assert_eq!(
        reply(
            &mut c,
            &["GEORADIUSBYMEMBER", "Sicily", "nope", "100", "km"]
        ),
        "ERR could not decode requested zset member"
    );
    assert_eq!(
        reply(&mut c, &["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo"]),
        "ERR wrong number of arguments for 'geosearch' command"
    );
    assert_eq!(
        reply(&mut c, &["GEOSEARCH", "Sicily", "BYRADIUS", "10", "km"]),
        "ERR wrong number of arguments for 'geosearch' command"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "10",
                "km",
                "BYBOX",
                "1",
                "1",
                "km"
            ]
        ),
        "ERR syntax error"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYBOX",
                "-1",
                "1",
                "km"
            ]
        ),
        "ERR height or width cannot be negative"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYBOX",
                "x",
                "1",
                "km"
            ]
        ),
        "ERR need numeric width"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYBOX",
                "1",
                "y",
                "km"
            ]
        ),
        "ERR need numeric height"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km",
                "STOREDIST"
            ]
        ),
        "ERR syntax error"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEOSEARCHSTORE",
                "dst",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km",
                "WITHDIST"
            ]
        ),
        "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
    );
    assert_eq!(
        reply(
            &mut c,
            &["GEODIST", "Sicily", "Palermo", "Catania", "km", "x"]
        ),
        "ERR syntax error"
    );
    assert_eq!(
        reply(
            &mut c,
            &["GEODIST", "Sicily", "Palermo", "Catania", "parsec"]
        ),
        "ERR unsupported unit provided. please use M, KM, FT, MI"
    );
    assert_eq!(
        reply(
            &mut c,
            &["geosearch", "Sicily", "BYRADIUS", "10", "km", "WITHDIST"]
        ),
        "ERR wrong number of arguments for 'geosearch' command"
    );
    assert_eq!(
        reply(
            &mut c,
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "WITHDIST"]
        ),
        "ERR wrong number of arguments for 'geosearch' command"
    );
    q::<()>(&mut c, &["SET", "s", "v"]);
    for cmd in [
        vec!["GEORADIUS", "s", "0", "0", "1", "km"],
        vec![
            "GEOSEARCH",
            "s",
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "1",
            "km",
        ],
        vec!["GEODIST", "s", "a", "b"],
        vec!["GEOPOS", "s", "a"],
        vec!["GEOHASH", "s", "a"],
    ] {
        assert!(err(&mut c, &cmd).starts_with("WRONGTYPE"), "{cmd:?}");
    }
}

#[test]
fn store_and_storedist_replace_the_destination() {
    let server = Server::start();
    let mut c = server.client();
    sicily(&mut c);
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEORADIUS",
                "Sicily",
                "15",
                "37",
                "200",
                "km",
                "STORE",
                "dst"
            ]
        ),
        "2"
    );
    assert_eq!(
        reply(&mut c, &["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        "[Palermo,3479099956230698,Catania,3479447370796909]"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEORADIUS",
                "Sicily",
                "15",
                "37",
                "200",
                "km",
                "STOREDIST",
                "dst",
                "ASC"
            ]
        ),
        "2"
    );
    // Scores compared as numbers: how a score is printed is ZRANGE's business.
    assert_eq!(
        q::<f64>(&mut c, &["ZSCORE", "dst", "Catania"]),
        56.4412578701582
    );
    assert_eq!(
        q::<f64>(&mut c, &["ZSCORE", "dst", "Palermo"]),
        190.44242984775784
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEOSEARCHSTORE",
                "dst",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYBOX",
                "400",
                "400",
                "km",
                "ASC",
                "COUNT",
                "3"
            ]
        ),
        "3"
    );
    assert_eq!(
        reply(&mut c, &["ZRANGE", "dst", "0", "-1"]),
        "[Palermo,Catania,edge2]"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEOSEARCHSTORE",
                "dst",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "1",
                "m"
            ]
        ),
        "0"
    );
    assert_eq!(reply(&mut c, &["EXISTS", "dst"]), "0");
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEOSEARCHSTORE",
                "dst",
                "Sicily",
                "FROMMEMBER",
                "Palermo",
                "BYRADIUS",
                "100",
                "km",
                "STOREDIST"
            ]
        ),
        "2"
    );
    assert_eq!(
        reply(&mut c, &["ZRANGE", "dst", "0", "-1"]),
        "[Palermo,edge1]"
    );
    assert_eq!(
        q::<f64>(&mut c, &["ZSCORE", "dst", "edge1"]),
        91.40065860581427
    );
    assert_eq!(q::<f64>(&mut c, &["ZSCORE", "dst", "Palermo"]), 0.0);
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEORADIUSBYMEMBER",
                "nokey",
                "nope",
                "-100",
                "km",
                "STORE",
                "dst"
            ]
        ),
        "0"
    );
    assert_eq!(reply(&mut c, &["EXISTS", "dst"]), "0");
}

#[test]
fn huge_radii_and_counts_do_not_break_the_search() {
    let server = Server::start();
    let mut c = server.client();
    sicily(&mut c);
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "1e308",
                "km",
                "COUNT",
                "1"
            ]
        ),
        "[Catania]"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "inf",
                "km",
                "COUNT",
                "1"
            ]
        ),
        "[Catania]"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYBOX",
                "inf",
                "inf",
                "m",
                "COUNT",
                "1"
            ]
        ),
        "[Catania]"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "GEORADIUS",
                "Sicily",
                "15",
                "37",
                "200",
                "km",
                "COUNT",
                "9223372036854775807",
                "ANY"
            ]
        ),
        "[Palermo,Catania]"
    );
}

#[test]
fn georadius_store_keys_are_movable() {
    let server = Server::start();
    let mut c = server.client();
    let info = reply(&mut c, &["COMMAND", "INFO", "georadius"]);
    assert!(info.contains("movablekeys"), "{info}");
    assert_eq!(
        reply(
            &mut c,
            &[
                "COMMAND",
                "GETKEYS",
                "GEORADIUS",
                "src",
                "0",
                "0",
                "1",
                "km",
                "STORE",
                "dst"
            ]
        ),
        "[src,dst]"
    );
    assert_eq!(
        reply(
            &mut c,
            &[
                "COMMAND",
                "GETKEYS",
                "GEORADIUSBYMEMBER",
                "src",
                "m",
                "1",
                "km",
                "STOREDIST",
                "dst"
            ]
        ),
        "[src,dst]"
    );
}

//! GEOADD: members of a sorted set scored by Redis's 52-bit geohash.

use basalt_tests::client::{err, int, q};
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

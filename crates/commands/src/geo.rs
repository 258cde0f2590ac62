//! Geo commands: members of a sorted set scored by their 52-bit geohash,
//! as in Redis (so ZRANGE, ZSCORE and the rest see the same set). Searches
//! follow Redis's `georadiusGeneric`: the 3x3 cells around the centre at
//! the step its radius estimate picks, each read as a score range, then
//! filtered by exact distance (or the box test) and optionally sorted.

use super::flags::*;
use super::key_flags::*;
use super::{float, is, Command};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::key_finder::KeyFinder;
use crate::notify::{dst_existed, emit_store, ZSET};
use basalt_core::key_spec::{BeginSearch, FindKeys, Shape as KeyShape};
use basalt_resp::{Protocol, Reply};
use basalt_types::geohash::{self, Search, Shape};
use basalt_types::number::parse_i64;
use basalt_types::zset::{RangeSpec, ScoreBound, ZAddOptions};
use basalt_types::Database;
use bytes::Bytes;

const fn geo_cmd(name: &'static str, arity: i32, flags: u32, handler: super::Handler) -> Command {
    Command::new(name, arity, flags, handler).group("geo")
}

/// A STORE or STOREDIST destination, searched from `start` like Redis's
/// keyword key specs.
const fn store_keyword(keyword: &'static str, start: i32) -> KeyShape {
    KeyShape {
        begin: BeginSearch::Keyword {
            keyword,
            start_from: start,
        },
        find: FindKeys::Range {
            last: 0,
            step: 1,
            limit: 0,
        },
    }
}

/// GEORADIUS: the source key, then STORE/STOREDIST after the centre and
/// radius (argument 6 on).
const GEORADIUS_KEYS: KeyFinder = KeyFinder::Specs(&[
    KeyShape::key_at(1),
    store_keyword("STORE", 6),
    store_keyword("STOREDIST", 6),
]);
/// GEORADIUSBYMEMBER: the same, one argument earlier (a member, not a
/// longitude and latitude).
const GEORADIUSBYMEMBER_KEYS: KeyFinder = KeyFinder::Specs(&[
    KeyShape::key_at(1),
    store_keyword("STORE", 5),
    store_keyword("STOREDIST", 5),
]);

pub static COMMANDS: &[Command] = &[
    geo_cmd("geoadd", -5, WRITE | DENYOOM, geoadd).syntax("key [condition: NX | XX] [change: CH] longitude:double latitude:double member [longitude:double latitude:double member ...]")
    .keys(1, 1, 1)
    .key_flags(&[RW | UPDATE])
    .since("3.2.0")
    .summary(
        "Adds one or more members to a geospatial index. The key is created if it doesn't exist.",
    ),
    geo_cmd("geodist", -4, READONLY, geodist).syntax("key member1 member2 [unit: M | KM | FT | MI]").keys(1, 1, 1).key_flags(&[RO | ACCESS]).since("3.2.0").summary("Returns the distance between two members of a geospatial index."),
    geo_cmd("geohash", -2, READONLY, geohash_cmd).syntax("key [member [member ...]]").keys(1, 1, 1).key_flags(&[RO | ACCESS]).since("3.2.0").summary("Returns members from a geospatial index as geohash strings."),
    geo_cmd("geopos", -2, READONLY, geopos).syntax("key [member [member ...]]").keys(1, 1, 1).key_flags(&[RO | ACCESS]).since("3.2.0").summary("Returns the longitude and latitude of members from a geospatial index."),
    geo_cmd("georadius", -6, WRITE | DENYOOM, georadius).syntax("key longitude:double latitude:double radius:double (unit: M | KM | FT | MI) [WITHCOORD] [WITHDIST] [WITHHASH] [count-block: COUNT count:integer [ANY]] [order: ASC | DESC] [store: STORE storekey:key@1 | STOREDIST storedistkey:key@2]").keys(1, 1, 1).key_flags(&[RO | ACCESS, OW | UPDATE, OW | UPDATE]).movable(GEORADIUS_KEYS).since("3.2.0").summary("Queries a geospatial index for members within a distance from a coordinate, optionally stores the result."),
    geo_cmd("georadiusbymember", -5, WRITE | DENYOOM, georadiusbymember).syntax("key member radius:double (unit: M | KM | FT | MI) [WITHCOORD] [WITHDIST] [WITHHASH] [count-block: COUNT count:integer [ANY]] [order: ASC | DESC] [store: STORE storekey:key@1 | STOREDIST storedistkey:key@2]").keys(1, 1, 1).key_flags(&[RO | ACCESS, OW | UPDATE, OW | UPDATE]).movable(GEORADIUSBYMEMBER_KEYS).since("3.2.0").summary("Queries a geospatial index for members within a distance from a member, optionally stores the result."),
    geo_cmd("georadius_ro", -6, READONLY, georadius_ro).syntax("key longitude:double latitude:double radius:double (unit: M | KM | FT | MI) [WITHCOORD] [WITHDIST] [WITHHASH] [count-block: COUNT count:integer [ANY]] [order: ASC | DESC]").keys(1, 1, 1).key_flags(&[RO | ACCESS]).since("3.2.10").summary("Returns members from a geospatial index that are within a distance from a coordinate."),
    geo_cmd("georadiusbymember_ro", -5, READONLY, georadiusbymember_ro).syntax("key member radius:double (unit: M | KM | FT | MI) [WITHCOORD] [WITHDIST] [WITHHASH] [count-block: COUNT count:integer [ANY]] [order: ASC | DESC]").keys(1, 1, 1).key_flags(&[RO | ACCESS]).since("3.2.10").summary("Returns members from a geospatial index that are within a distance from a member."),
    geo_cmd("geosearch", -7, READONLY, geosearch).syntax("key (from: FROMMEMBER member | (fromlonlat: FROMLONLAT longitude:double latitude:double)) (by: (circle: BYRADIUS radius:double (unit: M | KM | FT | MI)) | (box: BYBOX width:double height:double (unit: M | KM | FT | MI))) [order: ASC | DESC] [count-block: COUNT count:integer [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]").keys(1, 1, 1).key_flags(&[RO | ACCESS]).since("6.2.0").summary("Queries a geospatial index for members inside an area of a box or a circle."),
    geo_cmd("geosearchstore", -8, WRITE | DENYOOM, geosearchstore).syntax("destination:key source:key (from: FROMMEMBER member | (fromlonlat: FROMLONLAT longitude:double latitude:double)) (by: (circle: BYRADIUS radius:double (unit: M | KM | FT | MI)) | (box: BYBOX width:double height:double (unit: M | KM | FT | MI))) [order: ASC | DESC] [count-block: COUNT count:integer [ANY]] [STOREDIST]").keys(1, 2, 1).key_flags(&[OW | UPDATE, RO | ACCESS]).since("6.2.0").summary("Queries a geospatial index for members inside an area of a box or a circle, optionally stores the result."),
];

fn geoadd(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut opts = ZAddOptions::default();
    let mut ch = false;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if is(a, "nx") {
            opts.nx = true;
        } else if is(a, "xx") {
            opts.xx = true;
        } else if is(a, "ch") {
            ch = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &args[i..];
    if !rest.len().is_multiple_of(3) || (opts.nx && opts.xx) {
        return Err(CommandError::Syntax);
    }
    let mut items = Vec::with_capacity(rest.len() / 3);
    for triple in rest.chunks_exact(3) {
        let (longitude, latitude) = (float(&triple[0])?, float(&triple[1])?);
        if !geohash::valid(longitude, latitude) {
            return Err(CommandError::other(format!(
                "ERR invalid longitude,latitude pair {longitude:.6},{latitude:.6}"
            )));
        }
        items.push((geohash::encode(longitude, latitude) as f64, &triple[2][..]));
    }
    let out = ctx.db().zadd(&args[1], opts, &items)?;
    if out.changed > 0 {
        // Redis runs GEOADD as a ZADD, and notifies it as one.
        ctx.notify(ZSET, "zadd", &args[1]);
    }
    Ok(Reply::Integer(
        if ch { out.changed } else { out.added } as i64
    ))
}

/// Geo errors, worded as Redis words them.
enum GeoError {
    Unit,
    Radius,
    NegativeRadius,
    Width,
    Height,
    NegativeBox,
    Member,
    Count,
    StoreWith(&'static str),
    From(String),
    By(String),
    AnyWithoutCount,
    Pair(f64, f64),
}

impl From<GeoError> for CommandError {
    fn from(e: GeoError) -> CommandError {
        CommandError::other(match e {
            GeoError::Unit => "ERR unsupported unit provided. please use M, KM, FT, MI".into(),
            GeoError::Radius => "ERR need numeric radius".into(),
            GeoError::NegativeRadius => "ERR radius cannot be negative".into(),
            GeoError::Width => "ERR need numeric width".into(),
            GeoError::Height => "ERR need numeric height".into(),
            GeoError::NegativeBox => "ERR height or width cannot be negative".into(),
            GeoError::Member => "ERR could not decode requested zset member".into(),
            GeoError::Count => "ERR COUNT must be > 0".into(),
            GeoError::StoreWith(what) => format!(
                "ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
            ),
            GeoError::From(cmd) => {
                format!("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {cmd}")
            }
            GeoError::By(cmd) => {
                format!("ERR exactly one of BYRADIUS and BYBOX can be specified for {cmd}")
            }
            GeoError::AnyWithoutCount => "ERR the ANY argument requires COUNT argument".into(),
            GeoError::Pair(lon, lat) => {
                format!("ERR invalid longitude,latitude pair {lon:.6},{lat:.6}")
            }
        })
    }
}

/// Metres per unit.
fn unit(arg: &[u8]) -> Result<f64, GeoError> {
    Ok(match arg.to_ascii_lowercase().as_slice() {
        b"m" => 1.0,
        b"km" => 1000.0,
        b"ft" => 0.3048,
        b"mi" => 1609.34,
        _ => return Err(GeoError::Unit),
    })
}

/// A longitude and latitude Redis accepts.
fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), CommandError> {
    let (lon, lat) = (float(lon)?, float(lat)?);
    if !geohash::valid(lon, lat) {
        return Err(GeoError::Pair(lon, lat).into());
    }
    Ok((lon, lat))
}

/// A member's position, decoded from its score.
fn member_position(db: &Database, key: &[u8], member: &[u8]) -> Result<(f64, f64), CommandError> {
    match db.zscore(key, member)? {
        Some(score) => Ok(geohash::decode(score as u64)),
        None => Err(GeoError::Member.into()),
    }
}

/// `radius unit`.
fn radius(args: &[Bytes]) -> Result<(f64, f64), GeoError> {
    let r = basalt_types::number::parse_f64(&args[0]).ok_or(GeoError::Radius)?;
    if r < 0.0 {
        return Err(GeoError::NegativeRadius);
    }
    Ok((r, unit(&args[1])?))
}

/// `width height unit`.
fn box_size(args: &[Bytes]) -> Result<(f64, f64, f64), GeoError> {
    let w = basalt_types::number::parse_f64(&args[0]).ok_or(GeoError::Width)?;
    let h = basalt_types::number::parse_f64(&args[1]).ok_or(GeoError::Height)?;
    if h < 0.0 || w < 0.0 {
        return Err(GeoError::NegativeBox);
    }
    Ok((w, h, unit(&args[2])?))
}

/// A distance as Redis prints it: rounded (half to even, like `llrint`)
/// to 4 decimals.
fn distance_text(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".into();
    }
    let scaled = (d * 10000.0).round_ties_even() as i64;
    let sign = if scaled < 0 { "-" } else { "" };
    let v = scaled.unsigned_abs();
    format!("{sign}{}.{:04}", v / 10000, v % 10000)
}

/// A coordinate as Redis 7.0 prints it (`addReplyHumanLongDouble`): 17
/// decimals with the trailing zeros cut.
fn coordinate(ctx: &Ctx, v: f64) -> Reply {
    let mut s = format!("{v:.17}");
    if s.contains('.') {
        let cut = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(cut);
    }
    if s == "-0" {
        s = "0".into();
    }
    if ctx.client.protocol == Protocol::Resp3 {
        Reply::Raw(Bytes::from(format!(",{s}\r\n")))
    } else {
        Reply::Bulk(Bytes::from(s))
    }
}

fn position(ctx: &Ctx, (lon, lat): (f64, f64)) -> Reply {
    Reply::Array(vec![coordinate(ctx, lon), coordinate(ctx, lat)])
}

fn geodist(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let to_metres = match args.len() {
        4 => 1.0,
        5 => unit(&args[4])?,
        _ => return Err(CommandError::Syntax),
    };
    let db = ctx.db();
    let (Some(a), Some(b)) = (
        db.zscore(&args[1], &args[2])?,
        db.zscore(&args[1], &args[3])?,
    ) else {
        return Ok(Reply::Null);
    };
    let ((lon1, lat1), (lon2, lat2)) = (geohash::decode(a as u64), geohash::decode(b as u64));
    let d = geohash::distance(lon1, lat1, lon2, lat2) / to_metres;
    Ok(Reply::Bulk(Bytes::from(distance_text(d))))
}

fn geohash_cmd(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let members: Vec<&[u8]> = args[2..].iter().map(|m| &m[..]).collect();
    let scores = ctx.db().zmscore(&args[1], &members)?;
    Ok(Reply::Array(
        scores
            .into_iter()
            .map(|s| match s {
                Some(s) => Reply::Bulk(Bytes::from(geohash::geohash_string(s))),
                None => Reply::Null,
            })
            .collect(),
    ))
}

fn geopos(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let members: Vec<&[u8]> = args[2..].iter().map(|m| &m[..]).collect();
    let scores = ctx.db().zmscore(&args[1], &members)?;
    Ok(Reply::Array(
        scores
            .into_iter()
            .map(|s| match s {
                Some(s) => position(ctx, geohash::decode(s as u64)),
                None => Reply::NullArray,
            })
            .collect(),
    ))
}

/// Which command runs the search (Redis's `georadiusGeneric` flags).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Radius { by_member: bool, store: bool },
    Search { store: bool },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    None,
    Asc,
    Desc,
}

/// One match: member, score, position, distance in metres.
struct Found {
    member: Vec<u8>,
    score: f64,
    lon: f64,
    lat: f64,
    dist: f64,
}

fn georadius(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    search_generic(
        ctx,
        args,
        Variant::Radius {
            by_member: false,
            store: true,
        },
    )
}

fn georadiusbymember(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    search_generic(
        ctx,
        args,
        Variant::Radius {
            by_member: true,
            store: true,
        },
    )
}

fn georadius_ro(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    search_generic(
        ctx,
        args,
        Variant::Radius {
            by_member: false,
            store: false,
        },
    )
}

fn georadiusbymember_ro(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    search_generic(
        ctx,
        args,
        Variant::Radius {
            by_member: true,
            store: false,
        },
    )
}

fn geosearch(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    search_generic(ctx, args, Variant::Search { store: false })
}

fn geosearchstore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    search_generic(ctx, args, Variant::Search { store: true })
}

/// The cells' members inside the search area, in Redis's scan order,
/// stopping once `limit` (ANY's count, 0 for none) have matched.
fn scan(
    db: &Database,
    key: &[u8],
    search: &Search,
    limit: usize,
) -> basalt_types::Result<Vec<Found>> {
    let mut found = Vec::new();
    for cell in search.cells() {
        if limit > 0 && found.len() >= limit {
            break;
        }
        let (min, max) = cell.score_range();
        let spec = RangeSpec::Score {
            min: ScoreBound::Inclusive(min),
            max: ScoreBound::Exclusive(max),
            offset: 0,
            count: -1,
        };
        for (member, score) in db.zrange(key, &spec, false)? {
            let (lon, lat) = geohash::decode(score as u64);
            if let Some(dist) = search.distance_if_within(lon, lat) {
                found.push(Found {
                    member,
                    score,
                    lon,
                    lat,
                    dist,
                });
            }
            if limit > 0 && found.len() >= limit {
                break;
            }
        }
    }
    Ok(found)
}

fn search_generic(ctx: &mut Ctx, args: &[Bytes], variant: Variant) -> CommandResult {
    let (src, mut store_key): (&Bytes, Option<&Bytes>) = match variant {
        Variant::Search { store: true } => (&args[2], Some(&args[1])),
        _ => (&args[1], None),
    };
    // The type check comes first, as in Redis; a zset is never empty.
    let exists = ctx.db().zcard(src)? > 0;
    let mut centre: Option<(f64, f64)> = None;
    let mut shape: Option<(Shape, f64)> = None;
    let base = match variant {
        Variant::Radius {
            by_member: false, ..
        } => {
            centre = Some(lon_lat(&args[2], &args[3])?);
            let (r, u) = radius(&args[4..6])?;
            shape = Some((Shape::Radius(r), u));
            6
        }
        // Without the key Redis checks neither the member nor the radius.
        Variant::Radius {
            by_member: true, ..
        } if !exists => 5,
        Variant::Radius {
            by_member: true, ..
        } => {
            centre = Some(member_position(ctx.db(), src, &args[2])?);
            let (r, u) = radius(&args[3..5])?;
            shape = Some((Shape::Radius(r), u));
            5
        }
        Variant::Search { store } => 2 + store as usize,
    };
    let (radius_store, search_cmd, search_store) = match variant {
        Variant::Radius { store, .. } => (store, false, false),
        Variant::Search { store } => (false, true, store),
    };
    let (mut with_dist, mut with_hash, mut with_coord, mut any) = (false, false, false, false);
    let (mut from_member, mut from_lonlat, mut by_radius, mut by_box) =
        (false, false, false, false);
    let mut store_dist = false;
    let mut order = Order::None;
    let mut count: i64 = 0;
    let mut i = base;
    while i < args.len() {
        let a = &args[i];
        let left = args.len() - i - 1;
        if is(a, "withdist") {
            with_dist = true;
        } else if is(a, "withhash") {
            with_hash = true;
        } else if is(a, "withcoord") {
            with_coord = true;
        } else if is(a, "any") {
            any = true;
        } else if is(a, "asc") {
            order = Order::Asc;
        } else if is(a, "desc") {
            order = Order::Desc;
        } else if is(a, "count") && left >= 1 {
            count = parse_i64(&args[i + 1]).ok_or(CommandError::NotInteger)?;
            if count <= 0 {
                return Err(GeoError::Count.into());
            }
            i += 1;
        } else if (is(a, "store") || is(a, "storedist")) && left >= 1 && radius_store {
            store_key = Some(&args[i + 1]);
            store_dist = is(a, "storedist");
            i += 1;
        } else if is(a, "storedist") && search_store {
            store_dist = true;
        } else if is(a, "frommember") && left >= 1 && search_cmd && !from_lonlat {
            if exists {
                centre = Some(member_position(ctx.db(), src, &args[i + 1])?);
            }
            from_member = true;
            i += 1;
        } else if is(a, "fromlonlat") && left >= 2 && search_cmd && !from_member {
            centre = Some(lon_lat(&args[i + 1], &args[i + 2])?);
            from_lonlat = true;
            i += 2;
        } else if is(a, "byradius") && left >= 2 && search_cmd && !by_box {
            let (r, u) = radius(&args[i + 1..i + 3])?;
            shape = Some((Shape::Radius(r), u));
            by_radius = true;
            i += 2;
        } else if is(a, "bybox") && left >= 3 && search_cmd && !by_radius {
            let (width, height, u) = box_size(&args[i + 1..i + 4])?;
            shape = Some((Shape::Box { width, height }, u));
            by_box = true;
            i += 3;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    if store_key.is_some() && (with_dist || with_hash || with_coord) {
        let what = if search_store {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(GeoError::StoreWith(what).into());
    }
    let cmd_name = || String::from_utf8_lossy(&args[0]).into_owned();
    if search_cmd && !(from_member || from_lonlat) {
        return Err(GeoError::From(cmd_name()).into());
    }
    if search_cmd && !(by_radius || by_box) {
        return Err(GeoError::By(cmd_name()).into());
    }
    if any && count == 0 {
        return Err(GeoError::AnyWithoutCount.into());
    }
    let found_search = match (exists, centre, shape) {
        (true, Some((longitude, latitude)), Some((shape, unit))) => Some(Search {
            longitude,
            latitude,
            shape,
            unit,
        }),
        _ => None,
    };
    if count != 0 && order == Order::None && !any {
        order = Order::Asc;
    }
    let limit = if any { count as usize } else { 0 };
    let take = if count == 0 {
        usize::MAX
    } else {
        count as usize
    };
    let finish = |mut found: Vec<Found>| -> Vec<Found> {
        match order {
            Order::Asc => found.sort_by(|a, b| a.dist.total_cmp(&b.dist)),
            Order::Desc => found.sort_by(|a, b| b.dist.total_cmp(&a.dist)),
            Order::None => {}
        }
        found.truncate(take);
        found
    };

    if let Some(dst) = store_key {
        let existed = dst_existed(ctx, dst)?;
        let n = ctx.db().geo_search_store(dst, src, |db| {
            let found = match &found_search {
                Some(search) => finish(scan(db, src, search, limit)?),
                None => Vec::new(),
            };
            Ok(found
                .into_iter()
                .map(|f| {
                    let score = if store_dist {
                        f.dist / found_search.map_or(1.0, |s| s.unit)
                    } else {
                        f.score
                    };
                    (f.member, score)
                })
                .collect())
        })?;
        let event = if search_cmd {
            "geosearchstore"
        } else {
            "georadiusstore"
        };
        emit_store(ctx.shared, ZSET, event, dst, n, existed);
        return Ok(Reply::Integer(n as i64));
    }

    let Some(search) = found_search else {
        return Ok(Reply::Array(Vec::new()));
    };
    let found = finish(scan(ctx.db(), src, &search, limit)?);
    let plain = !(with_dist || with_hash || with_coord);
    Ok(Reply::Array(
        found
            .into_iter()
            .map(|f| {
                let member = Reply::Bulk(Bytes::from(f.member));
                if plain {
                    return member;
                }
                let mut item = vec![member];
                if with_dist {
                    item.push(Reply::Bulk(Bytes::from(distance_text(
                        f.dist / search.unit,
                    ))));
                }
                if with_hash {
                    item.push(Reply::Integer(f.score as i64));
                }
                if with_coord {
                    item.push(position(ctx, (f.lon, f.lat)));
                }
                Reply::Array(item)
            })
            .collect(),
    ))
}

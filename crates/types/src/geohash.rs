//! Redis's 52-bit geohash: the score a GEO member is stored under in its
//! sorted set. Written by hand because the score must be bit-for-bit
//! Redis's (`geohashEncodeWGS84` + `geohashAlign52Bits`), so that a set
//! built here answers GEO queries and ZSCORE exactly as Redis does.

/// Redis's limits: latitudes beyond ±85.05112878 have no square in the
/// Web Mercator projection the geohash cells follow.
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;

/// Bits per coordinate: 26 + 26 = 52, what a double holds exactly.
const STEP: u32 = 26;

/// Whether Redis accepts the pair.
pub fn valid(longitude: f64, latitude: f64) -> bool {
    (LONG_MIN..=LONG_MAX).contains(&longitude) && (LAT_MIN..=LAT_MAX).contains(&latitude)
}

/// Spreads the low 32 bits of `v` to the even bit positions.
fn spread(v: u32) -> u64 {
    let mut x = v as u64;
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Gathers the even bit positions of `v` into the low 32 bits.
fn squash(v: u64) -> u32 {
    let mut x = v & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    ((x | (x >> 16)) & 0x0000_0000_FFFF_FFFF) as u32
}

/// The 52-bit hash of a valid pair: latitude bits at the even positions,
/// longitude bits at the odd ones.
pub fn encode(longitude: f64, latitude: f64) -> u64 {
    let cells = (1u64 << STEP) as f64;
    let lat = (latitude - LAT_MIN) / (LAT_MAX - LAT_MIN) * cells;
    let lon = (longitude - LONG_MIN) / (LONG_MAX - LONG_MIN) * cells;
    spread(lat as u32) | (spread(lon as u32) << 1)
}

/// The centre of the cell a 52-bit hash names, as (longitude, latitude),
/// clamped to the valid ranges as Redis's `geohashDecodeAreaToLongLat`.
pub fn decode(hash: u64) -> (f64, f64) {
    let cells = (1u64 << STEP) as f64;
    let lat_cell = squash(hash) as f64;
    let lon_cell = squash(hash >> 1) as f64;
    let lat_min = LAT_MIN + lat_cell / cells * (LAT_MAX - LAT_MIN);
    let lat_max = LAT_MIN + (lat_cell + 1.0) / cells * (LAT_MAX - LAT_MIN);
    let lon_min = LONG_MIN + lon_cell / cells * (LONG_MAX - LONG_MIN);
    let lon_max = LONG_MIN + (lon_cell + 1.0) / cells * (LONG_MAX - LONG_MIN);
    let lon = ((lon_min + lon_max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((lat_min + lat_max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_match_redis() {
        // ZSCORE after GEOADD on redis-server 7.0.15.
        assert_eq!(encode(13.361389, 38.115556), 3479099956230698);
        assert_eq!(encode(15.087269, 37.502669), 3479447370796909);
        assert_eq!(encode(0.0, 0.0), 3377699720527872);
    }

    #[test]
    fn decode_is_close_to_the_input() {
        let (lon, lat) = decode(encode(13.361389, 38.115556));
        assert!((lon - 13.361389).abs() < 1e-5 && (lat - 38.115556).abs() < 1e-5);
    }

    #[test]
    fn range_limits() {
        assert!(valid(180.0, 85.05112878));
        assert!(!valid(180.1, 0.0));
        assert!(!valid(0.0, 85.06));
    }
}

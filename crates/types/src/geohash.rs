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

/// A cell at some precision: `step` bits per coordinate, interleaved
/// (latitude bits at the even positions). Step 0 with bits 0 is Redis's
/// "no cell", the neighbours a search leaves out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    pub bits: u64,
    pub step: u32,
}

/// A cell's bounds in degrees.
#[derive(Clone, Copy, Debug)]
pub struct Area {
    pub lon_min: f64,
    pub lon_max: f64,
    pub lat_min: f64,
    pub lat_max: f64,
}

/// Redis's `geohashEncode` on the given latitude range: the cell of the
/// point at `step` bits, or None outside the valid ranges.
fn encode_in(longitude: f64, latitude: f64, step: u32, lat_min: f64, lat_max: f64) -> Option<u64> {
    if !valid(longitude, latitude) || !(lat_min..=lat_max).contains(&latitude) {
        return None;
    }
    let cells = (1u64 << step) as f64;
    let lat = (latitude - lat_min) / (lat_max - lat_min) * cells;
    let lon = (longitude - LONG_MIN) / (LONG_MAX - LONG_MIN) * cells;
    // Float-to-u32 casts saturate, as the C conversion does for the values
    // a valid pair can give (at most 2^step).
    Some(spread(lat as u32) | (spread(lon as u32) << 1))
}

/// The cell holding a valid point at `step` bits.
pub fn cell_of(longitude: f64, latitude: f64, step: u32) -> Cell {
    Cell {
        bits: encode_in(longitude, latitude, step, LAT_MIN, LAT_MAX).unwrap_or(0),
        step,
    }
}

impl Cell {
    /// The cell's bounds (Redis's `geohashDecode`).
    pub fn area(self) -> Area {
        let cells = (1u64 << self.step) as f64;
        let lat_cell = squash(self.bits) as f64;
        let lon_cell = squash(self.bits >> 1) as f64;
        Area {
            lat_min: LAT_MIN + lat_cell / cells * (LAT_MAX - LAT_MIN),
            lat_max: LAT_MIN + (lat_cell + 1.0) / cells * (LAT_MAX - LAT_MIN),
            lon_min: LONG_MIN + lon_cell / cells * (LONG_MAX - LONG_MIN),
            lon_max: LONG_MIN + (lon_cell + 1.0) / cells * (LONG_MAX - LONG_MIN),
        }
    }

    /// The scores of the members inside the cell: `min <= score < max`.
    pub fn score_range(self) -> (f64, f64) {
        let shift = 52 - self.step * 2;
        (
            (self.bits << shift) as f64,
            ((self.bits + 1) << shift) as f64,
        )
    }

    /// The cell `dx` columns east and `dy` rows north, wrapping around
    /// (Redis's `geohash_move_x`/`geohash_move_y`).
    fn moved(self, dx: i8, dy: i8) -> Cell {
        let width = 64 - self.step * 2;
        let odd = 0xaaaa_aaaa_aaaa_aaaau64;
        let even = 0x5555_5555_5555_5555u64;
        let shift = |part: u64, ones: u64, mask: u64, d: i8| -> u64 {
            let zz = ones >> width;
            let moved = match d.cmp(&0) {
                std::cmp::Ordering::Equal => return part,
                std::cmp::Ordering::Greater => part.wrapping_add(zz + 1),
                std::cmp::Ordering::Less => (part | zz).wrapping_sub(zz + 1),
            };
            moved & (mask >> width)
        };
        let x = shift(self.bits & odd, even, odd, dx);
        let y = shift(self.bits & even, odd, even, dy);
        Cell {
            bits: x | y,
            step: self.step,
        }
    }
}

/// Redis's earth radius for distances (the quadratic mean radius).
pub const EARTH_RADIUS_M: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;

fn rad(deg: f64) -> f64 {
    deg * (std::f64::consts::PI / 180.0)
}

fn deg(rad: f64) -> f64 {
    rad / (std::f64::consts::PI / 180.0)
}

/// Metres between two latitudes on one meridian.
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_M * (rad(lat2) - rad(lat1)).abs()
}

/// Haversine distance in metres, as Redis's `geohashGetDistance`.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let v = ((rad(lon2) - rad(lon1)) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let (lat1r, lat2r) = (rad(lat1), rad(lat2));
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// The area a search covers, sizes in the search's unit.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    Radius(f64),
    Box { width: f64, height: f64 },
}

/// A search: its centre (longitude, latitude) and shape.
#[derive(Clone, Copy, Debug)]
pub struct Search {
    pub longitude: f64,
    pub latitude: f64,
    pub shape: Shape,
    /// Metres per unit. Kept apart, as Redis does, because converting
    /// before or after squaring rounds differently.
    pub unit: f64,
}

/// Redis's `geohashEstimateStepsByRadius`.
fn estimate_step(mut range: f64, latitude: f64) -> u32 {
    if range == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    // Bounded: a radius of infinity or NaN must not loop forever.
    while range < MERCATOR_MAX && step < 64 {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&latitude) {
        step -= 1;
        if !(-80.0..=80.0).contains(&latitude) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u32
}

impl Search {
    /// (min longitude, min latitude, max longitude, max latitude) of the
    /// bounding box, as Redis's `geohashBoundingBox`.
    fn bounds(&self) -> [f64; 4] {
        let (w, h) = match self.shape {
            Shape::Radius(r) => (self.unit * r, self.unit * r),
            Shape::Box { width, height } => (self.unit * (width / 2.0), self.unit * (height / 2.0)),
        };
        let lat_delta = deg(h / EARTH_RADIUS_M);
        let lon_top = deg(w / EARTH_RADIUS_M / rad(self.latitude + lat_delta).cos());
        let lon_bottom = deg(w / EARTH_RADIUS_M / rad(self.latitude - lat_delta).cos());
        let lon_delta = if self.latitude < 0.0 {
            lon_bottom
        } else {
            lon_top
        };
        [
            self.longitude - lon_delta,
            self.latitude - lat_delta,
            self.longitude + lon_delta,
            self.latitude + lat_delta,
        ]
    }

    /// The cells to scan, in Redis's order (centre, N, S, E, W, NE, NW,
    /// SE, SW), without those outside the bounding box and without a cell
    /// equal to the last one kept (huge radii make neighbours coincide).
    pub fn cells(&self) -> Vec<Cell> {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounds();
        let radius = match self.shape {
            Shape::Radius(r) => r,
            Shape::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.unit;
        let mut step = estimate_step(radius, self.latitude);
        let mut centre = cell_of(self.longitude, self.latitude, step);
        let too_small = |c: Cell| {
            c.moved(0, 1).area().lat_max < max_lat
                || c.moved(0, -1).area().lat_min > min_lat
                || c.moved(1, 0).area().lon_max < max_lon
                || c.moved(-1, 0).area().lon_min > min_lon
        };
        if step > 1 && too_small(centre) {
            step -= 1;
            centre = cell_of(self.longitude, self.latitude, step);
        }
        let area = centre.area();
        // A side is dropped when the centre cell already reaches past the
        // bounding box there (Redis's GZERO of those neighbours).
        let (mut no_north, mut no_south, mut no_east, mut no_west) = (false, false, false, false);
        if step >= 2 {
            no_south = area.lat_min < min_lat;
            no_north = area.lat_max > max_lat;
            no_west = area.lon_min < min_lon;
            no_east = area.lon_max > max_lon;
        }
        let candidates = [
            (false, 0, 0),
            (no_north, 0, 1),
            (no_south, 0, -1),
            (no_east, 1, 0),
            (no_west, -1, 0),
            (no_north || no_east, 1, 1),
            (no_north || no_west, -1, 1),
            (no_south || no_east, 1, -1),
            (no_south || no_west, -1, -1),
        ];
        let mut out: Vec<Cell> = Vec::with_capacity(9);
        for (dropped, dx, dy) in candidates {
            if dropped {
                continue;
            }
            let cell = centre.moved(dx, dy);
            // Redis skips a zero cell (bits 0, step 0) and one equal to the
            // last cell it scanned; only the second can happen here.
            if out.len() > 1 && out.last() == Some(&cell) {
                continue;
            }
            out.push(cell);
        }
        out
    }

    /// The distance of a point in the search area from the centre, in
    /// metres; None outside it.
    pub fn distance_if_within(&self, longitude: f64, latitude: f64) -> Option<f64> {
        match self.shape {
            Shape::Radius(r) => {
                let d = distance(self.longitude, self.latitude, longitude, latitude);
                (d <= r * self.unit).then_some(d)
            }
            Shape::Box { width, height } => {
                let (width, height) = (width * self.unit, height * self.unit);
                if lat_distance(latitude, self.latitude) > height / 2.0 {
                    return None;
                }
                if distance(longitude, latitude, self.longitude, latitude) > width / 2.0 {
                    return None;
                }
                Some(distance(self.longitude, self.latitude, longitude, latitude))
            }
        }
    }
}

/// GEOHASH's 11-character string: the point re-encoded on the standard
/// [-90, 90] latitude range, as other geohash tools expect. Redis has only
/// 52 bits, so the 11th character is always '0'.
pub fn geohash_string(score: f64) -> String {
    const ALPHABET: &[u8] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = decode(score as u64);
    let bits = encode_in(lon, lat, STEP, -90.0, 90.0).unwrap_or(0);
    (0..11)
        .map(|i| {
            let idx = if i == 10 {
                0
            } else {
                (bits >> (52 - (i + 1) * 5)) & 0x1f
            };
            ALPHABET[idx as usize] as char
        })
        .collect()
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

    #[test]
    fn geohash_strings_match_redis() {
        // GEOHASH on redis-server 7.0.15.
        assert_eq!(geohash_string(3479099956230698.0), "sqc8b49rny0");
        assert_eq!(geohash_string(3479447370796909.0), "sqdtr74hyu0");
    }

    #[test]
    fn distance_is_redis_haversine() {
        let (a, b) = (decode(3479099956230698), decode(3479447370796909));
        // GEODIST Sicily Palermo Catania: 166274.1516.
        assert!((distance(a.0, a.1, b.0, b.1) - 166274.1516).abs() < 5e-5);
        // Same meridian: the latitude shortcut.
        assert_eq!(distance(1.0, 0.0, 1.0, 1.0), lat_distance(0.0, 1.0));
    }

    #[test]
    fn step_estimate_follows_redis() {
        assert_eq!(estimate_step(0.0, 0.0), 26);
        assert_eq!(estimate_step(1.0e7, 0.0), 1);
        assert_eq!(estimate_step(100.0, 0.0), 17);
        assert_eq!(estimate_step(100.0, 70.0), 16);
        assert_eq!(estimate_step(100.0, 85.0), 15);
        assert_eq!(estimate_step(f64::INFINITY, 0.0), 1);
        assert_eq!(estimate_step(1e-300, 0.0), 26);
    }

    #[test]
    fn cells_start_at_the_centre_and_never_repeat_in_a_row() {
        let search = Search {
            longitude: 15.0,
            latitude: 37.0,
            shape: Shape::Radius(200.0),
            unit: 1000.0,
        };
        let cells = search.cells();
        assert_eq!(cells[0], cell_of(15.0, 37.0, cells[0].step));
        assert!(cells.len() <= 9);
        assert!(cells.windows(2).all(|w| w[0] != w[1]));
        // The whole world at step 1: four distinct cells.
        let world = Search {
            longitude: 0.0,
            latitude: 0.0,
            shape: Shape::Radius(f64::INFINITY),
            unit: 1.0,
        };
        assert_eq!(world.cells().len(), 4);
    }
}

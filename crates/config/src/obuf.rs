//! `client-output-buffer-limit`: Redis's per-class output buffer limits.

use crate::value::parse_memory;
use std::fmt;

/// One class's limits: bytes (0 = none) and the seconds the soft limit may
/// be exceeded before the client is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BufferLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_seconds: u64,
}

/// The three classes Redis configures. Basalt enforces `pubsub` (on clients
/// with subscriptions); `normal` and `replica` are remembered for CONFIG GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputBufferLimits {
    pub normal: BufferLimit,
    pub replica: BufferLimit,
    pub pubsub: BufferLimit,
}

impl OutputBufferLimits {
    /// Applies `class hard soft seconds` groups on top of `self`, as Redis's
    /// CONFIG SET does: classes not named keep their limits.
    pub fn parse_onto(mut self, s: &str) -> Result<Self, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        if words.len() % 4 != 0 {
            return Err("Wrong number of arguments in buffer limit configuration.".into());
        }
        for group in words.chunks(4) {
            let limit = match group[0].to_ascii_lowercase().as_str() {
                "normal" => &mut self.normal,
                "slave" | "replica" => &mut self.replica,
                "pubsub" => &mut self.pubsub,
                _ => {
                    return Err(
                        "Invalid client class specified in buffer limit configuration.".into(),
                    )
                }
            };
            let bad =
                || "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            let hard = parse_memory(group[1]).map_err(|_| bad())?;
            let soft = parse_memory(group[2]).map_err(|_| bad())?;
            let secs: i64 = group[3].parse().map_err(|_| bad())?;
            if hard < 0 || soft < 0 || secs < 0 {
                return Err(bad().into());
            }
            *limit = BufferLimit {
                hard_bytes: hard as u64,
                soft_bytes: soft as u64,
                soft_seconds: secs as u64,
            };
        }
        Ok(self)
    }
}

impl Default for OutputBufferLimits {
    /// Redis's defaults.
    fn default() -> Self {
        OutputBufferLimits {
            normal: BufferLimit::default(),
            replica: BufferLimit {
                hard_bytes: 256 << 20,
                soft_bytes: 64 << 20,
                soft_seconds: 60,
            },
            pubsub: BufferLimit {
                hard_bytes: 32 << 20,
                soft_bytes: 8 << 20,
                soft_seconds: 60,
            },
        }
    }
}

impl fmt::Display for OutputBufferLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let classes = [
            ("normal", self.normal),
            ("slave", self.replica),
            ("pubsub", self.pubsub),
        ];
        for (i, (name, l)) in classes.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(
                f,
                "{name} {} {} {}",
                l.hard_bytes, l.soft_bytes, l.soft_seconds
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_set_keeps_other_classes() {
        let l = OutputBufferLimits::default()
            .parse_onto("pubsub 1mb 512kb 5")
            .unwrap();
        assert_eq!(
            l.to_string(),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 5"
        );
        let again = OutputBufferLimits::default()
            .parse_onto(&l.to_string())
            .unwrap();
        assert_eq!(again, l);
    }

    #[test]
    fn bad_values_are_refused() {
        let d = OutputBufferLimits::default();
        assert!(d.parse_onto("pubsub 1 2").is_err());
        assert!(d.parse_onto("master 0 0 0").is_err());
        assert!(d.parse_onto("pubsub x 0 0").is_err());
        assert!(d.parse_onto("pubsub 0 0 -1").is_err());
    }
}

//! LCS: the longest common subsequence of two strings, with the match ranges
//! Redis's `LCS ... IDX` reports.

/// One matched range: `(a_start, a_end), (b_start, b_end)`, inclusive.
pub type LcsMatch = ((usize, usize), (usize, usize));

pub struct LcsResult {
    pub sequence: Vec<u8>,
    /// Matches from the end of the strings towards the start, as Redis lists them.
    pub matches: Vec<LcsMatch>,
}

/// Redis refuses LCS inputs whose DP table would be huge.
pub fn table_too_large(a: usize, b: usize) -> bool {
    (a as u64 + 1).saturating_mul(b as u64 + 1) > u32::MAX as u64 / 4
}

pub fn lcs(a: &[u8], b: &[u8]) -> LcsResult {
    let (n, m) = (a.len(), b.len());
    let w = m + 1;
    let mut dp = vec![0u32; (n + 1) * w];
    for i in 1..=n {
        for j in 1..=m {
            dp[i * w + j] = if a[i - 1] == b[j - 1] {
                dp[(i - 1) * w + j - 1] + 1
            } else {
                dp[(i - 1) * w + j].max(dp[i * w + j - 1])
            };
        }
    }
    let mut sequence = Vec::with_capacity(dp[n * w + m] as usize);
    let mut matches: Vec<LcsMatch> = Vec::new();
    let (mut i, mut j) = (n, m);
    // Same walk as Redis's lcsCommand, so ranges are grouped identically.
    let mut current: Option<LcsMatch> = None;
    while i > 0 && j > 0 {
        if a[i - 1] == b[j - 1] {
            sequence.push(a[i - 1]);
            let (ai, bj) = (i - 1, j - 1);
            current = match current {
                Some(((a_start, a_end), (b_start, b_end)))
                    if a_start == ai + 1 && b_start == bj + 1 =>
                {
                    Some(((ai, a_end), (bj, b_end)))
                }
                Some(done) => {
                    matches.push(done);
                    Some(((ai, ai), (bj, bj)))
                }
                None => Some(((ai, ai), (bj, bj))),
            };
            i -= 1;
            j -= 1;
        } else if dp[(i - 1) * w + j] > dp[i * w + j - 1] {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    if let Some(done) = current {
        matches.push(done);
    }
    sequence.reverse();
    LcsResult { sequence, matches }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_doc_example() {
        let r = lcs(b"ohmytext", b"mynewtext");
        assert_eq!(r.sequence, b"mytext");
        assert_eq!(r.matches, vec![((4, 7), (5, 8)), ((2, 3), (0, 1))]);
    }
}

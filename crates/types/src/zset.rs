//! Sorted sets: member -> score subkeys in the default column family plus the score index in zset_score.

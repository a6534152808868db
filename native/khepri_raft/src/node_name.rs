//! Raft node ids derived from Erlang node names.

/// The Raft node id of the member on Erlang node `name`: a 64-bit FNV-1a hash
/// of the name, so every member computes the same id for a node without
/// coordination. (Collisions between a cluster's few node names are
/// astronomically unlikely.)
pub fn node_id_of(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    #[test]
    fn stable_and_distinct() {
        assert_eq!(super::node_id_of("a@h"), super::node_id_of("a@h"));
        assert_ne!(super::node_id_of("a@h"), super::node_id_of("b@h"));
    }
}

//! Deserializing `imbl` maps and sets one element at a time.
//!
//! imbl's own `Deserialize` reserves room for as many elements as the input
//! announces: a damaged snapshot whose MessagePack map header claims four
//! billion entries made loading allocate hundreds of gigabytes (found by
//! `khepri_fuzz`). These build the collection as elements really arrive, so
//! memory stays proportional to the input. The encoding is unchanged.

use imbl::{OrdMap, OrdSet};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// An `OrdSet` deserialized without trusting the announced length.
#[derive(Clone)]
pub struct SetOf<T: Ord + Clone>(pub OrdSet<T>);

/// An `OrdMap` deserialized without trusting the announced length.
pub struct MapOf<K: Ord + Clone, V: Clone>(pub OrdMap<K, V>);

impl<'de, T: Deserialize<'de> + Ord + Clone> Deserialize<'de> for SetOf<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Elements<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Ord + Clone> Visitor<'de> for Elements<T> {
            type Value = SetOf<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut set = OrdSet::new();
                while let Some(x) = seq.next_element()? {
                    set.insert(x);
                }
                Ok(SetOf(set))
            }
        }
        d.deserialize_seq(Elements(PhantomData))
    }
}

impl<'de, K, V> Deserialize<'de> for MapOf<K, V>
where
    K: Deserialize<'de> + Ord + Clone,
    V: Deserialize<'de> + Clone,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries<K, V>(PhantomData<(K, V)>);
        impl<'de, K, V> Visitor<'de> for Entries<K, V>
        where
            K: Deserialize<'de> + Ord + Clone,
            V: Deserialize<'de> + Clone,
        {
            type Value = MapOf<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = OrdMap::new();
                while let Some((k, v)) = map.next_entry()? {
                    out.insert(k, v);
                }
                Ok(MapOf(out))
            }
        }
        d.deserialize_map(Entries(PhantomData))
    }
}

/// For `#[serde(deserialize_with)]` on an `OrdSet` field.
pub fn ord_set<'de, D, T>(d: D) -> Result<OrdSet<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Ord + Clone,
{
    SetOf::deserialize(d).map(|s| s.0)
}

/// For `#[serde(deserialize_with)]` on an `OrdMap` field.
pub fn ord_map<'de, D, K, V>(d: D) -> Result<OrdMap<K, V>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de> + Ord + Clone,
    V: Deserialize<'de> + Clone,
{
    MapOf::deserialize(d).map(|m| m.0)
}

/// An `OrdMap` of `OrdSet`s (the keep_while watcher index).
pub fn map_of_sets<'de, D, K, T>(d: D) -> Result<OrdMap<K, OrdSet<T>>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de> + Ord + Clone,
    T: Deserialize<'de> + Ord + Clone,
{
    let m: MapOf<K, SetOf<T>> = MapOf::deserialize(d)?;
    Ok(m.0.iter().map(|(k, s)| (k.clone(), s.0.clone())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MessagePack map32 / array32 headers announcing u32::MAX elements,
    /// with none following: must fail, not reserve for them.
    const HUGE_MAP: [u8; 5] = [0xdf, 0xff, 0xff, 0xff, 0xff];
    const HUGE_ARRAY: [u8; 5] = [0xdd, 0xff, 0xff, 0xff, 0xff];

    #[test]
    fn announced_lengths_are_not_trusted() {
        let mut d = rmp_serde::Deserializer::from_read_ref(&HUGE_MAP[..]);
        assert!(map_of_sets::<_, u64, u64>(&mut d).is_err());
        let mut d = rmp_serde::Deserializer::from_read_ref(&HUGE_ARRAY[..]);
        assert!(ord_set::<_, u64>(&mut d).is_err());
        let mut d = rmp_serde::Deserializer::from_read_ref(&HUGE_MAP[..]);
        assert!(ord_map::<_, u64, u64>(&mut d).is_err());
    }

    #[test]
    fn same_encoding_as_imbl() {
        let set: OrdSet<u64> = [3u64, 1, 2].into_iter().collect();
        let map: OrdMap<u64, OrdSet<u64>> = [(7u64, set.clone())].into_iter().collect();
        let bytes = rmp_serde::to_vec(&map).unwrap();
        let mut d = rmp_serde::Deserializer::from_read_ref(&bytes[..]);
        assert_eq!(map_of_sets::<_, u64, u64>(&mut d).unwrap(), map);
        let bytes = rmp_serde::to_vec(&set).unwrap();
        let mut d = rmp_serde::Deserializer::from_read_ref(&bytes[..]);
        assert_eq!(ord_set::<_, u64>(&mut d).unwrap(), set);
    }
}

//! Zeek-style identifiers (`C…` connection uids, `F…` file ids) and stable content digests.

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Zeek writes up to 17 base62 digits; these are always 17, so every id is 18 characters.
const ID_DIGITS: usize = 17;

/// How many distinct high words fit above the 64 unique low bits within 17 base62 digits.
const HIGH_WORDS: u128 = 62u128.pow(ID_DIGITS as u32) >> 64;

/// 62^8: the value of the eight lowest digits.
const LOW_DIGITS_BASE: u128 = 62u128.pow(8);

/// A Zeek identifier: one prefix letter and 17 base62 digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ZeekId([u8; ID_DIGITS + 1]);

impl ZeekId {
    pub(crate) fn as_str(&self) -> &str {
        // Built only from ASCII letters and digits.
        std::str::from_utf8(&self.0).expect("ids are ASCII")
    }
}

impl std::fmt::Debug for ZeekId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Hands out ids that look random, like Zeek's, but are unique by construction.
///
/// Zeek draws its uids from a random 96-bit number. Here the low 64 bits are a bijective mix of
/// a counter, so two ids never collide, and the high bits only spread the value over the whole
/// 17-digit range so every digit looks random.
pub(crate) struct IdMint {
    prefix: u8,
    key: u64,
    issued: u64,
}

impl IdMint {
    pub(crate) fn new(prefix: u8, key: u64) -> Self {
        IdMint {
            prefix,
            key,
            issued: 0,
        }
    }

    pub(crate) fn next_id(&mut self) -> ZeekId {
        let n = self.issued;
        self.issued += 1;
        let low = mix64(n ^ self.key);
        let high = u128::from(mix64(n.wrapping_add(self.key.rotate_left(32)))) % HIGH_WORDS;
        let value = (high << 64) | u128::from(low);
        // One 128-bit division, then 64-bit arithmetic for the 9 high and 8 low digits.
        let (upper, lower) = (
            (value / LOW_DIGITS_BASE) as u64,
            (value % LOW_DIGITS_BASE) as u64,
        );
        let mut bytes = [b'0'; ID_DIGITS + 1];
        bytes[0] = self.prefix;
        let (high_digits, low_digits) = bytes[1..].split_at_mut(ID_DIGITS - 8);
        for (digits, mut part) in [(high_digits, upper), (low_digits, lower)] {
            for digit in digits.iter_mut().rev() {
                *digit = BASE62[(part % 62) as usize];
                part /= 62;
            }
        }
        ZeekId(bytes)
    }
}

/// SplitMix64's finaliser: a bijection on `u64` that scatters neighbouring inputs.
pub(crate) fn mix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A hex digest of `N / 2` bytes that depends only on `content`: the same resource fetched twice
/// gets the same MD5/SHA1, as it would in a real capture.
pub(crate) struct Digest<const N: usize>([u8; N]);

impl<const N: usize> Digest<N> {
    pub(crate) fn of(content: u64) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; N];
        for (i, pair) in out.chunks_mut(16).enumerate() {
            // Salted with the length, so an MD5 is not a prefix of the SHA1 of the same content.
            let word = mix64(content ^ mix64(((i as u64) << 16) | N as u64));
            for (j, c) in pair.iter_mut().enumerate() {
                *c = HEX[((word >> (4 * j)) & 0xf) as usize];
            }
        }
        Digest(out)
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("digests are ASCII hex")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_zeek_shaped_and_unique() {
        let mut mint = IdMint::new(b'C', 0x1234_5678_9abc_def0);
        let mut seen = HashSet::new();
        for _ in 0..100_000 {
            let id = mint.next_id();
            let s = id.as_str();
            assert_eq!(s.len(), 18);
            assert!(s.starts_with('C'));
            assert!(s[1..].bytes().all(|b| b.is_ascii_alphanumeric()));
            assert!(seen.insert(id), "duplicate {s}");
        }
    }

    #[test]
    fn digests_are_stable_hex_of_the_requested_length() {
        assert_eq!(Digest::<32>::of(7).as_str(), Digest::<32>::of(7).as_str());
        assert_ne!(Digest::<40>::of(7).as_str(), Digest::<40>::of(8).as_str());
        assert_eq!(Digest::<40>::of(1).as_str().len(), 40);
        assert!(
            Digest::<40>::of(1)
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_hexdigit())
        );
    }
}

//! Structured values read out of fuzzer bytes. Running out of input is not
//! an error: reads past the end give zeros (or a filler pattern), so every
//! byte string is a valid program for the bodies.

/// A cursor over the fuzzer's bytes.
pub struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    /// Reads from the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data, pos: 0 }
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The next byte, 0 past the end.
    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos = (self.pos + 1).min(self.data.len());
        b
    }

    /// The next two bytes, big-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// Up to `n` bytes (fewer at the end of the input).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let end = self.pos.saturating_add(n).min(self.data.len());
        let out = &self.data[self.pos..end];
        self.pos = end;
        out
    }

    /// Exactly `n` bytes: the input's, then a filler pattern, so a length
    /// the input asked for is the length it gets.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = self.take(n).to_vec();
        let mut x = v.len() as u8;
        while v.len() < n {
            v.push(x);
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        v
    }

    /// Everything not yet read.
    pub fn rest(&mut self) -> &'a [u8] {
        self.take(usize::MAX)
    }

    /// A generator seeded from the next 8 bytes, for choices (such as chunk
    /// sizes) that would otherwise eat the bytes under test.
    pub fn rng(&mut self) -> Rng {
        let mut seed = [0u8; 8];
        let s = self.take(8);
        seed[..s.len()].copy_from_slice(s);
        Rng(u64::from_le_bytes(seed))
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast and deterministic.
pub struct Rng(u64);

impl Rng {
    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A chunk length: mostly a few bytes, sometimes none, sometimes a few
    /// hundred or thousand, sometimes everything that is left.
    pub fn chunk_len(&mut self) -> usize {
        match self.next_u64() % 16 {
            0 => 0,
            1..=9 => 1 + self.below(8),
            10..=13 => self.below(300),
            14 => self.below(6000),
            _ => usize::MAX,
        }
    }
}

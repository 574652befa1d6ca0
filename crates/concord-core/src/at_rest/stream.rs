//! Sealing file contents as a stream of chunks, for the file store: bounded memory (one chunk
//! at a time) and random access, so a range download opens only the chunks it needs.
//!
//! The construction is STREAM (Hoang, Reyhanitabar, Rogaway, Vizár): each chunk is sealed with
//! the file's data key under the nonce `prefix (7 random bytes) | chunk index (4, big endian) |
//! last flag (1)`, with the header as associated data. Reordering, dropping or duplicating
//! chunks fails authentication (the index is in the nonce), and so does truncation (the final
//! chunk, and only it, carries the last flag).
//!
//! Layout: `header (26 bytes) | chunk 0 | chunk 1 | ...`; the header is `"CCF1" | version (1)
//! | algorithm (1) | data key id (8) | nonce prefix (7) | reserved (1) | chunk size (4)`. Every
//! chunk but the last holds `chunk size` plaintext bytes plus a 16-byte tag; the last holds
//! the rest (possibly nothing) plus its tag.
//!
//! How the file store uses it: pick the data key (e.g. scope `files`, or the channel's), call
//! [`seal_stream`] from the upload into the blob file, keep the content hash of the
//! *plaintext* for addressing (hash before sealing); for a download call [`open_stream`], or
//! for a range [`open_range`] (it seeks to the chunks covering the range). Read the key id
//! from [`StreamHeader::parse`] to find the data key, as the keyring does for text. The
//! functions are synchronous: run them under `spawn_blocking`.

use super::{Algorithm, AtRestError, DataKey, FORMAT_V1, NONCE_LEN, TAG_LEN, random_bytes};
use std::io::{self, Read, Seek, SeekFrom, Write};

const MAGIC: &[u8; 4] = b"CCF1";
/// Header length in bytes.
pub const HEADER_LEN: usize = 26;
/// The default plaintext chunk: 64 KiB.
pub const DEFAULT_CHUNK_SIZE: u32 = 64 * 1024;
const PREFIX_LEN: usize = 7;

/// The parsed header of a sealed stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamHeader {
    pub algorithm: Algorithm,
    pub key_id: i64,
    nonce_prefix: [u8; PREFIX_LEN],
    pub chunk_size: u32,
    bytes: [u8; HEADER_LEN],
}

impl StreamHeader {
    fn new(key: &DataKey, chunk_size: u32) -> Self {
        let nonce_prefix = random_bytes::<PREFIX_LEN>();
        let mut bytes = [0u8; HEADER_LEN];
        bytes[..4].copy_from_slice(MAGIC);
        bytes[4] = FORMAT_V1;
        bytes[5] = key.algorithm() as u8;
        bytes[6..14].copy_from_slice(&key.id().to_be_bytes());
        bytes[14..21].copy_from_slice(&nonce_prefix);
        bytes[22..26].copy_from_slice(&chunk_size.to_be_bytes());
        Self {
            algorithm: key.algorithm(),
            key_id: key.id(),
            nonce_prefix,
            chunk_size,
            bytes,
        }
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, AtRestError> {
        let bytes: [u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|b| b.try_into().ok())
            .ok_or(AtRestError::Malformed("short header"))?;
        if &bytes[..4] != MAGIC || bytes[4] != FORMAT_V1 {
            return Err(AtRestError::Malformed("not a sealed stream"));
        }
        let algorithm = super::Algorithm::from_byte(bytes[5])
            .ok_or(AtRestError::Malformed("unknown algorithm"))?;
        let chunk_size = u32::from_be_bytes(bytes[22..26].try_into().expect("4 bytes"));
        if chunk_size == 0 || chunk_size > 16 * 1024 * 1024 {
            return Err(AtRestError::Malformed("chunk size out of range"));
        }
        Ok(Self {
            algorithm,
            key_id: i64::from_be_bytes(bytes[6..14].try_into().expect("8 bytes")),
            nonce_prefix: bytes[14..21].try_into().expect("7 bytes"),
            chunk_size,
            bytes,
        })
    }

    fn nonce(&self, index: u64, last: bool) -> Result<[u8; NONCE_LEN], AtRestError> {
        let index = u32::try_from(index).map_err(|_| AtRestError::Malformed("too many chunks"))?;
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..PREFIX_LEN].copy_from_slice(&self.nonce_prefix);
        nonce[PREFIX_LEN..11].copy_from_slice(&index.to_be_bytes());
        nonce[11] = u8::from(last);
        Ok(nonce)
    }

    fn sealed_chunk_len(&self) -> u64 {
        u64::from(self.chunk_size) + TAG_LEN as u64
    }

    /// The plaintext length of a sealed stream `sealed_len` bytes long.
    pub fn plaintext_len(&self, sealed_len: u64) -> Result<u64, AtRestError> {
        let body = sealed_len
            .checked_sub(HEADER_LEN as u64)
            .ok_or(AtRestError::Malformed("short stream"))?;
        let chunks = self.chunk_count(sealed_len)?;
        body.checked_sub(chunks * TAG_LEN as u64)
            .ok_or(AtRestError::Malformed("short stream"))
    }

    fn chunk_count(&self, sealed_len: u64) -> Result<u64, AtRestError> {
        let body = sealed_len
            .checked_sub(HEADER_LEN as u64)
            .ok_or(AtRestError::Malformed("short stream"))?;
        if body < TAG_LEN as u64 {
            return Err(AtRestError::Malformed("short stream"));
        }
        Ok(body.div_ceil(self.sealed_chunk_len()))
    }
}

fn io_err(e: AtRestError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// Reads until `buf` is full or the input ends; returns how much was read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Seals everything `reader` yields into `writer`; returns the plaintext length.
pub fn seal_stream(
    key: &DataKey,
    chunk_size: u32,
    mut reader: impl Read,
    mut writer: impl Write,
) -> io::Result<u64> {
    let header = StreamHeader::new(key, chunk_size.clamp(1, 16 * 1024 * 1024));
    writer.write_all(&header.bytes)?;
    let size = header.chunk_size as usize;
    // Two buffers: a chunk is sealed only once we know whether another follows.
    let mut current = vec![0u8; size];
    let mut next = vec![0u8; size];
    let mut current_len = read_full(&mut reader, &mut current)?;
    let mut index = 0u64;
    let mut total = 0u64;
    loop {
        let next_len = if current_len == size {
            read_full(&mut reader, &mut next)?
        } else {
            0
        };
        let last = next_len == 0;
        let nonce = header.nonce(index, last).map_err(io_err)?;
        writer.write_all(
            &key.aead()
                .encrypt(&nonce, &header.bytes, &current[..current_len]),
        )?;
        total += current_len as u64;
        if last {
            break;
        }
        std::mem::swap(&mut current, &mut next);
        current_len = next_len;
        index += 1;
    }
    writer.flush()?;
    Ok(total)
}

/// Opens a whole sealed stream into `writer`; returns the plaintext length. Fails (with
/// `InvalidData`) on tampering or truncation; output written before the failure must be
/// discarded by the caller.
pub fn open_stream(
    key: &DataKey,
    mut reader: impl Read,
    mut writer: impl Write,
) -> io::Result<u64> {
    let mut head = [0u8; HEADER_LEN];
    if read_full(&mut reader, &mut head)? != HEADER_LEN {
        return Err(io_err(AtRestError::Malformed("short header")));
    }
    let header = check_header(key, &head)?;
    let sealed = header.sealed_chunk_len() as usize;
    let mut current = vec![0u8; sealed];
    let mut next = vec![0u8; sealed];
    let mut current_len = read_full(&mut reader, &mut current)?;
    let mut index = 0u64;
    let mut total = 0u64;
    loop {
        let next_len = if current_len == sealed {
            read_full(&mut reader, &mut next)?
        } else {
            0
        };
        let last = next_len == 0;
        let nonce = header.nonce(index, last).map_err(io_err)?;
        let plain = key
            .aead()
            .decrypt(&nonce, &header.bytes, &current[..current_len])
            .map_err(io_err)?;
        writer.write_all(&plain)?;
        total += plain.len() as u64;
        if last {
            break;
        }
        std::mem::swap(&mut current, &mut next);
        current_len = next_len;
        index += 1;
    }
    writer.flush()?;
    Ok(total)
}

fn check_header(key: &DataKey, head: &[u8]) -> io::Result<StreamHeader> {
    let header = StreamHeader::parse(head).map_err(io_err)?;
    if header.key_id != key.id() || header.algorithm != key.algorithm() {
        return Err(io_err(AtRestError::Malformed("sealed under another key")));
    }
    Ok(header)
}

/// Opens plaintext bytes `start..end` (clamped to the length) of a sealed stream of
/// `sealed_len` bytes, reading only the chunks that cover them.
pub fn open_range<R: Read + Seek>(
    key: &DataKey,
    mut reader: R,
    sealed_len: u64,
    start: u64,
    end: u64,
    mut writer: impl Write,
) -> io::Result<u64> {
    reader.seek(SeekFrom::Start(0))?;
    let mut head = [0u8; HEADER_LEN];
    if read_full(&mut reader, &mut head)? != HEADER_LEN {
        return Err(io_err(AtRestError::Malformed("short header")));
    }
    let header = check_header(key, &head)?;
    let plain_len = header.plaintext_len(sealed_len).map_err(io_err)?;
    let chunks = header.chunk_count(sealed_len).map_err(io_err)?;
    let end = end.min(plain_len);
    if start >= end {
        return Ok(0);
    }
    let size = u64::from(header.chunk_size);
    let mut buf = vec![0u8; header.sealed_chunk_len() as usize];
    let mut written = 0u64;
    for index in start / size..=(end - 1) / size {
        let offset = HEADER_LEN as u64 + index * header.sealed_chunk_len();
        reader.seek(SeekFrom::Start(offset))?;
        let want = (sealed_len - offset).min(header.sealed_chunk_len()) as usize;
        if read_full(&mut reader, &mut buf[..want])? != want {
            return Err(io_err(AtRestError::Malformed("short stream")));
        }
        let nonce = header.nonce(index, index + 1 == chunks).map_err(io_err)?;
        let plain = key
            .aead()
            .decrypt(&nonce, &header.bytes, &buf[..want])
            .map_err(io_err)?;
        let chunk_start = index * size;
        let from = start.saturating_sub(chunk_start) as usize;
        let to = ((end - chunk_start) as usize).min(plain.len());
        writer.write_all(&plain[from..to])?;
        written += (to - from) as u64;
    }
    Ok(written)
}

/// Seals a stream one chunk at a time, for callers that receive their input in pieces (an
/// upload arriving over HTTP) and cannot hand over a [`Read`]. The output is the same format
/// as [`seal_stream`]: write [`ChunkSealer::header`], then each sealed chunk in order.
pub struct ChunkSealer {
    header: StreamHeader,
    key: std::sync::Arc<DataKey>,
    index: u64,
    finished: bool,
}

impl ChunkSealer {
    pub fn new(key: std::sync::Arc<DataKey>, chunk_size: u32) -> Self {
        let header = StreamHeader::new(&key, chunk_size.clamp(1, 16 * 1024 * 1024));
        Self {
            header,
            key,
            index: 0,
            finished: false,
        }
    }

    pub fn header(&self) -> &[u8] {
        &self.header.bytes
    }

    /// Plaintext bytes per chunk.
    pub fn chunk_size(&self) -> usize {
        self.header.chunk_size as usize
    }

    /// Seals the next chunk: exactly [`ChunkSealer::chunk_size`] bytes, except the `last`
    /// one, which may be shorter (or empty) and must come once.
    pub fn seal(&mut self, plaintext: &[u8], last: bool) -> Result<Vec<u8>, AtRestError> {
        if self.finished {
            return Err(AtRestError::Malformed("the stream is already finished"));
        }
        let full = plaintext.len() == self.chunk_size();
        if !last && !full || plaintext.len() > self.chunk_size() {
            return Err(AtRestError::Malformed("a chunk of the wrong size"));
        }
        let nonce = self.header.nonce(self.index, last)?;
        self.index += 1;
        self.finished = last;
        Ok(self
            .key
            .aead()
            .encrypt(&nonce, &self.header.bytes, plaintext))
    }
}

/// Opens a sealed stream chunk by chunk (the counterpart of [`ChunkSealer`]), for callers
/// that read it in pieces or only a range of it.
pub struct ChunkOpener {
    header: StreamHeader,
    key: std::sync::Arc<DataKey>,
}

impl ChunkOpener {
    /// `head`: the stream's first [`HEADER_LEN`] bytes; the key must be the one they name.
    pub fn new(key: std::sync::Arc<DataKey>, head: &[u8]) -> Result<Self, AtRestError> {
        let header = StreamHeader::parse(head)?;
        if header.key_id != key.id() || header.algorithm != key.algorithm() {
            return Err(AtRestError::Malformed("sealed under another key"));
        }
        Ok(Self { header, key })
    }

    /// Plaintext bytes per chunk.
    pub fn chunk_size(&self) -> u64 {
        u64::from(self.header.chunk_size)
    }

    /// Stored bytes per chunk (plaintext and tag).
    pub fn sealed_chunk_len(&self) -> u64 {
        self.header.sealed_chunk_len()
    }

    pub fn chunk_count(&self, sealed_len: u64) -> Result<u64, AtRestError> {
        self.header.chunk_count(sealed_len)
    }

    pub fn plaintext_len(&self, sealed_len: u64) -> Result<u64, AtRestError> {
        self.header.plaintext_len(sealed_len)
    }

    /// Where chunk `index` starts in the stored stream.
    pub fn chunk_offset(&self, index: u64) -> u64 {
        HEADER_LEN as u64 + index * self.sealed_chunk_len()
    }

    /// Opens chunk `index` (`last`: the stream's final chunk).
    pub fn open(&self, index: u64, sealed: &[u8], last: bool) -> Result<Vec<u8>, AtRestError> {
        let nonce = self.header.nonce(index, last)?;
        self.key.aead().decrypt(&nonce, &self.header.bytes, sealed)
    }
}

#[cfg(test)]
mod chunk_tests {
    use super::*;
    use crate::at_rest::{Algorithm, DataKey};
    use std::sync::Arc;

    fn key() -> Arc<DataKey> {
        Arc::new(DataKey::new(7, Algorithm::Aes256Gcm, &[3u8; 32]).unwrap())
    }

    #[test]
    fn chunk_by_chunk_matches_the_stream_format_both_ways() {
        let key = key();
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut sealer = ChunkSealer::new(key.clone(), 4096);
        let mut sealed = sealer.header().to_vec();
        let chunks: Vec<&[u8]> = data.chunks(4096).collect();
        for (i, c) in chunks.iter().enumerate() {
            sealed.extend(sealer.seal(c, i + 1 == chunks.len()).unwrap());
        }
        assert!(
            sealer.seal(b"", true).is_err(),
            "nothing after the last chunk"
        );
        // The whole-stream opener reads what the chunk sealer wrote.
        let mut out = Vec::new();
        open_stream(&key, &sealed[..], &mut out).unwrap();
        assert_eq!(out, data);
        // And the chunk opener reads what the whole-stream sealer wrote.
        let mut whole = Vec::new();
        seal_stream(&key, 4096, &data[..], &mut whole).unwrap();
        let opener = ChunkOpener::new(key.clone(), &whole[..HEADER_LEN]).unwrap();
        let n = opener.chunk_count(whole.len() as u64).unwrap();
        assert_eq!(n, 3);
        assert_eq!(opener.plaintext_len(whole.len() as u64).unwrap(), 10_000);
        let mut back = Vec::new();
        for i in 0..n {
            let from = opener.chunk_offset(i) as usize;
            let to = (from + opener.sealed_chunk_len() as usize).min(whole.len());
            back.extend(opener.open(i, &whole[from..to], i + 1 == n).unwrap());
        }
        assert_eq!(back, data);
        // A chunk opened as if it were last (truncation) fails.
        assert!(
            opener
                .open(0, &whole[HEADER_LEN..HEADER_LEN + 4112], true)
                .is_err()
        );
        let wrong = Arc::new(DataKey::new(8, Algorithm::Aes256Gcm, &[3u8; 32]).unwrap());
        assert!(ChunkOpener::new(wrong, &whole[..HEADER_LEN]).is_err());
    }

    #[test]
    fn a_short_chunk_before_the_end_is_refused() {
        let mut sealer = ChunkSealer::new(key(), 16);
        assert!(sealer.seal(&[1u8; 10], false).is_err());
        assert!(sealer.seal(&[1u8; 17], true).is_err());
        assert!(sealer.seal(&[], true).is_ok());
    }
}

//! The blob store: file content addressed by its SHA-256, on local disk (the default, under the
//! data dir) or in S3-compatible object storage, through `object_store`'s one interface.
//!
//! An upload streams into a temporary object while it is hashed and counted (memory stays flat
//! whatever the size: at most a few multipart chunks are in flight), then moves to
//! `blobs/<aa>/<bb>/<sha256>`; content already there is kept and the copy dropped, so identical
//! uploads are stored once. Derived renditions (thumbnails, phone previews) are cached under
//! `derived/`. Nothing here knows who may read what: callers authorise first.
//!
//! Encryption at rest: when the store has a keyring, content is sealed on the way in with the
//! data key of the channel it is uploaded into, in the chunked STREAM format (`concord_core::at_rest::stream`, 64 KiB
//! chunks) and kept under `sblobs/` (renditions under `sderived/`); the address stays the hash
//! of the plaintext. Reads open it chunk by chunk, and a range reads only the chunks covering
//! it. Content stored before encryption was on stays readable under `blobs/`.

use crate::config::FilesConfig;
use bytes::Bytes;
use concord_core::Store;
use concord_core::at_rest::stream::{ChunkOpener, ChunkSealer, HEADER_LEN, StreamHeader};
use concord_core::at_rest::{AtRestError, DataKey};
use concord_proto::ChannelId;
use futures_util::{Stream, StreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};
use std::ops::Range;
use std::sync::Arc;

/// Bytes kept from the start of an upload, for type detection.
pub const HEAD_LEN: usize = concord_media::SNIFF_LEN;
/// Multipart chunk size: S3 wants at least 5 MiB per part.
const CHUNK: usize = 8 * 1024 * 1024;
/// Parts uploading at once per upload (bounds memory to about `CHUNK` x this).
const PARTS_IN_FLIGHT: usize = 2;
/// Plaintext bytes per sealed chunk.
const SEAL_CHUNK: u32 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("the file is larger than the limit of {max} bytes")]
    TooLarge { max: u64 },
    #[error("the file is empty")]
    Empty,
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    #[error("content not found")]
    NotFound,
    #[error("the blob store failed: {0}")]
    Store(String),
}

impl From<object_store::Error> for BlobError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => BlobError::NotFound,
            other => BlobError::Store(other.to_string()),
        }
    }
}

/// What an upload stored.
#[derive(Clone, Debug)]
pub struct StoredBlob {
    pub sha256: String,
    pub size: u64,
    /// The first [`HEAD_LEN`] bytes.
    pub head: Vec<u8>,
}

/// A byte range of a blob being read, with the blob's full size.
pub struct BlobRead {
    pub size: u64,
    pub range: Range<u64>,
    pub body: futures_util::stream::BoxStream<'static, Result<Bytes, BlobError>>,
}

#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    /// Where data keys come from; `None` (or a store without a keyring): plaintext.
    keys: Option<Arc<dyn Store>>,
}

fn sealing_error(e: AtRestError) -> BlobError {
    BlobError::Store(format!("sealed content: {e}"))
}

impl BlobStore {
    /// Opens the store the config names (creating the local directory).
    pub fn open(config: &FilesConfig, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        let (inner, prefix): (Arc<dyn ObjectStore>, ObjectPath) = match config.storage.as_str() {
            "s3" => {
                let s3 = &config.s3;
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_allow_http(s3.allow_http);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_virtual_hosted_style_request(false);
                }
                if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret);
                }
                let store = builder
                    .build()
                    .map_err(|e| anyhow::anyhow!("files.s3: {e}"))?;
                (Arc::new(store), ObjectPath::from(s3.prefix.as_str()))
            }
            _ => {
                let dir = config.local_dir(data_dir);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
                let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)
                    .map_err(|e| anyhow::anyhow!("files.dir {}: {e}", dir.display()))?;
                (Arc::new(store), ObjectPath::default())
            }
        };
        Ok(Self {
            inner,
            prefix,
            keys: None,
        })
    }

    /// Seals new content with the data key of its channel (when the store has a keyring) and opens
    /// sealed content with the keys it names.
    pub fn with_keys(mut self, store: Arc<dyn Store>) -> Self {
        self.keys = Some(store);
        self
    }

    async fn sealing_key(&self, channel: ChannelId) -> Result<Option<Arc<DataKey>>, BlobError> {
        match &self.keys {
            Some(store) => store
                .channel_data_key(channel)
                .await
                .map_err(|e| BlobError::Store(format!("data key: {e}"))),
            None => Ok(None),
        }
    }

    async fn key_by_id(&self, id: i64) -> Result<Arc<DataKey>, BlobError> {
        let key = match &self.keys {
            Some(store) => store
                .data_key(id)
                .await
                .map_err(|e| BlobError::Store(format!("data key {id}: {e}")))?,
            None => None,
        };
        key.ok_or_else(|| {
            BlobError::Store("the content is encrypted and no keyring was given".into())
        })
    }

    fn key(&self, parts: &[&str]) -> ObjectPath {
        let mut path = self.prefix.clone();
        for p in parts {
            path = path.join(*p);
        }
        path
    }

    fn blob_key(&self, sha256: &str, sealed: bool) -> ObjectPath {
        let (a, b) = (&sha256[..2], &sha256[2..4]);
        self.key(&[if sealed { "sblobs" } else { "blobs" }, a, b, sha256])
    }

    /// The stored size of an object, if it exists.
    async fn present(&self, key: &ObjectPath) -> Result<Option<u64>, BlobError> {
        match self.inner.head(key).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Streams `body` in, refusing more than `max` bytes (the partial upload is discarded);
    /// sealed with the data key of `channel`, where it is uploaded.
    pub async fn put<S, E>(
        &self,
        mut body: S,
        max: u64,
        channel: ChannelId,
    ) -> Result<StoredBlob, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut sealer = self
            .sealing_key(channel)
            .await?
            .map(|key| ChunkSealer::new(key, SEAL_CHUNK));
        let tmp = self.key(&["tmp", &random_name()]);
        let upload = self.inner.put_multipart(&tmp).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, CHUNK);
        // Plaintext of the chunk being filled: sealed once it is known not to be the last.
        let mut pending: Vec<u8> = Vec::new();
        if let Some(sealer) = &sealer {
            writer.write(sealer.header());
            pending.reserve(sealer.chunk_size());
        }
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut head = Vec::with_capacity(HEAD_LEN);
        let mut failure = loop {
            let chunk = match body.next().await {
                None => break None,
                Some(Ok(chunk)) => chunk,
                Some(Err(e)) => break Some(BlobError::Interrupted(e.to_string())),
            };
            size += chunk.len() as u64;
            if size > max {
                break Some(BlobError::TooLarge { max });
            }
            if head.len() < HEAD_LEN {
                let take = (HEAD_LEN - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            hasher.update(&chunk);
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                break Some(e.into());
            }
            match &mut sealer {
                None => writer.write(&chunk),
                Some(sealer) => {
                    if let Err(e) = seal_into(sealer, &mut pending, &chunk, &mut writer) {
                        break Some(e);
                    }
                }
            }
        };
        if failure.is_none() && size == 0 {
            failure = Some(BlobError::Empty);
        }
        if failure.is_none()
            && let Some(sealer) = &mut sealer
        {
            match sealer.seal(&pending, true) {
                Ok(last) => writer.write(&last),
                Err(e) => failure = Some(sealing_error(e)),
            }
        }
        if let Some(e) = failure {
            let _ = writer.abort().await;
            return Err(e);
        }
        writer.finish().await?;
        let sha256 = hex::encode(hasher.finalize());
        let stored_before = match self.exists(&sha256).await {
            Ok(found) => found,
            Err(e) => {
                let _ = self.inner.delete(&tmp).await;
                return Err(e);
            }
        };
        if stored_before {
            // Keep the original, drop the copy.
            let _ = self.inner.delete(&tmp).await;
        } else {
            let key = self.blob_key(&sha256, sealer.is_some());
            self.inner.rename(&tmp, &key).await?;
        }
        Ok(StoredBlob { sha256, size, head })
    }

    /// Reads a blob, or the byte range of it (`None`: all of it).
    pub async fn get(
        &self,
        sha256: &str,
        range: Option<Range<u64>>,
    ) -> Result<BlobRead, BlobError> {
        let sealed = self.blob_key(sha256, true);
        if let Some(sealed_len) = self.present(&sealed).await? {
            return self.get_sealed(&sealed, sealed_len, range).await;
        }
        let options = GetOptions {
            range: range.clone().map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = self
            .inner
            .get_opts(&self.blob_key(sha256, false), options)
            .await?;
        let size = result.meta.size;
        let range = result.range.clone();
        let body = result
            .into_stream()
            .map(|r| r.map_err(BlobError::from))
            .boxed();
        Ok(BlobRead { size, range, body })
    }

    /// A range of sealed content: the chunks covering it are fetched as one ranged read and
    /// opened one at a time as they stream in.
    async fn get_sealed(
        &self,
        key: &ObjectPath,
        sealed_len: u64,
        range: Option<Range<u64>>,
    ) -> Result<BlobRead, BlobError> {
        let head = self.inner.get_range(key, 0..HEADER_LEN as u64).await?;
        let header = StreamHeader::parse(&head).map_err(sealing_error)?;
        let data_key = self.key_by_id(header.key_id).await?;
        let opener = ChunkOpener::new(data_key, &head).map_err(sealing_error)?;
        let size = opener.plaintext_len(sealed_len).map_err(sealing_error)?;
        let chunks = opener.chunk_count(sealed_len).map_err(sealing_error)?;
        let wanted = range.unwrap_or(0..size);
        let (start, end) = (wanted.start.min(size), wanted.end.min(size));
        if start >= end {
            return Ok(BlobRead {
                size,
                range: start..start,
                body: futures_util::stream::empty().boxed(),
            });
        }
        let chunk = opener.chunk_size();
        let (first, last) = (start / chunk, (end - 1) / chunk);
        let from = opener.chunk_offset(first);
        let to = opener.chunk_offset(last + 1).min(sealed_len);
        let sealed = self
            .inner
            .get_opts(
                key,
                GetOptions {
                    range: Some(GetRange::Bounded(from..to)),
                    ..GetOptions::default()
                },
            )
            .await?
            .into_stream();
        let state = OpenState {
            sealed,
            buffer: bytes::BytesMut::new(),
            index: first,
            last,
            chunks,
            start,
            end,
            opener,
            done: false,
        };
        let body = futures_util::stream::unfold(state, |mut st| async move {
            match st.next_plain().await {
                Ok(Some(bytes)) => Some((Ok(bytes), st)),
                Ok(None) => None,
                Err(e) => {
                    st.done = true;
                    Some((Err(e), st))
                }
            }
        })
        .boxed();
        Ok(BlobRead {
            size,
            range: start..end,
            body,
        })
    }

    /// Reads a whole blob into memory; only for content under a processing limit.
    pub async fn read_all(&self, sha256: &str) -> Result<Bytes, BlobError> {
        let read = self.get(sha256, None).await?;
        let mut out = Vec::with_capacity(usize::try_from(read.size).unwrap_or(0));
        let mut body = read.body;
        while let Some(chunk) = body.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(Bytes::from(out))
    }

    /// A cached rendition of a blob (`variant` e.g. `thumb-320`).
    pub async fn derived(&self, sha256: &str, variant: &str) -> Result<Option<Bytes>, BlobError> {
        match self
            .inner
            .get(&self.key(&["sderived", sha256, variant]))
            .await
        {
            Ok(result) => {
                let sealed = result.bytes().await?;
                let id = concord_core::at_rest::sealed_key_id(&sealed).map_err(sealing_error)?;
                let key = self.key_by_id(id).await?;
                return Ok(Some(Bytes::from(key.open(&sealed).map_err(sealing_error)?)));
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        match self
            .inner
            .get(&self.key(&["derived", sha256, variant]))
            .await
        {
            Ok(result) => Ok(Some(result.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Caches a rendition, sealed with the data key of `channel` (the file's).
    pub async fn put_derived(
        &self,
        sha256: &str,
        variant: &str,
        bytes: Bytes,
        channel: ChannelId,
    ) -> Result<(), BlobError> {
        let (path, payload) = match self.sealing_key(channel).await? {
            Some(key) => (
                self.key(&["sderived", sha256, variant]),
                PutPayload::from(key.seal(&bytes)),
            ),
            None => (
                self.key(&["derived", sha256, variant]),
                PutPayload::from(bytes),
            ),
        };
        self.inner.put(&path, payload).await?;
        Ok(())
    }

    /// Deletes a blob and its renditions (content no file uses any more).
    pub async fn delete(&self, sha256: &str) -> Result<(), BlobError> {
        for key in [self.blob_key(sha256, false), self.blob_key(sha256, true)] {
            match self.inner.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        for kind in ["derived", "sderived"] {
            let derived = self.key(&[kind, sha256]);
            let mut listing = self.inner.list(Some(&derived));
            while let Some(meta) = listing.next().await {
                let meta = meta?;
                let _ = self.inner.delete(&meta.location).await;
            }
        }
        Ok(())
    }

    /// Whether the blob's content is present (sealed or not).
    pub async fn exists(&self, sha256: &str) -> Result<bool, BlobError> {
        Ok(self.present(&self.blob_key(sha256, true)).await?.is_some()
            || self.present(&self.blob_key(sha256, false)).await?.is_some())
    }
}

/// Seals `data` chunk by chunk into `writer`, keeping the last, possibly partial, chunk in
/// `pending` (it is sealed as the final one only when the upload ends).
fn seal_into(
    sealer: &mut ChunkSealer,
    pending: &mut Vec<u8>,
    mut data: &[u8],
    writer: &mut WriteMultipart,
) -> Result<(), BlobError> {
    let size = sealer.chunk_size();
    while !data.is_empty() {
        if pending.len() == size {
            writer.write(&sealer.seal(pending, false).map_err(sealing_error)?);
            pending.clear();
        }
        let take = (size - pending.len()).min(data.len());
        pending.extend_from_slice(&data[..take]);
        data = &data[take..];
    }
    Ok(())
}

/// A ranged read of sealed content, opened as it streams in.
struct OpenState {
    sealed: futures_util::stream::BoxStream<'static, object_store::Result<Bytes>>,
    /// Stored bytes read ahead (taking a chunk off the front is O(1)).
    buffer: bytes::BytesMut,
    /// The chunk being filled.
    index: u64,
    /// The last chunk wanted, and how many the stream has.
    last: u64,
    chunks: u64,
    /// The plaintext range wanted.
    start: u64,
    end: u64,
    opener: ChunkOpener,
    done: bool,
}

impl OpenState {
    /// The next opened chunk, cut to the wanted range; `None` at the end.
    async fn next_plain(&mut self) -> Result<Option<Bytes>, BlobError> {
        if self.done || self.index > self.last {
            return Ok(None);
        }
        let full = self.opener.sealed_chunk_len() as usize;
        let is_final = self.index + 1 == self.chunks;
        while self.buffer.len() < full {
            match self.sealed.next().await {
                Some(bytes) => self.buffer.extend_from_slice(&bytes?),
                None if is_final => break,
                None => return Err(BlobError::Store("the stored content is truncated".into())),
            }
        }
        let take = self.buffer.len().min(full);
        let sealed = self.buffer.split_to(take);
        let plain = self
            .opener
            .open(self.index, &sealed, is_final)
            .map_err(sealing_error)?;
        let chunk_start = self.index * self.opener.chunk_size();
        let from = self.start.saturating_sub(chunk_start) as usize;
        let to = ((self.end - chunk_start) as usize).min(plain.len());
        self.index += 1;
        Ok(Some(Bytes::copy_from_slice(&plain[from.min(to)..to])))
    }
}

fn random_name() -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    hex::encode(bytes)
}

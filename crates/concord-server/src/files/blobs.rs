//! The blob store: file content addressed by its SHA-256, on local disk (the default, under the
//! data dir) or in S3-compatible object storage, through `object_store`'s one interface.
//!
//! An upload streams into a temporary object while it is hashed and counted (memory stays flat
//! whatever the size: at most a few multipart chunks are in flight), then moves to
//! `blobs/<aa>/<bb>/<sha256>`; content already there is kept and the copy dropped, so identical
//! uploads are stored once. Derived renditions (thumbnails, phone previews) are cached under
//! `derived/`. Nothing here knows who may read what: callers authorise first.

use crate::config::FilesConfig;
use bytes::Bytes;
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
}

impl BlobStore {
    /// Opens the store the config names (creating the local directory).
    pub fn open(config: &FilesConfig, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        match config.storage.as_str() {
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
                Ok(Self {
                    inner: Arc::new(store),
                    prefix: ObjectPath::from(s3.prefix.as_str()),
                })
            }
            _ => {
                let dir = config.local_dir(data_dir);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
                let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)
                    .map_err(|e| anyhow::anyhow!("files.dir {}: {e}", dir.display()))?;
                Ok(Self {
                    inner: Arc::new(store),
                    prefix: ObjectPath::default(),
                })
            }
        }
    }

    fn key(&self, parts: &[&str]) -> ObjectPath {
        let mut path = self.prefix.clone();
        for p in parts {
            path = path.join(*p);
        }
        path
    }

    fn blob_key(&self, sha256: &str) -> ObjectPath {
        let (a, b) = (&sha256[..2], &sha256[2..4]);
        self.key(&["blobs", a, b, sha256])
    }

    /// Streams `body` in, refusing more than `max` bytes (the partial upload is discarded).
    pub async fn put<S, E>(&self, mut body: S, max: u64) -> Result<StoredBlob, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let tmp = self.key(&["tmp", &random_name()]);
        let upload = self.inner.put_multipart(&tmp).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, CHUNK);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut head = Vec::with_capacity(HEAD_LEN);
        let failure = loop {
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
            writer.write(&chunk);
        };
        let failure = failure.or((size == 0).then_some(BlobError::Empty));
        if let Some(e) = failure {
            let _ = writer.abort().await;
            return Err(e);
        }
        writer.finish().await?;
        let sha256 = hex::encode(hasher.finalize());
        let key = self.blob_key(&sha256);
        match self.inner.head(&key).await {
            Ok(_) => {
                // Stored before: keep the original, drop the copy.
                let _ = self.inner.delete(&tmp).await;
            }
            Err(object_store::Error::NotFound { .. }) => {
                self.inner.rename(&tmp, &key).await?;
            }
            Err(e) => {
                let _ = self.inner.delete(&tmp).await;
                return Err(e.into());
            }
        }
        Ok(StoredBlob { sha256, size, head })
    }

    /// Reads a blob, or the byte range of it (`None`: all of it).
    pub async fn get(
        &self,
        sha256: &str,
        range: Option<Range<u64>>,
    ) -> Result<BlobRead, BlobError> {
        let options = GetOptions {
            range: range.clone().map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = self.inner.get_opts(&self.blob_key(sha256), options).await?;
        let size = result.meta.size;
        let range = result.range.clone();
        let body = result
            .into_stream()
            .map(|r| r.map_err(BlobError::from))
            .boxed();
        Ok(BlobRead { size, range, body })
    }

    /// Reads a whole blob into memory; only for content under a processing limit.
    pub async fn read_all(&self, sha256: &str) -> Result<Bytes, BlobError> {
        let result = self.inner.get(&self.blob_key(sha256)).await?;
        Ok(result.bytes().await?)
    }

    /// A cached rendition of a blob (`variant` e.g. `thumb-320`).
    pub async fn derived(&self, sha256: &str, variant: &str) -> Result<Option<Bytes>, BlobError> {
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

    pub async fn put_derived(
        &self,
        sha256: &str,
        variant: &str,
        bytes: Bytes,
    ) -> Result<(), BlobError> {
        self.inner
            .put(
                &self.key(&["derived", sha256, variant]),
                PutPayload::from(bytes),
            )
            .await?;
        Ok(())
    }

    /// Deletes a blob and its renditions (content no file uses any more).
    pub async fn delete(&self, sha256: &str) -> Result<(), BlobError> {
        match self.inner.delete(&self.blob_key(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let derived = self.key(&["derived", sha256]);
        let mut listing = self.inner.list(Some(&derived));
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            let _ = self.inner.delete(&meta.location).await;
        }
        Ok(())
    }

    /// Whether the blob's content is present.
    pub async fn exists(&self, sha256: &str) -> Result<bool, BlobError> {
        match self.inner.head(&self.blob_key(sha256)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

fn random_name() -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    hex::encode(bytes)
}

//! File content: the blob store, and the work around it that needs neither the store of
//! record nor the HTTP layer — type detection on upload, thumbnails and phone renditions
//! (cached), removing image location for other viewers, dynamic watermarks for sensitive
//! files, and signed expiring links. Who may do what is decided by the core's file services;
//! handlers (`routes/files.rs`) call those first, then this.

pub mod blobs;

use crate::config::FilesConfig;
use blobs::{BlobError, BlobStore, StoredBlob};
use bytes::Bytes;
use concord_core::service::UploadedContent;
use concord_media::{FileKind, MediaError, MediaLimits, Sniffed, WatermarkFont, Watermarker};
use concord_proto::{FileId, UserId};
use jiff::Timestamp;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// What a signed link fetches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Content,
    Thumbnail,
    Preview,
}

impl Variant {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "content" => Some(Variant::Content),
            "thumbnail" => Some(Variant::Thumbnail),
            "preview" => Some(Variant::Preview),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Content => "content",
            Variant::Thumbnail => "thumbnail",
            Variant::Preview => "preview",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Media(#[from] MediaError),
    /// A sensitive image or PDF cannot be served without a watermark font.
    #[error("sensitive files cannot be shown: the server has no watermark font ({0})")]
    NoWatermarkFont(String),
    /// A rendition or watermark was asked of content too large to process.
    #[error("the file is too large to {0} (limit {1} bytes)")]
    TooLargeToProcess(&'static str, u64),
    #[error("no preview for this type of file")]
    NoPreview,
}

/// The file feature's state: content storage and processing.
pub struct Files {
    pub blobs: BlobStore,
    pub config: FilesConfig,
    limits: MediaLimits,
    /// `None` when no CJK-capable font was found: sensitive images and PDFs are then refused.
    watermarker: Result<Arc<Watermarker>, String>,
    link_key: ring::hmac::Key,
    /// CPU-heavy work (decoding, watermarking) at most one per core.
    processing: Arc<Semaphore>,
}

impl Files {
    /// `keys` provides the data keys content is sealed with (when it has a keyring; `None`:
    /// content is stored as it comes, as in unit tests without a store).
    pub fn open(
        config: &FilesConfig,
        data_dir: &std::path::Path,
        keys: Option<Arc<dyn concord_core::Store>>,
    ) -> anyhow::Result<Self> {
        let mut blobs = BlobStore::open(config, data_dir)?;
        if let Some(store) = keys {
            blobs = blobs.with_keys(store);
        }
        let limits = MediaLimits {
            max_input_bytes: usize::try_from(config.max_processing_bytes).unwrap_or(usize::MAX),
            max_image_pixels: config.max_image_pixels,
            ..MediaLimits::default()
        };
        let font = config.watermark_font.as_deref().map(|p| (p, 0));
        let watermarker = match WatermarkFont::discover(font) {
            Ok(font) => {
                tracing::info!(font = %font.path().display(), "watermark font");
                Ok(Arc::new(Watermarker::new(font)))
            }
            Err(e) => {
                tracing::warn!(error = %e, "no CJK font for watermarks: sensitive images and PDFs \
                    cannot be served (install fonts-wqy-microhei or fonts-noto-cjk, or set files.watermark_font)");
                Err(e.to_string())
            }
        };
        let secret = crate::keys::load_or_create_secret(data_dir, "link-signing.key")?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            blobs,
            config: config.clone(),
            limits,
            watermarker,
            link_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret),
            processing: Arc::new(Semaphore::new(cores)),
        })
    }

    /// Streams an upload into the blob store and describes it: type from the content, and
    /// image dimensions from the header (the image is never decoded here).
    pub async fn store_upload<S, E>(
        &self,
        body: S,
        declared_name: &str,
        channel: concord_proto::ChannelId,
    ) -> Result<(StoredBlob, Sniffed, UploadedContent), FileError>
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let blob = self
            .blobs
            .put(body, self.config.max_upload_bytes, channel)
            .await?;
        let sniffed = concord_media::sniff(&blob.head, declared_name);
        let (mut width, mut height) = (None, None);
        if sniffed.kind == FileKind::Image {
            // The header is usually in the first bytes; a JPEG with a large EXIF block may need
            // more, read only when the file is small enough to process anyway.
            let probed = match concord_media::probe(&blob.head, &self.limits) {
                Ok(info) => Some(info),
                Err(_) if blob.size <= self.config.max_processing_bytes => {
                    let bytes = self.blobs.read_all(&blob.sha256).await?;
                    concord_media::probe(&bytes, &self.limits).ok()
                }
                Err(_) => None,
            };
            if let Some(info) = probed {
                width = Some(i64::from(info.width));
                height = Some(i64::from(info.height));
            }
        }
        let content = UploadedContent {
            sha256: blob.sha256.clone(),
            size: blob.size as i64,
            mime: sniffed.mime.to_string(),
            width,
            height,
        };
        Ok((blob, sniffed, content))
    }

    /// Runs CPU-bound media work on the blocking pool, at most one job per core.
    async fn process<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> Result<T, MediaError> + Send + 'static,
    ) -> Result<T, FileError> {
        let _permit = self
            .processing
            .acquire()
            .await
            .map_err(|e| BlobError::Store(e.to_string()))?;
        tokio::task::spawn_blocking(job)
            .await
            .map_err(|e| FileError::Blob(BlobError::Store(e.to_string())))?
            .map_err(FileError::from)
    }

    /// Whole content for processing, refusing what is over the processing limit.
    async fn load_for(
        &self,
        sha256: &str,
        size: i64,
        what: &'static str,
    ) -> Result<Bytes, FileError> {
        if size as u64 > self.config.max_processing_bytes {
            return Err(FileError::TooLargeToProcess(
                what,
                self.config.max_processing_bytes,
            ));
        }
        Ok(self.blobs.read_all(sha256).await?)
    }

    /// A thumbnail or phone rendition of an image (JPEG/PNG bytes), made once and cached.
    pub async fn rendition(
        &self,
        sha256: &str,
        size: i64,
        mime: &str,
        variant: Variant,
        channel: concord_proto::ChannelId,
    ) -> Result<(Bytes, &'static str), FileError> {
        if !mime.starts_with("image/") {
            return Err(FileError::NoPreview);
        }
        let key = match variant {
            Variant::Thumbnail => format!("thumb-{}", self.config.thumbnail_px),
            Variant::Preview => format!(
                "preview-{}-q{}",
                self.config.preview_width_px, self.config.preview_quality
            ),
            Variant::Content => return Err(FileError::NoPreview),
        };
        if let Some(bytes) = self.blobs.derived(sha256, &key).await? {
            let mime = if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
                "image/png"
            } else {
                "image/jpeg"
            };
            return Ok((bytes, mime));
        }
        let original = self.load_for(sha256, size, "preview").await?;
        let limits = self.limits.clone();
        let (thumb_px, width, quality) = (
            self.config.thumbnail_px,
            self.config.preview_width_px,
            self.config.preview_quality,
        );
        let encoded = self
            .process(move || match variant {
                Variant::Thumbnail => concord_media::thumbnail(&original, thumb_px, &limits),
                _ => concord_media::rendition(&original, width, quality, &limits),
            })
            .await?;
        let bytes = Bytes::from(encoded.bytes);
        self.blobs
            .put_derived(sha256, &key, bytes.clone(), channel)
            .await?;
        Ok((bytes, encoded.mime))
    }

    /// The original with its location removed (for viewers other than the uploader).
    pub async fn without_location(&self, sha256: &str, size: i64) -> Result<Bytes, FileError> {
        let original = self
            .load_for(sha256, size, "remove the location from")
            .await?;
        let limits = self.limits.clone();
        let stripped = self
            .process(move || concord_media::strip_location(&original, &limits))
            .await?;
        Ok(Bytes::from(stripped))
    }

    /// Whether content of this kind gets a visible watermark when sensitive.
    pub fn watermarkable(mime: &str) -> bool {
        mime.starts_with("image/") || mime == "application/pdf"
    }

    /// Draws the viewer's name, id and the time over an image or every page of a PDF.
    pub async fn watermark(
        &self,
        content: Bytes,
        mime: &str,
        viewer_lines: Vec<String>,
    ) -> Result<(Bytes, String), FileError> {
        let marker = self
            .watermarker
            .clone()
            .map_err(FileError::NoWatermarkFont)?;
        let text = concord_media::WatermarkText::new(viewer_lines);
        let limits = self.limits.clone();
        if mime == "application/pdf" {
            let out = self
                .process(move || marker.watermark_pdf(&content, &text, &limits))
                .await?;
            Ok((Bytes::from(out), "application/pdf".into()))
        } else {
            let out = self
                .process(move || marker.watermark_image(&content, &text, &limits))
                .await?;
            Ok((Bytes::from(out.bytes), out.mime.to_string()))
        }
    }

    /// Loads content to watermark, refusing what is too large to process.
    pub async fn load_to_watermark(&self, sha256: &str, size: i64) -> Result<Bytes, FileError> {
        self.load_for(sha256, size, "watermark").await
    }

    fn link_message(
        file: FileId,
        version: i64,
        variant: Variant,
        viewer: UserId,
        exp: i64,
    ) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            file.0,
            version,
            variant.as_str(),
            viewer.0,
            exp
        )
    }

    /// A path that fetches `variant` of the file's `version` as `viewer` until `expires`.
    pub fn signed_path(
        &self,
        file: FileId,
        version: i64,
        variant: Variant,
        viewer: UserId,
        expires: Timestamp,
    ) -> String {
        let exp = expires.as_second();
        let tag = ring::hmac::sign(
            &self.link_key,
            Self::link_message(file, version, variant, viewer, exp).as_bytes(),
        );
        format!(
            "/api/v1/files/{}/{}?version={}&exp={}&viewer={}&sig={}",
            file.0,
            variant.as_str(),
            version,
            exp,
            viewer.0,
            hex::encode(tag.as_ref())
        )
    }

    /// Whether a link's signature is genuine and unexpired (compared in constant time).
    // Each argument is one signed field of the link; a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub fn verify_link(
        &self,
        file: FileId,
        version: i64,
        variant: Variant,
        viewer: UserId,
        exp: i64,
        sig: &str,
        now: Timestamp,
    ) -> bool {
        if exp < now.as_second() {
            return false;
        }
        let Ok(tag) = hex::decode(sig) else {
            return false;
        };
        ring::hmac::verify(
            &self.link_key,
            Self::link_message(file, version, variant, viewer, exp).as_bytes(),
            &tag,
        )
        .is_ok()
    }

    /// The text of a text file or PDF (for DLP and search), if small enough to process.
    pub async fn text_of(&self, sha256: &str, size: i64, kind: FileKind) -> Option<String> {
        const MAX_CHARS: usize = 1_000_000;
        let bytes = self.load_for(sha256, size, "read").await.ok()?;
        let limits = self.limits.clone();
        self.process(move || {
            Ok(concord_media::extract_text(
                &bytes, kind, MAX_CHARS, &limits,
            ))
        })
        .await
        .ok()
        .flatten()
    }

    /// Deletes content no file version uses any more (after retention removed the files),
    /// forgetting each blob in the store first so a concurrent identical upload keeps it.
    pub async fn collect_garbage(&self, store: &dyn concord_core::Store) -> Result<u64, FileError> {
        collect_garbage(store, &self.blobs).await
    }

    /// A sniff of stored content (for serving: inline only what cannot run script).
    pub async fn sniff_stored(&self, sha256: &str, name: &str) -> Result<Sniffed, FileError> {
        let read = self
            .blobs
            .get(sha256, Some(0..blobs::HEAD_LEN as u64))
            .await;
        let head = match read {
            Ok(read) => {
                use futures_util::StreamExt;
                let mut head = Vec::new();
                let mut body = read.body;
                while let Some(chunk) = body.next().await {
                    head.extend_from_slice(&chunk?);
                }
                head
            }
            Err(e) => return Err(e.into()),
        };
        Ok(concord_media::sniff(&head, name))
    }
}

/// See [`Files::collect_garbage`]; also for the CLI, which has no [`Files`].
pub async fn collect_garbage(
    store: &dyn concord_core::Store,
    blobs: &BlobStore,
) -> Result<u64, FileError> {
    let mut removed = 0;
    loop {
        let batch = store
            .unreferenced_blobs(500)
            .await
            .map_err(|e| BlobError::Store(e.to_string()))?;
        if batch.is_empty() {
            return Ok(removed);
        }
        let mut progressed = false;
        for sha256 in batch {
            if store
                .forget_blob(sha256.clone())
                .await
                .map_err(|e| BlobError::Store(e.to_string()))?
            {
                blobs.delete(&sha256).await?;
                removed += 1;
                progressed = true;
            }
        }
        if !progressed {
            return Ok(removed);
        }
    }
}

//! The `[files]` section: where uploaded content is stored (local disk or S3-compatible object
//! storage), how big uploads may be, and how images and sensitive files are served.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilesConfig {
    /// `local` (a directory, the default) or `s3` (S3-compatible object storage, `[files.s3]`).
    pub storage: String,
    /// Directory of the local store; default `data_dir/files`.
    pub dir: Option<PathBuf>,
    /// Largest upload in bytes (streamed, never held in memory whole).
    pub max_upload_bytes: u64,
    /// How long a signed download link works, in seconds.
    pub link_ttl_secs: u64,
    /// Keep GPS location in the EXIF data of images others download (off: it is removed).
    pub keep_image_location: bool,
    /// Longest side of thumbnails, in pixels.
    pub thumbnail_px: u32,
    /// Width of the compressed rendition for phones, in pixels.
    pub preview_width_px: u32,
    /// JPEG quality of renditions (1-100).
    pub preview_quality: u8,
    /// Images with more pixels than this are stored but never decoded (no thumbnail, no
    /// watermark): a guard against pixel floods.
    pub max_image_pixels: u64,
    /// Images and PDFs larger than this are not processed (thumbnails, watermarks, text for
    /// search); a sensitive one then cannot be previewed or downloaded.
    pub max_processing_bytes: u64,
    /// A TrueType/OpenType font (or collection) with CJK glyphs for watermarks; empty: look in
    /// the usual system places (Debian `fonts-wqy-microhei`, `fonts-noto-cjk`).
    pub watermark_font: Option<PathBuf>,
    pub s3: S3Config,
}

/// S3-compatible object storage (AWS S3, MinIO, Ceph RGW...).
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    pub bucket: String,
    /// e.g. `http://127.0.0.1:9000` for a local MinIO; empty for AWS.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Allow plain-HTTP endpoints (a store on the same host or network).
    pub allow_http: bool,
    /// Key prefix inside the bucket.
    pub prefix: String,
}

impl Default for FilesConfig {
    fn default() -> Self {
        Self {
            storage: "local".into(),
            dir: None,
            max_upload_bytes: 2 * 1024 * 1024 * 1024,
            link_ttl_secs: 300,
            keep_image_location: false,
            thumbnail_px: 320,
            preview_width_px: 1080,
            preview_quality: 80,
            max_image_pixels: 64_000_000,
            max_processing_bytes: 64 * 1024 * 1024,
            watermark_font: None,
            s3: S3Config {
                region: "us-east-1".into(),
                ..S3Config::default()
            },
        }
    }
}

impl std::fmt::Debug for FilesConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilesConfig")
            .field("storage", &self.storage)
            .field("dir", &self.dir)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("link_ttl_secs", &self.link_ttl_secs)
            .field("keep_image_location", &self.keep_image_location)
            .field("s3_bucket", &self.s3.bucket)
            .field("s3_endpoint", &self.s3.endpoint)
            .field(
                "s3_access_key",
                &self.s3.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl FilesConfig {
    /// Where the local store keeps content.
    pub fn local_dir(&self, data_dir: &Path) -> PathBuf {
        self.dir.clone().unwrap_or_else(|| data_dir.join("files"))
    }

    pub(super) fn validate(&self) -> Result<(), String> {
        match self.storage.as_str() {
            "local" => {}
            "s3" => {
                if self.s3.bucket.is_empty() {
                    return Err("files.s3.bucket must be set when files.storage is \"s3\"".into());
                }
                if let Some(endpoint) = &self.s3.endpoint
                    && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
                {
                    return Err("files.s3.endpoint must be an http:// or https:// URL".into());
                }
            }
            other => {
                return Err(format!(
                    "files.storage must be \"local\" or \"s3\", not {other:?}"
                ));
            }
        }
        if self.max_upload_bytes == 0 {
            return Err("files.max_upload_bytes must be at least 1".into());
        }
        if !(10..=86_400).contains(&self.link_ttl_secs) {
            return Err("files.link_ttl_secs must be 10 to 86400".into());
        }
        if !(16..=2048).contains(&self.thumbnail_px) {
            return Err("files.thumbnail_px must be 16 to 2048".into());
        }
        if !(64..=8192).contains(&self.preview_width_px) {
            return Err("files.preview_width_px must be 64 to 8192".into());
        }
        if !(1..=100).contains(&self.preview_quality) {
            return Err("files.preview_quality must be 1 to 100".into());
        }
        if self.max_image_pixels < 1_000_000 {
            return Err("files.max_image_pixels must be at least 1000000".into());
        }
        if self.max_processing_bytes < 1024 * 1024 {
            return Err("files.max_processing_bytes must be at least 1 MiB".into());
        }
        Ok(())
    }
}

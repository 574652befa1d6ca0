//! The zip archive an export becomes, built in a temporary file so memory stays flat whatever
//! its size: file contents are copied into it chunk by chunk, and the row files (JSON Lines,
//! CSV), which grow side by side as pages of rows arrive, are spooled to their own temporary
//! files and copied in at the end. Every entry is hashed (SHA-256) as it goes in, for the
//! manifest. Synchronous: the export runs on a blocking thread.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

/// One entry as the manifest lists it: path in the archive, uncompressed size and SHA-256.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ManifestEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// A row file being filled (a temporary file), copied into the archive by
/// [`Archive::add_spool`].
pub struct Spool {
    path: String,
    out: BufWriter<File>,
}

impl Spool {
    pub fn write_line(&mut self, line: &str) -> io::Result<()> {
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")
    }
}

/// The archive under construction.
pub struct Archive {
    zip: ZipWriter<File>,
    entries: Vec<ManifestEntry>,
    /// The entry being written chunk by chunk, with its hash so far.
    open: Option<(String, Sha256, u64)>,
    spool_dir: tempfile::TempDir,
}

const COPY_CHUNK: usize = 64 * 1024;

fn options() -> SimpleFileOptions {
    // ZIP64 headers on every entry: a file content may pass 4 GiB.
    SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true)
}

fn zip_io(e: zip::result::ZipError) -> io::Error {
    match e {
        zip::result::ZipError::Io(e) => e,
        other => io::Error::other(other),
    }
}

impl Archive {
    /// Starts an archive in an unnamed temporary file under `dir` (gone when dropped).
    pub fn create(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let file = tempfile::tempfile_in(dir)?;
        let spool_dir = tempfile::Builder::new().prefix("spool-").tempdir_in(dir)?;
        Ok(Self {
            zip: ZipWriter::new(file),
            entries: Vec::new(),
            open: None,
            spool_dir,
        })
    }

    /// A row file for `path`; CSV files start with a UTF-8 byte-order mark so spreadsheet
    /// programs read Chinese text as UTF-8.
    pub fn spool(&self, path: &str) -> io::Result<Spool> {
        let file = tempfile::tempfile_in(self.spool_dir.path())?;
        let mut out = BufWriter::new(file);
        if path.ends_with(".csv") {
            out.write_all("\u{feff}".as_bytes())?;
        }
        Ok(Spool {
            path: path.to_string(),
            out,
        })
    }

    /// Copies a finished row file into the archive.
    pub fn add_spool(&mut self, spool: Spool) -> io::Result<()> {
        let mut file = spool.out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        self.begin(&spool.path)?;
        let mut buf = vec![0u8; COPY_CHUNK];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            self.write_chunk(&buf[..n])?;
        }
        self.end()
    }

    /// Adds a small entry whole.
    pub fn add_bytes(&mut self, path: &str, bytes: &[u8]) -> io::Result<()> {
        self.begin(path)?;
        self.write_chunk(bytes)?;
        self.end()
    }

    /// Opens an entry to be written with [`Self::write_chunk`] and closed with [`Self::end`].
    pub fn begin(&mut self, path: &str) -> io::Result<()> {
        self.zip.start_file(path, options()).map_err(zip_io)?;
        self.open = Some((path.to_string(), Sha256::new(), 0));
        Ok(())
    }

    pub fn write_chunk(&mut self, bytes: &[u8]) -> io::Result<()> {
        let (_, hasher, size) = self
            .open
            .as_mut()
            .ok_or_else(|| io::Error::other("no archive entry is open"))?;
        hasher.update(bytes);
        *size += bytes.len() as u64;
        self.zip.write_all(bytes)
    }

    /// Closes the open entry and records it for the manifest.
    pub fn end(&mut self) -> io::Result<()> {
        let (path, hasher, size) = self
            .open
            .take()
            .ok_or_else(|| io::Error::other("no archive entry is open"))?;
        self.entries.push(ManifestEntry {
            path,
            size,
            sha256: hex::encode(hasher.finalize()),
        });
        Ok(())
    }

    /// Removes a half-written entry (e.g. its content could not be read to the end).
    pub fn abandon(&mut self) -> io::Result<()> {
        if self.open.take().is_some() {
            self.zip.abort_file().map_err(zip_io)?;
        }
        Ok(())
    }

    pub fn entries(&self) -> &[ManifestEntry] {
        &self.entries
    }

    /// Writes `manifest.json` last and finishes the archive; answers the file (rewound), its
    /// size and SHA-256, and the manifest's SHA-256.
    pub fn finish(mut self, manifest: &[u8]) -> io::Result<FinishedArchive> {
        self.zip
            .start_file("manifest.json", options())
            .map_err(zip_io)?;
        self.zip.write_all(manifest)?;
        let manifest_sha256 = hex::encode(Sha256::digest(manifest));
        let mut file = self.zip.finish().map_err(zip_io)?;
        file.flush()?;
        file.seek(SeekFrom::Start(0))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; COPY_CHUNK];
        let mut size = 0u64;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += n as u64;
        }
        file.seek(SeekFrom::Start(0))?;
        Ok(FinishedArchive {
            file,
            size,
            sha256: hex::encode(hasher.finalize()),
            manifest_sha256,
        })
    }
}

/// A complete archive in an unnamed temporary file, rewound for reading.
pub struct FinishedArchive {
    pub file: File,
    pub size: u64,
    pub sha256: String,
    pub manifest_sha256: String,
}

/// One CSV record (RFC 4180): a field with a comma, quote, CR or LF is quoted, quotes doubled.
pub fn csv_record<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        let field = field.as_ref();
        if field.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&field.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(field);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_what_needs_it() {
        assert_eq!(csv_record(&["a", "b c", "即时通讯"]), "a,b c,即时通讯");
        assert_eq!(
            csv_record(&["x,y", "say \"hi\"", "two\nlines", "cr\r"]),
            "\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\r\""
        );
        assert_eq!(csv_record::<&str>(&[]), "");
        assert_eq!(csv_record(&["", ""]), ",");
    }
}

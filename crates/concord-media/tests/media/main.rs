//! Behaviour tests for concord-media, on files generated here: photos with EXIF GPS blocks,
//! pixel-flood headers, polyglots, PDFs with English and Chinese text, GBK text.

mod fixtures;
mod hostile;
mod images;
mod location;
mod mutations;
mod pdf;
mod sniffing;
mod watermark;

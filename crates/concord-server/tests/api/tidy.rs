//! House rules checked mechanically: every Rust module says what it owns in a `//!` doc, and
//! no source file grows past the size where it should be split.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn workspace_sources() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for top in ["crates", "bench"] {
        rust_files(&root.join(top), &mut files);
    }
    files.retain(|p| !p.components().any(|c| c.as_os_str() == "target"));
    assert!(files.len() > 20, "found only {} files", files.len());
    files
}

/// Files spliced into a module with `include!("...")`: they cannot carry inner docs.
fn included_files(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        for part in text.split("include!(\"").skip(1) {
            // Mentions that name no file (like the one in this comment's string) do not count.
            if let Some(Ok(path)) = part
                .split('"')
                .next()
                .map(|name| file.parent().unwrap().join(name).canonicalize())
            {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn every_module_starts_with_a_doc_comment() {
    let files = workspace_sources();
    let included = included_files(&files);
    assert!(
        !included.is_empty(),
        "the store's backends include their shared parts"
    );
    let mut missing = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let is_included = included.contains(&file.canonicalize().unwrap());
        // An included file instead opens with a plain comment saying what it is and who includes it.
        let ok = if is_included {
            text.starts_with("// ")
        } else {
            text.starts_with("//!")
        };
        if !ok {
            missing.push(file.display().to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "add a //! module doc (or, in an included file, a // header) to: {missing:#?}"
    );
}

#[test]
fn no_source_file_is_past_1000_lines() {
    let mut long = Vec::new();
    for file in workspace_sources() {
        let lines = std::fs::read_to_string(&file).unwrap().lines().count();
        if lines > 1000 {
            long.push(format!("{} ({lines} lines)", file.display()));
        }
    }
    assert!(long.is_empty(), "split these files: {long:#?}");
}

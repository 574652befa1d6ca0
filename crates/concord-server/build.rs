//! Two build-time jobs of the server crate:
//!
//! - Enables the PostgreSQL variants of the tests when `CONCORD_TEST_POSTGRES_URL` is set at
//!   build time, and says plainly when they are left out (rather than passing them as no-ops).
//! - Builds the web client (`web/`, TypeScript + Vite) into `$OUT_DIR/web-dist`, which
//!   `src/web.rs` embeds into the binary, so `cargo run` serves the app with no second step.
//!   Runs again only when the client's inputs change. Installs the npm packages with `npm ci`
//!   when `web/node_modules` is missing or older than `package-lock.json`, type-checks,
//!   bundles, and writes a gzip copy beside every compressible file for clients that accept it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

const INPUTS: &[&str] = &[
    "src",
    "public",
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "tsconfig.json",
];

fn main() {
    postgres_tests_cfg();
    build_web();
}

fn postgres_tests_cfg() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rerun-if-env-changed=CONCORD_TEST_POSTGRES_URL");
    if std::env::var_os("CONCORD_TEST_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    } else if std::env::var_os("CARGO_CFG_TEST").is_some()
        || std::env::var("PROFILE").as_deref() == Ok("debug")
    {
        println!(
            "cargo::warning=PostgreSQL tests are not compiled: set CONCORD_TEST_POSTGRES_URL \
             (e.g. postgres://postgres@127.0.0.1:5432/test) to run them; .ci/run always does"
        );
    }
}

fn build_web() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let web = manifest.join("../../web");
    let web = web.canonicalize().unwrap_or(web);
    for input in INPUTS {
        println!("cargo::rerun-if-changed={}", web.join(input).display());
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("web-dist");

    require_node();
    if needs_install(&web) {
        run(&web, "npm", &["ci", "--no-audit", "--no-fund"]);
    }
    run(&web, "npx", &["--no-install", "tsc", "--noEmit", "-p", "."]);
    let out_arg = out.to_str().expect("OUT_DIR is valid UTF-8").to_string();
    run(
        &web,
        "npx",
        &[
            "--no-install",
            "vite",
            "build",
            "--logLevel",
            "warn",
            "--outDir",
            &out_arg,
            "--emptyOutDir",
        ],
    );
    if !out.join("index.html").is_file() {
        fail(&format!(
            "the web build wrote no index.html into {}",
            out.display()
        ));
    }
    precompress(&out);
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    panic!("building the web client failed: {message}");
}

/// Node.js 20+ and npm must be on PATH.
fn require_node() {
    let help = "Node.js 20+ and npm are required to build the web client (web/). Install them \
                (e.g. `apt-get install nodejs npm`, or from nodejs.org) and build again.";
    let version = Command::new("node").arg("--version").output();
    let Ok(version) = version else {
        fail(&format!("`node` was not found. {help}"));
    };
    let text = String::from_utf8_lossy(&version.stdout).trim().to_string();
    let major: u32 = text
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        fail(&format!("found Node.js {text}. {help}"));
    }
    match Command::new("npm").arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => fail(&format!("`npm` was not found. {help}")),
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// `npm ci` is due when node_modules is missing or older than the lock file.
fn needs_install(web: &Path) -> bool {
    let modules = web.join("node_modules");
    // npm writes node_modules/.package-lock.json on every install.
    let installed = modified(&modules.join(".package-lock.json")).or_else(|| modified(&modules));
    let lock = modified(&web.join("package-lock.json"));
    match (installed, lock) {
        (None, _) => true,
        (Some(i), Some(l)) => i < l,
        (Some(_), None) => false,
    }
}

fn run(dir: &Path, program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("CI", "true")
        // Build-script stdout is for cargo directives: send the tools' output to stderr.
        .stdout(std::process::Stdio::from(std::io::stderr()))
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => fail(&format!(
            "`{program} {}` in {} exited with {s}",
            args.join(" "),
            dir.display()
        )),
        Err(e) => fail(&format!(
            "could not run `{program}` ({e}). Node.js 20+ and npm are required to build the web client."
        )),
    }
}

/// Writes `file.gz` beside each text file worth compressing (served when the client accepts it).
fn precompress(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            precompress(&path);
            continue;
        }
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "js" | "css" | "html" | "svg" | "json" | "webmanifest") {
            continue;
        }
        let data = fs::read(&path).expect("read built file");
        if data.len() < 1024 {
            continue;
        }
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&data).expect("gzip");
        let gz = enc.finish().expect("gzip");
        if gz.len() < data.len() {
            let mut name = path.as_os_str().to_owned();
            name.push(".gz");
            fs::write(PathBuf::from(name), gz).expect("write .gz");
        }
    }
}

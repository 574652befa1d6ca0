//! Enables the PostgreSQL variants of the tests when `CONCORD_TEST_POSTGRES_URL` is set at
//! build time, and says plainly when they are left out (rather than passing them as no-ops).

fn main() {
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

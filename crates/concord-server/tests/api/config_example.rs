//! The documented example configuration is valid and matches the defaults.

use concord_server::Config;

#[test]
fn example_config_parses_and_equals_the_defaults() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../concord.example.toml");
    let (parsed, _) = Config::load(Some(std::path::Path::new(path)), Vec::new())
        .expect("example config is valid");
    assert_eq!(format!("{parsed:?}"), format!("{:?}", Config::default()));
}

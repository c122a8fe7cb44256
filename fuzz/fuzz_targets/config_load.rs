//! Fuzzes the configuration loader: any text (invalid UTF-8 replaced lossily) as a TOML
//! document, and the same text read as `KEY=VALUE` lines turned into `HOTPAPERS_KEY` environment
//! variables. Any `Err` is fine; a panic, abort, hang or running out of memory is a bug.
#![no_main]

use std::path::Path;
use std::sync::Once;

use hotpapers::config::Config;
use libfuzzer_sys::fuzz_target;

static CHECK_CWD: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    // `load_with_env(None, …)` also reads ./config.toml when there is one; the run would then
    // fuzz that file's contents, not only the input. Refuse to run like that.
    CHECK_CWD.call_once(|| {
        assert!(
            !Path::new(hotpapers::config::DEFAULT_CONFIG_FILE).exists(),
            "run the fuzzer from a directory without config.toml"
        );
    });

    let text = String::from_utf8_lossy(data);

    if let Err(e) = Config::from_toml_str(&text) {
        let _ = e.to_string();
    }

    let env: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| {
            // DISCORD_TOKEN is the one variable read without the prefix.
            let name = if key == "DISCORD_TOKEN" {
                key.to_owned()
            } else {
                format!("HOTPAPERS_{key}")
            };
            (name, value.to_owned())
        })
        .collect();
    if let Err(e) = Config::load_with_env(None, env) {
        let _ = e.to_string();
    }
});

//! The `sandbox` verb as its own process: the URLs it prints, and the README's first recipe on it.

use std::process::Command;

use crate::BIN;

#[test]
fn sandbox_verb_prints_urls_and_stops() {
    let dir = std::env::temp_dir().join(format!("ab-cli-sb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(BIN)
        .env_clear()
        .env("HOME", &dir)
        .args(["-f", "json", "sandbox", "--seconds", "0", "--objects", "10"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["ATLAS_API_URL"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    assert!(v["SKYPORTAL_TOKEN"].is_string());
}

/// The README's first recipe, as written: `astrobrokers sandbox` in the background, its
/// `export` lines sourced, then `astrobrokers lightcurve "<the name in the README>"`.
#[test]
fn readme_first_recipe_works_offline_on_the_sandbox() {
    use std::io::BufRead;
    let readme = include_str!("../../../../README.md");
    let recipes = &readme[readme.find("## Recipes").unwrap()..];
    let block = &recipes[recipes.find("```sh\n").unwrap() + 6..];
    let block = &block[..block.find("```").unwrap()];
    let lines: Vec<&str> = block.lines().collect();
    assert!(lines[0].starts_with("astrobrokers sandbox --seconds 3600 > sandbox.env &"), "{block}");
    assert!(lines[1].starts_with("sleep 3 && . ./sandbox.env"), "{block}");
    let query = lines[2].strip_prefix("astrobrokers lightcurve \"").and_then(|q| q.strip_suffix('"'));
    let query = query.unwrap_or_else(|| panic!("the first recipe is `astrobrokers lightcurve \"<a name>\"`: {block}"));

    let dir = std::env::temp_dir().join(format!("ab-cli-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    /// Stops the sandbox process even when an assertion fails.
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut sandbox = Kill(
        Command::new(BIN)
            .env_clear()
            .env("HOME", &dir)
            .args(["sandbox", "--seconds", "3600"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut exports = Vec::new();
    let mut names = String::new();
    for line in std::io::BufReader::new(sandbox.0.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(kv) = line.strip_prefix("export ") {
            let (k, v) = kv.split_once('=').unwrap();
            exports.push((k.to_string(), v.to_string()));
        }
        names.push_str(&line);
        if line.starts_with("# Stop with") {
            break;
        }
    }
    // The sandbox's listing names the README's object.
    assert!(names.contains(&format!("\"{query}\"")), "{query} not in {names}");
    let out = Command::new(BIN)
        .env_clear()
        .env("HOME", &dir)
        .env("ASTROBROKERS_CONFIG", dir.join("config.toml"))
        .envs(exports)
        .args(["-f", "json", "lightcurve", query])
        .output()
        .unwrap();
    drop(sandbox);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let pts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    for b in ["alerce", "atlas", "skyportal", "fink", "lasair"] {
        assert!(pts.iter().any(|r| r["broker"] == b), "{b}: {err}");
    }
    assert!(err.contains("marked duplicate_of"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

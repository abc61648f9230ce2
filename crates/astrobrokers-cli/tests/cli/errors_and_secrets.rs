//! Bad input, missing credentials and rate limits give short messages; no secret is ever printed.

use std::time::Duration;

use broker_sandbox::Service;

use crate::env;

#[test]
fn bad_input_is_refused_before_any_request() {
    let e = env("bad");
    let cases: &[(&[&str], &str)] = &[
        (&["cone", "400", "0"], "[0, 360)"),
        (&["alerce", "conesearch", "10", "-95"], "[-90, 90]"),
        (&["atlas", "cone", "NaN", "10"], "right ascension"),
        (&["cone", "10", "10", "--radius", "-2"], "positive number of arcseconds"),
        (&["alerce", "objects", "--ra", "10", "--dec", "100"], "[-90, 90]"),
        (&["atlas", "sources"], "list of ids is empty"),
        (&["atlas", "custom-list", "add", "mookodi"], "list of ids is empty"),
        (&["atlas", "source", "12345"], "19-digit"),
        (&["atlas", "sources", "1161600211221604900", "abc"], "19-digit"),
        (&["lightcurve", "--atlas", "ATLAS18abc"], "19-digit"),
        (&["forcedphot", "run", "10", "10", "--mjd-min", "60010", "--mjd-max", "60000"], "greater than"),
        (&["lightcurve", "--ra", "10", "--dec", "10", "--mjd-min", "60010", "--mjd-max", "60010"], "greater than"),
        (&["forcedphot", "submit", "370", "10"], "[0, 360)"),
        (&["skyportal", "photometry", "../x"], "no `/`"),
        (&["alerce", "lightcurve", "ZTF1", "--plot", "lc.jpg"], "PNG"),
        (&["lightcurve"], "nothing to look up"),
        (&["atlas", "list", "nosuchlist"], "not a known list"),
        (&["skyportal", "sources", "--page-size", "1000"], "1 to 500"),
    ];
    for (args, want) in cases {
        let err = e.fails(args);
        assert!(err.starts_with("error: ") && err.contains(want), "{args:?}: want {want:?} in {err:?}");
    }
    // An unknown format is clap's error, with the valid values, exit code 2.
    let out = e.run_with(e.cmd(), &["--format", "xml", "alerce", "classifiers"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("xml") && err.contains("csv") && err.contains("json"), "{err}");
    assert!(e.sb.requests().is_empty(), "no request for bad input: {:?}", e.sb.requests().len());
}

#[test]
fn missing_credentials_name_the_variable() {
    let e = env("creds");
    let cases: &[(&str, &[&str], &str)] = &[
        ("SKYPORTAL_TOKEN", &["skyportal", "sources"], "SKYPORTAL_TOKEN"),
        ("ATLAS_API_TOKEN", &["atlas", "source", "1161600211221604900"], "ATLAS_API_TOKEN"),
        ("FORCEDPHOT_TOKEN", &["forcedphot", "list"], "FORCEDPHOT_TOKEN"),
    ];
    for (var, args, want) in cases {
        let mut cmd = e.cmd();
        cmd.env_remove(var);
        let out = e.run_with(cmd, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with("error: ") && err.contains(want), "{err}");
    }
    // A wrong token: one line, what to check.
    let mut cmd = e.cmd();
    cmd.env("SKYPORTAL_TOKEN", "00000000-0000-0000-0000-000000000000");
    let err = String::from_utf8(e.run_with(cmd, &["skyportal", "sources"]).stderr).unwrap();
    assert!(err.contains("authentication") && err.contains("SKYPORTAL_TOKEN"), "{err}");
}

#[test]
fn rate_limits_say_how_long_to_wait() {
    let e = env("ratelimit");
    let obj = e.transient();
    e.sb.throttle_storm(Service::Atlas, Duration::from_secs(3600));
    let err = e.fails(&["atlas", "source", &obj.atlas_id.to_string()]);
    assert!(err.contains("rate limited") && err.contains("wait"), "{err}");
}

#[test]
fn no_secret_in_any_output_even_with_trace() {
    let e = env("secrets");
    let obj = e.transient();
    let id = obj.atlas_id.to_string();
    for args in [
        vec!["-vv", "atlas", "source", id.as_str()],
        vec!["-vv", "skyportal", "source", obj.skyportal_id.as_str()],
        vec!["-vv", "forcedphot", "list"],
        vec!["-v", "alerce", "object", obj.ztf_oid.as_deref().unwrap()],
        vec!["config", "show"],
    ] {
        // run_with checks every secret against stdout and stderr.
        let out = e.run_with(e.cmd(), &args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let trace = e.run_with(e.cmd(), &["-vv", "atlas", "source", &id]);
    assert!(!trace.stderr.is_empty(), "-vv shows the request trace");
    // config set + show: the file is 0600 and show masks the value.
    e.ok(&["config", "set", "skyportal.token", "my-very-secret-token-123"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(e.dir.join("config.toml")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let mut cmd = e.cmd();
    cmd.env_remove("SKYPORTAL_TOKEN");
    let out = e.run_with(cmd, &["-f", "json", "config", "show"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("my-very-secret-token-123") && text.contains("********"), "{text}");
}

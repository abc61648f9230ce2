//! Shared fixtures: a mock ATLAS server, realistic bodies from the API reference.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use atlas_client::{AtlasClient, AtlasClientBuilder};
use broker_core::{ManualClock, Quota, RateLimiter};
use httpmock::MockServer;
use serde_json::{Value, json};

pub const TOKEN: &str = "0123456789abcdef0123456789abcdef01234567";
pub const AUTH: &str = "Token 0123456789abcdef0123456789abcdef01234567";
pub const FORM: &str = "application/x-www-form-urlencoded";
pub const ID: &str = "1000005291314656200";
pub const ID_U64: u64 = 1_000_005_291_314_656_200;
pub const ID2: &str = "1161600211221604900";
pub const ID2_U64: u64 = 1_161_600_211_221_604_900;
pub const UNKNOWN: &str = "1000000000000000501";

/// The API root on the mock server, as in production (`.../api/`).
pub fn base(server: &MockServer) -> String {
    server.url("/api/")
}

/// A builder for a client of the mock server, with a virtual clock.
pub fn builder(server: &MockServer, clock: &ManualClock) -> AtlasClientBuilder {
    // A private limiter: httpmock reuses ports, so the process-wide limiter (keyed by base
    // URL and token) would carry one test's history into the next.
    AtlasClient::builder()
        .base_url(base(server))
        .token(TOKEN)
        .clock(Arc::new(clock.clone()))
        .rate_limiter(Arc::new(RateLimiter::new(Quota::per_hour(100))))
}

pub fn client(server: &MockServer) -> (AtlasClient, ManualClock) {
    let clock = ManualClock::new();
    (builder(server, &clock).build().unwrap(), clock)
}

/// A source as the server returns it (trimmed real example from the API reference).
pub fn source_json(id: u64) -> Value {
    json!({
     "object": {"id": id, "followup_id": 38748445, "followup_flag_date": "2020-09-15T00:00:00",
      "detection_id": 21051497219u64, "ra": 0.02158, "dec": 31.78178, "object_classification": null,
      "sherlockClassification": "SN", "observation_status": null, "htm16id": 67211174708u64, "jtindex": 91,
      "images_id": 9165061, "date_inserted": "2017-12-27T19:17:25Z", "date_modified": "2020-09-15T22:11:51Z",
      "processing_flags": 5832, "updated_by": "michael.fulton", "followup_priority": null,
      "external_reference_id": null, "detection_list_id": 2, "survey_field": "ATLAS", "followup_counter": 18399,
      "atlas_designation": "ATLAS20bbfr", "other_designation": "2020tjh", "current_trend": "rising 00.37 (o-o)",
      "local_comments": null, "ndetections": null, "vra": 0.111118, "rb_pix": 0.997419},
     "lc": [
      {"id": id, "mag": 18.22, "magerr": 0.113, "mjd": 58113.27517185, "exptime": 30.0,
      "filter": "o", "zp": 22.27, "expname": "01a58113o0138o", "ra": 0.02208, "dec": 31.78229,
      "atlas_metadata_id": 101987, "pointing": "TA002N29", "mag5sig": 18.72, "x": 480.92, "y": 1861.2,
      "major": 4.51, "minor": 4.16, "phi": 90.7, "det": 5, "chin": 1.21, "pvr": 0, "ptr": 0, "pmv": 0, "pkn": 0,
      "pno": 0, "pbn": 0, "pcr": 0, "pxt": 0, "psc": 0, "dup": 0, "wpflx": -62.6, "dflx": 3.4,
      "date_inserted": "2025-09-13T00:19:14Z"},
      {"id": id, "mag": -18.9, "magerr": 0.413, "mjd": 58115.1, "exptime": 30.0,
      "filter": "c", "zp": 22.27, "expname": "01a58115o0138c", "ra": 0.02208, "dec": 31.78229,
      "mag5sig": 18.5, "dup": -1, "date_inserted": "2025-09-13T00:19:14Z"}],
     "lcnondets": [{"id": 4819, "mjd": 58019.44278435, "exptime": 30.0, "filter": "c", "zp": 22.371,
      "expname": "02a58019o0455c", "filename": "02a58019o0455c.ddc", "input": null, "reference": null,
      "pointing": "TA356N34", "mag5sig": 19.59}],
     "fp": [{"id": 18283668, "atlas_object_id": id, "expname": "01a59077o0553o",
      "mjd_obs": 59077.49910415, "ra": 0.0215471428571429, "dec": 31.7817614285714, "filter": "o", "mag": 20.95,
      "dm": 0.0, "snr": 3.0, "zp": 22.299, "x": 2886.78, "y": 3734.24, "peakval": 190.0, "skyval": 180.7,
      "peakfit": 7.5, "dpeak": 10.7, "skyfit": 176.4, "flux": -807.5, "dflux": 545.5, "chin": 0.85,
      "major": 1.87, "minor": 1.73, "snrdet": 1.0, "snrlimit": 3.0, "apfit": -0.4287,
      "date_inserted": "2020-09-15T18:14:15Z", "limiting_mag": true, "redo_photometry": false,
      "uJy": 12.3, "duJy": 17.6, "texp": 30.0},
      {"id": 18283669, "atlas_object_id": id, "mjd_obs": 59079.5, "filter": "c",
       "uJy": 300.0, "duJy": 20.0, "texp": 30.0}],
     "sherlock_crossmatches": [{"transient_object_id": id, "catalogue_object_id": "1237663307453759945",
      "catalogue_table_id": 2, "separationarcsec": 24.52, "northseparationarcsec": 14.0449,
      "eastseparationarcsec": -20.0993, "id": 396097434, "z": null, "photoz": 0.079044, "photozerr": 0.010789,
      "association_type": "SN", "catalogue_object_type": "galaxy", "catalogue_table_name": "SDSS/2MASS/PS1",
      "rank": 1, "rankscore": 2005.0, "radeg": 0.014903, "decdeg": 31.785614, "j": 13.191, "field_g": 17.3991,
      "classificationreliability": 2, "transientabsmag": null}],
     "sherlock_classifications": [{"transient_object_id": id, "classification": "SN",
      "annotation": "The transient is possibly associated with <em>SDSS J000003.57+314708.2</em>",
      "summary": "24.5\" from galaxy in SDSS/2MASS/PS1",
      "matchverified": null, "developmentcomment": null, "datelastmodified": "2023-09-26T13:08:28Z",
      "datecreated": "2023-09-26T13:08:01Z", "updated": "0"}],
     "tns_crossmatches": [{"id": 500136497, "transient_object_id": id, "external_designation": "2020tjh",
      "type": null, "host_galaxy": null, "mag": 19.152, "discoverer": "ATLAS", "matched_list": "Transient Name Server",
      "other_info": "ATLAS20bbfr", "separation": 0.287803, "comments": null, "url": "https://wis-tns.org/object/2020tjh",
      "host_z": null, "object_z": null, "disc_date": "2020-09-15T11:13:55Z", "disc_filter": "cyan-ATLAS"}],
     "external_crossmatches": []
    })
}

/// The placeholder the server returns for an unknown id (since 2025-11-14).
pub fn unknown_json() -> Value {
    json!({
        "object": "AtlasDiffObjects matching query does not exist.",
        "lc": null, "lcnondets": null, "fp": null, "sherlock_crossmatches": null,
        "sherlock_classifications": null, "tns_crossmatches": null, "external_crossmatches": null
    })
}

/// A list row (core detection list view).
pub fn list_row(id: u64) -> Value {
    json!({"rank": 7.2, "id": id, "atlas_designation": "ATLAS20bbfr", "other_designation": "2020tjh",
        "ra": 0.02158, "dec": 31.78178, "ra_avg": 0.0216, "dec_avg": 31.7818, "object_classification": null,
        "sherlockClassification": "SN", "followup_flag_date": "2025-09-13", "observation_status": null,
        "current_trend": "rising", "earliest_mjd": 60900.1, "earliest_mag": 19.5, "earliest_filter": "o",
        "latest_mjd": 60930.2, "latest_mag": 18.1, "latest_filter": "c", "catalogue": "NED",
        "catalogue_object_id": "NGC 1234", "separation": 2.1, "vra": 0.8, "rb_pix": 0.99,
        "date_modified": "2025-09-13T00:19:14Z", "external_crossmatches": "2025abc", "discovery_target": null,
        "rms": 0.1, "detection_list_id": 4, "images_id": 123})
}

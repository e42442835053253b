//! `carbon-gate schedule` against local fakes of the Carbon Aware SDK Web API, Electricity Maps
//! and WattTime v3 that serve the documented response shapes (tests/fixtures/schedule/), and the
//! offline default. Every source gets the same hand-computed answer.
//!
//! The forecasts (hourly, 2026-11-28 00:00–06:00 UTC): location A 300, 250, 120, 80, 200,
//! 350 g/kWh; location B 400, 380, 360, 340, 320, 300 g/kWh (WattTime: twice those numbers in
//! lb/MWh). A 2-hour, 100 kWh job by 06:00: A's 2-hour means are 275, 185, 100, 140, 275 → best
//! 02:00 at 100 g/kWh = 10 kg; B's best is 04:00 at 310 g/kWh = 31 kg; starting now in A: 275
//! g/kWh = 27.5 kg, so the best choice avoids 17.5 kg.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::Value;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const JOB: &[&str] = &[
    "--energy",
    "100 kWh",
    "--duration",
    "2 h",
    "--now",
    "2026-11-28T00:00:00Z",
    "--deadline",
    "2026-11-28T06:00:00Z",
    "--format",
    "json",
];

fn fixture(name: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(format!("tests/fixtures/schedule/{name}")).unwrap(),
    )
    .unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn schedule(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = common::bin();
    cmd.env("CARBON_GATE_RETRY_BASE_MS", "10")
        .env_remove("RUNNER_TEMP")
        .env_remove("ELECTRICITY_MAPS_API_KEY")
        .env_remove("WATTTIME_TOKEN")
        .env_remove("WATTTIME_USERNAME")
        .env_remove("WATTTIME_PASSWORD")
        .arg("schedule")
        .args(args)
        .args(JOB);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The hand-computed answer, in g/kWh (`scale` converts the source's unit).
fn assert_plan(stdout: &str, a: &str, b: &str, scale: f64) {
    let p: Value = serde_json::from_str(stdout).unwrap();
    let best = &p["best_per_location"];
    assert_eq!(best[0]["location"], a);
    assert_eq!(best[0]["start"], "2026-11-28T02:00:00Z");
    assert_eq!(best[0]["end"], "2026-11-28T04:00:00Z");
    let close = |v: &Value, want: f64| {
        let got = common::num(v);
        assert!((got - want).abs() <= 1e-9 * want, "{got} vs {want}");
    };
    close(&best[0]["g_per_kwh"], 100.0 * scale);
    close(&best[0]["co2e_kg"], 10.0 * scale);
    assert_eq!(best[1]["location"], b);
    assert_eq!(best[1]["start"], "2026-11-28T04:00:00Z");
    close(&best[1]["co2e_kg"], 31.0 * scale);
    close(&p["now_first"]["co2e_kg"], 27.5 * scale);
    close(&p["avoided_kg"], 17.5 * scale);
}

#[test]
fn carbon_aware_sdk() {
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    rt.block_on(async {
        for (loc, file) in [
            ("westeurope", "carbon-aware-sdk-westeurope.json"),
            ("northeurope", "carbon-aware-sdk-northeurope.json"),
        ] {
            Mock::given(method("GET"))
                .and(path("/emissions/forecasts/current"))
                .and(query_param("location", loc))
                .and(query_param("dataStartAt", "2026-11-28T00:00:00Z"))
                .and(query_param("dataEndAt", "2026-11-28T06:00:00Z"))
                .respond_with(ResponseTemplate::new(200).set_body_json(fixture(file)))
                .expect(1)
                .mount(&server)
                .await;
        }
    });
    let (code, stdout, stderr) = schedule(
        &[
            "--source",
            "carbon-aware-sdk",
            "--api-url",
            &server.uri(),
            "--location",
            "westeurope",
            "--location",
            "northeurope",
        ],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_plan(&stdout, "westeurope", "northeurope", 1.0);
    rt.block_on(server.verify());
}

#[test]
fn carbon_aware_sdk_docs_shape_and_empty_forecasts() {
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    rt.block_on(async {
        // The docs' older shape (singular `optimalDataPoint`) parses too.
        Mock::given(method("GET"))
            .and(query_param("location", "westeurope"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(fixture("carbon-aware-sdk-westeurope-docs-shape.json")),
            )
            .mount(&server)
            .await;
        // An empty forecast: the location is skipped and said so.
        let mut empty = fixture("carbon-aware-sdk-northeurope.json");
        empty[0]["forecastData"] = serde_json::json!([]);
        Mock::given(method("GET"))
            .and(query_param("location", "northeurope"))
            .respond_with(ResponseTemplate::new(200).set_body_json(empty))
            .mount(&server)
            .await;
        // No data at all: 204, as the SDK answers.
        Mock::given(method("GET"))
            .and(query_param("location", "nowhere"))
            .respond_with(ResponseTemplate::new(204))
            .mount(&server)
            .await;
    });
    let uri = server.uri();
    let (code, stdout, stderr) = schedule(
        &[
            "--source",
            "carbon-aware-sdk",
            "--api-url",
            &uri,
            "--location",
            "westeurope",
            "--location",
            "northeurope",
        ],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let p: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(p["best_per_location"].as_array().unwrap().len(), 1);
    assert_eq!(p["skipped"][0][0], "northeurope");
    assert!(
        p["skipped"][0][1]
            .as_str()
            .unwrap()
            .contains("empty forecast")
    );
    let (code, _, stderr) = schedule(
        &[
            "--source",
            "carbon-aware-sdk",
            "--api-url",
            &uri,
            "--location",
            "nowhere",
        ],
        &[],
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("gave no forecast for any location"),
        "{stderr}"
    );
}

#[test]
fn electricity_maps_maps_regions_to_zones_and_sends_the_key() {
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    rt.block_on(async {
        for zone in ["FR", "SE"] {
            Mock::given(method("GET"))
                .and(path("/carbon-intensity/forecast"))
                .and(query_param("zone", zone))
                .and(header("auth-token", "em-key-123456"))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(fixture(&format!("electricity-maps-forecast-{zone}.json"))),
                )
                .expect(1)
                .mount(&server)
                .await;
        }
    });
    let (code, stdout, stderr) = schedule(
        &[
            "--source",
            "electricity-maps",
            "--api-url",
            &server.uri(),
            "--location",
            "aws:eu-west-3",
            "--location",
            "SE",
        ],
        &[("ELECTRICITY_MAPS_API_KEY", "em-key-123456")],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_plan(&stdout, "aws:eu-west-3", "SE", 1.0);
    rt.block_on(server.verify());
}

#[test]
fn electricity_maps_refused_key_and_rate_limit() {
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    rt.block_on(async {
        Mock::given(method("GET"))
            .and(header("auth-token", "bad-key-000"))
            .respond_with(
                ResponseTemplate::new(401).set_body_json(fixture("electricity-maps-401.json")),
            )
            .mount(&server)
            .await;
        // 429 twice (with Retry-After 0), then the forecast.
        Mock::given(method("GET"))
            .and(header("auth-token", "em-key-123456"))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("retry-after", "0")
                    .set_body_string("{\"message\":\"Too many requests\"}"),
            )
            .up_to_n_times(2)
            .with_priority(1)
            .expect(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(header("auth-token", "em-key-123456"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(fixture("electricity-maps-forecast-FR.json")),
            )
            .mount(&server)
            .await;
    });
    let uri = server.uri();
    let (code, _, stderr) = schedule(
        &[
            "--source",
            "electricity-maps",
            "--api-url",
            &uri,
            "--location",
            "FR",
        ],
        &[("ELECTRICITY_MAPS_API_KEY", "bad-key-000")],
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("refused the credentials (401)"), "{stderr}");
    assert!(stderr.contains("Invalid auth-token"), "{stderr}");
    assert!(!stderr.contains("bad-key-000"), "{stderr}");
    let (code, stdout, stderr) = schedule(
        &[
            "--source",
            "electricity-maps",
            "--api-url",
            &uri,
            "--location",
            "FR",
        ],
        &[("ELECTRICITY_MAPS_API_KEY", "em-key-123456")],
    );
    assert_eq!(code, 0, "{stderr}");
    let p: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(p["best_per_location"][0]["g_per_kwh"], 100.0);
    let (code, _, stderr) = schedule(&["--source", "electricity-maps", "--location", "FR"], &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("needs ELECTRICITY_MAPS_API_KEY"),
        "{stderr}"
    );
}

#[test]
fn watttime_logs_in_and_converts_pounds_per_megawatt_hour() {
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    rt.block_on(async {
        // "carbon:hunter22" in base64.
        Mock::given(method("GET"))
            .and(path("/login"))
            .and(header("authorization", "Basic Y2FyYm9uOmh1bnRlcjIy"))
            .respond_with(ResponseTemplate::new(200).set_body_json(fixture("watttime-login.json")))
            .expect(1)
            .mount(&server)
            .await;
        for region in ["REGION_A", "REGION_B"] {
            Mock::given(method("GET"))
                .and(path("/v3/forecast"))
                .and(query_param("region", region))
                .and(query_param("signal_type", "co2_moer"))
                .and(header("authorization", "Bearer wt-test-token-0123456789"))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(fixture(&format!("watttime-forecast-{region}.json"))),
                )
                .expect(1)
                .mount(&server)
                .await;
        }
    });
    let (code, stdout, stderr) = schedule(
        &[
            "--source",
            "watttime",
            "--api-url",
            &server.uri(),
            "--location",
            "REGION_A",
            "--location",
            "REGION_B",
        ],
        &[
            ("WATTTIME_USERNAME", "carbon"),
            ("WATTTIME_PASSWORD", "hunter22"),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    // The fixture's values are twice the g/kWh ones, in lb/MWh: × 2 × 0.45359237.
    assert_plan(&stdout, "REGION_A", "REGION_B", 2.0 * 0.453_592_37);
    let p: Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        p["signals"][0][1]
            .as_str()
            .unwrap()
            .contains("marginal: for shifting load, not an inventory figure")
    );
    rt.block_on(server.verify());
}

#[test]
fn the_offline_default_needs_no_network() {
    // aws eu-north-1 40.695 and eu-west-3 56.039 g/kWh (src/reference/cloud_regions.csv):
    // 100 kWh → 4.0695 kg vs 5.6039 kg; a flat average has nothing to gain from waiting.
    let (code, stdout, stderr) = schedule(
        &[
            "--location",
            "aws:eu-west-3",
            "--location",
            "aws:eu-north-1",
        ],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let p: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(p["best_per_location"][0]["location"], "aws:eu-north-1");
    assert_eq!(p["best_per_location"][0]["start"], "2026-11-28T00:00:00Z");
    assert!((common::num(&p["best_per_location"][0]["co2e_kg"]) - 4.0695).abs() < 1e-12);
    assert!((common::num(&p["avoided_kg"]) - (5.6039 - 4.0695)).abs() < 1e-12);
    let (code, _, stderr) = schedule(&["--location", "aws:eu-nort-1"], &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("did you mean aws:eu-north-1"), "{stderr}");
}

#[test]
fn forecasts_are_cached_for_the_job() {
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    rt.block_on(
        Mock::given(method("GET"))
            .and(query_param("zone", "FR"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(fixture("electricity-maps-forecast-FR.json")),
            )
            .expect(1)
            .mount(&server),
    );
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache.json");
    for _ in 0..2 {
        let (code, _, stderr) = schedule(
            &[
                "--source",
                "electricity-maps",
                "--api-url",
                &server.uri(),
                "--location",
                "FR",
                "--cache",
                cache.to_str().unwrap(),
            ],
            &[("ELECTRICITY_MAPS_API_KEY", "em-key-123456")],
        );
        assert_eq!(code, 0, "{stderr}");
    }
    rt.block_on(server.verify());
}

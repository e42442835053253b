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
    let mut all = args.to_vec();
    all.extend_from_slice(JOB);
    schedule_with(&all, env)
}

/// `carbon-gate schedule ARGS` (no job added) with a clean environment plus `env`.
fn schedule_with(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = common::bin();
    cmd.env("CARBON_GATE_RETRY_BASE_MS", "10")
        .env_remove("RUNNER_TEMP")
        .env_remove("ELECTRICITY_MAPS_API_KEY")
        .env_remove("WATTTIME_TOKEN")
        .env_remove("WATTTIME_USERNAME")
        .env_remove("WATTTIME_PASSWORD")
        .arg("schedule")
        .args(args)
        .timeout(std::time::Duration::from_secs(120));
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
    let server = rt.block_on(fr_forecast_server(1));
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

// ---- Issue #18, items 7–11: a hostile or broken forecast API, and a forged cache ----------

const EM_KEY: &str = "em-key-123456";

fn em(uri: &str, locations: &[&str], extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["--source", "electricity-maps", "--api-url", uri];
    for l in locations {
        args.extend_from_slice(&["--location", l]);
    }
    args.extend_from_slice(extra);
    schedule(&args, &[("ELECTRICITY_MAPS_API_KEY", EM_KEY)])
}

fn em_forecast(zone: &str, points: &[(&str, Value)]) -> Value {
    serde_json::json!({
        "zone": zone,
        "forecast": points
            .iter()
            .map(|(t, v)| serde_json::json!({"carbonIntensity": v, "datetime": t}))
            .collect::<Vec<_>>(),
        "updatedAt": "2026-11-27T23:50:12.345Z"
    })
}

async fn serve_zone(server: &MockServer, zone: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path("/carbon-intensity/forecast"))
        .and(query_param("zone", zone))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// Item 7: no credential leaves the server named. A redirect to another origin (scheme, host or
/// port) is refused before anything is sent there; one on the same server is still followed.
#[test]
fn credentials_never_follow_a_redirect_to_another_origin() {
    let rt = rt();
    let (server, thief) =
        rt.block_on(async { (MockServer::start().await, MockServer::start().await) });
    rt.block_on(async {
        Mock::given(method("GET"))
            .and(path("/carbon-intensity/forecast"))
            .and(query_param("zone", "FR"))
            .respond_with(
                ResponseTemplate::new(302)
                    .insert_header("location", format!("{}/steal?zone=FR", thief.uri())),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/carbon-intensity/forecast"))
            .and(query_param("zone", "SE"))
            .respond_with(
                ResponseTemplate::new(307).insert_header("location", "/moved/forecast?zone=SE"),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/moved/forecast"))
            .and(header("auth-token", EM_KEY))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(fixture("electricity-maps-forecast-SE.json")),
            )
            .expect(1)
            .mount(&server)
            .await;
        // WattTime's bearer token is dropped by reqwest on such a redirect; refused all the same.
        Mock::given(method("GET"))
            .and(path("/v3/forecast"))
            .respond_with(
                ResponseTemplate::new(302)
                    .insert_header("location", format!("{}/v3/forecast", thief.uri())),
            )
            .mount(&server)
            .await;
        Mock::given(wiremock::matchers::any())
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(fixture("electricity-maps-forecast-FR.json")),
            )
            .mount(&thief)
            .await;
    });
    let refused = format!(
        "answered 302: redirected to another origin ({}), which carbon-gate does not follow",
        thief.uri()
    );
    let (code, stdout, stderr) = em(&server.uri(), &["FR"], &[]);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!(
            "Electricity Maps GET /carbon-intensity/forecast: {refused}"
        )),
        "{stderr}"
    );
    let (code, stdout, stderr) = em(&server.uri(), &["SE"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let p: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(p["best_per_location"][0]["start"], "2026-11-28T04:00:00Z");
    let (code, _, stderr) = schedule(
        &[
            "--source",
            "watttime",
            "--api-url",
            &server.uri(),
            "--location",
            "REGION_A",
        ],
        &[("WATTTIME_TOKEN", "wt-test-token-0123456789")],
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains(&format!("WattTime GET /v3/forecast: {refused}")),
        "{stderr}"
    );
    let stolen = rt.block_on(thief.received_requests()).unwrap();
    assert!(
        stolen.is_empty(),
        "{:?}",
        stolen
            .iter()
            .map(|r| (r.url.to_string(), r.headers.clone()))
            .collect::<Vec<_>>()
    );
    rt.block_on(server.verify());
}

/// Item 8: whatever a server echoes (the key in a 200 that is not JSON or in a field, the Basic
/// credential, the token `/login` handed out), no configured secret is printed.
#[test]
fn secrets_a_server_echoes_never_reach_the_output() {
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    rt.block_on(async {
        Mock::given(method("GET"))
            .and(query_param("zone", "FR"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_string(format!("<html>proxy: auth-token {EM_KEY} not allowed</html>")),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(query_param("zone", "DE"))
            .respond_with(
                ResponseTemplate::new(401)
                    .set_body_string(format!("{{\"message\":\"Invalid auth-token {EM_KEY}\"}}")),
            )
            .mount(&server)
            .await;
        serve_zone(
            &server,
            "SE",
            em_forecast("SE", &[(EM_KEY, serde_json::json!(100))]),
        )
        .await;
        // "carbon:hunter22" in base64; the login answers with the request's headers.
        Mock::given(method("GET"))
            .and(path("/login"))
            .and(header("authorization", "Basic Y2FyYm9uOmh1bnRlcjIy"))
            .respond_with(ResponseTemplate::new(403).set_body_string(
                "denied: Authorization: Basic Y2FyYm9uOmh1bnRlcjIy (user carbon, password hunter22)",
            ))
            .mount(&server)
            .await;
        // "carbon:hunter23": a token, which the forecast then echoes as its unit.
        Mock::given(method("GET"))
            .and(path("/login"))
            .and(header("authorization", "Basic Y2FyYm9uOmh1bnRlcjIz"))
            .respond_with(ResponseTemplate::new(200).set_body_json(fixture("watttime-login.json")))
            .mount(&server)
            .await;
        let mut echo = fixture("watttime-forecast-REGION_A.json");
        echo["meta"]["units"] = Value::from("wt-test-token-0123456789");
        Mock::given(method("GET"))
            .and(path("/v3/forecast"))
            .respond_with(ResponseTemplate::new(200).set_body_json(echo))
            .mount(&server)
            .await;
    });
    let uri = server.uri();
    let secrets = [
        EM_KEY,
        "hunter22",
        "hunter23",
        "Y2FyYm9uOmh1bnRlcjIy",
        "Y2FyYm9uOmh1bnRlcjIz",
        "wt-test-token-0123456789",
    ];
    let clean = |what: &str, code: i32, stdout: &str, stderr: &str| {
        assert_eq!(code, 3, "{what}: {stdout}{stderr}");
        for s in secrets {
            assert!(
                !stdout.contains(s) && !stderr.contains(s),
                "{what}: {s} printed: {stderr}"
            );
        }
        assert!(stderr.contains("***"), "{what}: {stderr}");
    };
    for zone in ["FR", "DE", "SE"] {
        let (code, stdout, stderr) = em(&uri, &[zone], &[]);
        clean(zone, code, &stdout, &stderr);
    }
    for password in ["hunter22", "hunter23"] {
        let (code, stdout, stderr) = schedule(
            &[
                "--source",
                "watttime",
                "--api-url",
                &uri,
                "--location",
                "REGION_A",
            ],
            &[
                ("WATTTIME_USERNAME", "carbon"),
                ("WATTTIME_PASSWORD", password),
            ],
        );
        clean(password, code, &stdout, &stderr);
    }
}

/// Item 9: a point that is negative, null or implausible is refused and leaves a hole: no window
/// over it is recommended, and `skipped` says which points were refused. Before, the last valid
/// value was stretched over the hole and SE won at 1 g/kWh ("avoids 99.6 %").
#[test]
fn invalid_forecast_points_are_refused_not_bridged() {
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    rt.block_on(async {
        serve_zone(&server, "FR", fixture("electricity-maps-forecast-FR.json")).await;
        serve_zone(
            &server,
            "SE",
            em_forecast(
                "SE",
                &[
                    ("2026-11-28T00:00:00.000Z", serde_json::json!(1)),
                    ("2026-11-28T01:00:00.000Z", serde_json::json!(-5)),
                    ("2026-11-28T02:00:00.000Z", Value::Null),
                    ("2026-11-28T03:00:00.000Z", serde_json::json!(1e308)),
                    ("2026-11-28T04:00:00.000Z", serde_json::json!(5000)),
                    ("2026-11-28T05:00:00.000Z", serde_json::json!(1)),
                ],
            ),
        )
        .await;
    });
    let uri = server.uri();
    let (code, stdout, stderr) = em(&uri, &["FR", "SE"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let p: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        p["best_per_location"].as_array().unwrap().len(),
        1,
        "{stdout}"
    );
    assert_eq!(p["best_per_location"][0]["location"], "FR");
    assert_eq!(p["best_per_location"][0]["g_per_kwh"], 100.0);
    assert_eq!(p["avoided_kg"], 17.5);
    assert_eq!(
        p["skipped"],
        serde_json::json!([
            [
                "SE",
                "forecast point 2026-11-28T01:00:00Z refused: -5 g/kWh is negative"
            ],
            [
                "SE",
                "forecast point 2026-11-28T02:00:00Z refused: no intensity (null)"
            ],
            [
                "SE",
                "forecast point 2026-11-28T03:00:00Z refused: 1.000e308 g/kWh is not a plausible intensity (more than 2000 g/kWh)"
            ],
            [
                "SE",
                "forecast point 2026-11-28T04:00:00Z refused: 5000 g/kWh is not a plausible intensity (more than 2000 g/kWh)"
            ],
            [
                "SE",
                "no 2h 00m 00s window from 2026-11-28T00:00:00Z to 2026-11-28T06:00:00Z is covered by valid forecast points"
            ],
        ])
    );
    let mut table = vec![
        "--source",
        "electricity-maps",
        "--api-url",
        &uri,
        "--location",
        "FR",
        "--location",
        "SE",
    ];
    table.extend_from_slice(&JOB[..JOB.len() - 2]);
    table.extend_from_slice(&["--format", "table"]);
    let (code, stdout, stderr) = schedule_with(&table, &[("ELECTRICITY_MAPS_API_KEY", EM_KEY)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("Best: FR starting 2026-11-28T02:00:00Z"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "  SE: skipped: forecast point 2026-11-28T01:00:00Z refused: -5 g/kWh is negative\n"
        ),
        "{stdout}"
    );
    for bad in ["inf", "NaN", "1 g/kWh"] {
        assert!(!stdout.contains(bad), "{bad}: {stdout}");
    }
    // Nothing usable anywhere: no recommendation, exit 3.
    let (code, stdout, stderr) = em(&uri, &["SE"], &[]);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(
        stderr.contains("Electricity Maps gave no usable window for any location: SE: forecast point 2026-11-28T01:00:00Z refused: -5 g/kWh is negative; "),
        "{stderr}"
    );
}

/// Item 9: duplicate times are a stated choice (the same value twice counts once; two values
/// refuse the point), and a forecast entirely outside the window is reported, not dropped.
#[test]
fn duplicate_times_and_forecasts_outside_the_window_are_reported() {
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    let j = |v: f64| serde_json::json!(v);
    rt.block_on(async {
        serve_zone(
            &server,
            "DE",
            em_forecast(
                "DE",
                &[
                    ("2026-11-28T00:00:00Z", j(300.0)),
                    ("2026-11-28T01:00:00Z", j(250.0)),
                    ("2026-11-28T01:00:00Z", j(250.0)),
                    ("2026-11-28T02:00:00Z", j(120.0)),
                    ("2026-11-28T03:00:00Z", j(80.0)),
                    ("2026-11-28T03:00:00+00:00", j(500.0)),
                    ("2026-11-28T04:00:00Z", j(200.0)),
                    ("2026-11-28T05:00:00Z", j(350.0)),
                ],
            ),
        )
        .await;
        serve_zone(
            &server,
            "PL",
            em_forecast(
                "PL",
                &[
                    ("2026-11-29T00:00:00Z", j(10.0)),
                    ("2026-11-29T01:00:00Z", j(10.0)),
                ],
            ),
        )
        .await;
    });
    let (code, stdout, stderr) = em(&server.uri(), &["DE", "PL"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let p: Value = serde_json::from_str(&stdout).unwrap();
    // DE's windows over 03:00 are out: 00:00 (275), 01:00 (185), 04:00 (275) remain.
    assert_eq!(
        p["best_per_location"].as_array().unwrap().len(),
        1,
        "{stdout}"
    );
    assert_eq!(p["best_per_location"][0]["start"], "2026-11-28T01:00:00Z");
    assert_eq!(p["best_per_location"][0]["g_per_kwh"], 185.0);
    assert_eq!(
        p["skipped"],
        serde_json::json!([
            [
                "DE",
                "forecast point 2026-11-28T03:00:00Z refused: the source gave it 2 different values (80 and 500 g/kWh)"
            ],
            [
                "PL",
                "its forecast (2026-11-29T00:00:00Z to 2026-11-29T02:00:00Z) lies outside the window (2026-11-28T00:00:00Z to 2026-11-28T06:00:00Z)"
            ],
        ])
    );
}

/// A server answering Electricity Maps' recorded forecast for zone FR, expecting `calls` requests.
async fn fr_forecast_server(calls: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(query_param("zone", "FR"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("electricity-maps-forecast-FR.json")),
        )
        .expect(calls)
        .mount(&server)
        .await;
    server
}

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Item 10: a forged cache is checked like an API answer: entries from the future (or of an
/// unknown shape) are ignored and the API asked; a fresh entry with impossible values is refused
/// point by point as an answer would be.
#[test]
fn a_forged_cache_is_not_trusted() {
    let rt = rt();
    let server = rt.block_on(fr_forecast_server(2));
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache.json");
    let run = || {
        em(
            &server.uri(),
            &["FR"],
            &["--cache", cache.to_str().unwrap()],
        )
    };
    // The shape the cache had before, with a window from 2099 at -500 g/kWh.
    let points: Vec<Value> = (0..6)
        .map(|h| serde_json::json!({"start": format!("2026-11-28T0{h}:00:00Z"), "seconds": 3600, "g_per_kwh": -500.0}))
        .collect();
    std::fs::write(
        &cache,
        serde_json::json!({"entries": [{
            "key": "Electricity Maps|FR|2026-11-28T00:00:00Z|2026-11-28T06:00:00Z",
            "fetched_at": "2099-01-01T00:00:00Z",
            "forecast": {"location": "FR", "source_location": "FR", "points": points,
                         "signal": "forged", "generated_at": null}
        }]})
        .to_string(),
    )
    .unwrap();
    let (code, stdout, stderr) = run();
    assert_eq!(code, 0, "{stderr}");
    let p: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(p["best_per_location"][0]["g_per_kwh"], 100.0);
    // The entry written now, moved to 2099: ignored, the API asked again.
    let mut c = read_json(&cache);
    assert_eq!(c["entries"].as_array().unwrap().len(), 1, "{c}");
    c["entries"][0]["fetched_at"] = Value::from("2099-01-01T00:00:00Z");
    std::fs::write(&cache, c.to_string()).unwrap();
    let (code, stdout, stderr) = run();
    assert_eq!(code, 0, "{stderr}");
    let p: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(p["best_per_location"][0]["g_per_kwh"], 100.0);
    // A fresh entry at -500 g/kWh: used (no call), and refused like an answer would be.
    let mut c = read_json(&cache);
    for point in c["entries"][0]["forecast"]["points"]
        .as_array_mut()
        .unwrap()
    {
        point["g_per_kwh"] = Value::from(-500.0);
    }
    std::fs::write(&cache, c.to_string()).unwrap();
    let (code, stdout, stderr) = run();
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(
        stderr.contains("gave no usable window for any location: FR: forecast point 2026-11-28T00:00:00Z refused: -500 g/kWh is negative; "),
        "{stderr}"
    );
    rt.block_on(server.verify());
}

/// Item 10: the cache key does not hold the clock (before, every run without `--now` missed and
/// added an entry), and a link at the cache path is replaced, never written through.
#[test]
fn the_cache_is_reused_across_runs_and_never_written_through_a_link() {
    use time::format_description::well_known::Rfc3339;
    let now = time::OffsetDateTime::now_utc();
    let hour = now
        .replace_minute(0)
        .unwrap()
        .replace_second(0)
        .unwrap()
        .replace_nanosecond(0)
        .unwrap();
    let points: Vec<(String, Value)> = (0..12)
        .map(|i| {
            let t = hour + time::Duration::hours(i - 1);
            (t.format(&Rfc3339).unwrap(), serde_json::json!(100 + i))
        })
        .collect();
    let points: Vec<(&str, Value)> = points
        .iter()
        .map(|(t, v)| (t.as_str(), v.clone()))
        .collect();
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    rt.block_on(
        Mock::given(method("GET"))
            .and(query_param("zone", "FR"))
            .respond_with(ResponseTemplate::new(200).set_body_json(em_forecast("FR", &points)))
            .expect(1)
            .mount(&server),
    );
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "keep").unwrap();
    let cache = tmp.path().join("cache.json");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&victim, &cache).unwrap();
    let deadline = (now + time::Duration::hours(4)).format(&Rfc3339).unwrap();
    for _ in 0..3 {
        let (code, stdout, stderr) = schedule_with(
            &[
                "--source",
                "electricity-maps",
                "--api-url",
                &server.uri(),
                "--location",
                "FR",
                "--energy",
                "10 kWh",
                "--duration",
                "1 h",
                "--deadline",
                &deadline,
                "--cache",
                cache.to_str().unwrap(),
                "--format",
                "json",
            ],
            &[("ELECTRICITY_MAPS_API_KEY", EM_KEY)],
        );
        assert_eq!(code, 0, "{stderr}");
        let p: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(p["best_per_location"][0]["location"], "FR");
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    assert!(std::fs::symlink_metadata(&cache).unwrap().is_file());
    assert_eq!(read_json(&cache)["entries"].as_array().unwrap().len(), 1);
    rt.block_on(server.verify());
}

/// Item 11: 200,000 five-minute points (694 days) with a deadline at their end: planned in
/// seconds (before: every start re-read the whole forecast, 46 s in a release build).
#[test]
fn a_forecast_of_200000_points_is_planned_in_linear_time() {
    use time::format_description::well_known::Rfc3339;
    let t0 = time::macros::datetime!(2026-11-28 00:00 UTC);
    let n = 200_000i64;
    let forecast: Vec<Value> = (0..n)
        .map(|i| {
            let v = if (150_000..150_024).contains(&i) {
                10
            } else {
                100 + i % 97
            };
            serde_json::json!({
                "carbonIntensity": v,
                "datetime": (t0 + time::Duration::seconds(300 * i)).format(&Rfc3339).unwrap()
            })
        })
        .collect();
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    rt.block_on(serve_zone(
        &server,
        "FR",
        serde_json::json!({"zone": "FR", "forecast": forecast}),
    ));
    let deadline = (t0 + time::Duration::seconds(300 * n))
        .format(&Rfc3339)
        .unwrap();
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = schedule_with(
        &[
            "--source",
            "electricity-maps",
            "--api-url",
            &server.uri(),
            "--location",
            "FR",
            "--energy",
            "100 kWh",
            "--duration",
            "2 h",
            "--now",
            "2026-11-28T00:00:00Z",
            "--deadline",
            &deadline,
            "--format",
            "json",
        ],
        &[("ELECTRICITY_MAPS_API_KEY", EM_KEY)],
    );
    let took = started.elapsed();
    assert_eq!(code, 0, "{stderr}");
    let p: Value = serde_json::from_str(&stdout).unwrap();
    let best = &p["best_per_location"][0];
    assert_eq!(
        best["start"],
        (t0 + time::Duration::seconds(300 * 150_000))
            .format(&Rfc3339)
            .unwrap()
    );
    assert_eq!(best["g_per_kwh"], 10.0);
    assert_eq!(best["co2e_kg"], 1.0);
    assert!(took < std::time::Duration::from_secs(30), "{took:?}");
}

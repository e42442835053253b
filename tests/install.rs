//! `scripts/install.sh` and the action's install step (`scripts/action-setup.sh`) against a local
//! HTTP server serving release-shaped files, as the release workflow publishes them: per version
//! `carbon-gate-<target>.tar.gz` (the binary, LICENSE and README.md at the root) and one
//! `SHA256SUMS` in `sha256sum` format. The binary in the archives is a stand-in script that prints
//! a version (what is tested is the installer, not the binary).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The target `install.sh` picks on this machine.
fn host_target() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x86_64",
        "aarch64" => "aarch64",
        other => panic!("no release target for {other}"),
    };
    format!("{arch}-unknown-linux-musl")
}

/// A static file server for `root`; counts the requests it answered.
struct Server {
    uri: String,
    requests: Arc<AtomicUsize>,
}

fn serve(root: PathBuf) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let count = requests.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match conn.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            count.fetch_add(1, Ordering::SeqCst);
            let line = String::from_utf8_lossy(&head)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            let path = line
                .split(' ')
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/');
            let file = root.join(path);
            let (status, body) = if !path.contains("..") && file.is_file() {
                ("200 OK", std::fs::read(&file).unwrap())
            } else {
                ("404 Not Found", b"Not Found".to_vec())
            };
            let _ = conn.write_all(
                format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            let _ = conn.write_all(&body);
        }
    });
    Server { uri, requests }
}

fn sha256(bytes: &[u8]) -> String {
    carbon_gate::digest::sha256_hex(bytes)
}

/// A release `version` under `root` for `target`, with a binary that prints `printed`.
fn release(root: &Path, version: &str, target: &str, printed: &str) -> PathBuf {
    let dir = root.join(version);
    let stage = root.join(format!("stage-{version}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&stage).unwrap();
    let bin = stage.join("carbon-gate");
    std::fs::write(&bin, format!("#!/bin/sh\necho '{printed}'\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::copy("LICENSE", stage.join("LICENSE")).unwrap();
    std::fs::copy("README.md", stage.join("README.md")).unwrap();
    let archive = dir.join(format!("carbon-gate-{target}.tar.gz"));
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&stage)
        .args(["carbon-gate", "LICENSE", "README.md"])
        .status()
        .unwrap();
    assert!(status.success());
    let sums = format!(
        "{}  carbon-gate-{target}.tar.gz\n{}  carbon-gate-x86_64-pc-windows-msvc.zip\n",
        sha256(&std::fs::read(&archive).unwrap()),
        "0".repeat(64)
    );
    std::fs::write(dir.join("SHA256SUMS"), sums).unwrap();
    archive
}

/// Run `scripts/install.sh args` with the releases at `uri`; returns (exit code, stdout, stderr).
fn install(uri: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new("sh")
        .arg("scripts/install.sh")
        .args(args)
        .env("CARBON_GATE_RELEASES_URL", uri)
        .env_remove("CARBON_GATE_REPOSITORY")
        .env_remove("GITHUB_ACTION_REPOSITORY")
        .env_remove("CARBON_GATE_TARGET")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_good_release_is_verified_and_installed() {
    let root = tempfile::tempdir().unwrap();
    release(
        root.path(),
        "v1.2.3",
        &host_target(),
        "carbon-gate 1.2.3 (commit abc)",
    );
    let server = serve(root.path().to_owned());
    let to = tempfile::tempdir().unwrap();
    let bin = to.path().join("bin");
    let (code, stdout, stderr) = install(
        &server.uri,
        &["--version", "v1.2.3", "--to", bin.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "carbon-gate 1.2.3 (commit abc)\n");
    assert!(
        stderr.contains(&format!(
            "installed carbon-gate 1.2.3 (commit abc) at {}/carbon-gate",
            bin.display()
        )),
        "{stderr}"
    );
    assert_eq!(entries(&bin), ["carbon-gate"]);
    let run = Command::new(bin.join("carbon-gate")).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "carbon-gate 1.2.3 (commit abc)\n"
    );
    // A version without the leading v is the same release; installing again replaces the binary.
    let (code, _, stderr) = install(
        &server.uri,
        &["--version", "1.2.3", "--to", bin.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(entries(&bin), ["carbon-gate"]);
}

#[test]
fn a_tampered_archive_installs_nothing() {
    let root = tempfile::tempdir().unwrap();
    let archive = release(root.path(), "v1.2.3", &host_target(), "carbon-gate 1.2.3");
    // Replaced after SHA256SUMS was written: another binary in a well-formed archive.
    let other = tempfile::tempdir().unwrap();
    release(other.path(), "v1.2.3", &host_target(), "evil");
    std::fs::copy(
        other
            .path()
            .join(format!("v1.2.3/carbon-gate-{}.tar.gz", host_target())),
        &archive,
    )
    .unwrap();
    let server = serve(root.path().to_owned());
    let to = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = install(
        &server.uri,
        &["--version", "v1.2.3", "--to", to.path().to_str().unwrap()],
    );
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains(&format!(
            "error: checksum mismatch for {}/v1.2.3/carbon-gate-{}.tar.gz: SHA256SUMS says",
            server.uri,
            host_target()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was installed"), "{stderr}");
    assert!(entries(to.path()).is_empty(), "{:?}", entries(to.path()));
}

#[test]
fn a_missing_release_or_entry_installs_nothing() {
    let root = tempfile::tempdir().unwrap();
    release(root.path(), "v1.2.3", &host_target(), "carbon-gate 1.2.3");
    let server = serve(root.path().to_owned());
    let to = tempfile::tempdir().unwrap();
    let dir = to.path().join("bin");
    // No such version.
    let (code, _, stderr) = install(
        &server.uri,
        &["--version", "v9.9.9", "--to", dir.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: cannot download {}/v9.9.9/SHA256SUMS:",
            server.uri
        )) && stderr.contains("404"),
        "{stderr}"
    );
    assert!(!dir.exists());
    // A target the release has no line for in SHA256SUMS (its archive is listed as missing).
    std::fs::write(
        root.path()
            .join("v1.2.3/carbon-gate-aarch64-apple-darwin.tar.gz"),
        b"not listed",
    )
    .unwrap();
    let (code, _, stderr) = install(
        &server.uri,
        &[
            "--version",
            "v1.2.3",
            "--to",
            dir.to_str().unwrap(),
            "--target",
            "aarch64-apple-darwin",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("SHA256SUMS has no line for carbon-gate-aarch64-apple-darwin.tar.gz"),
        "{stderr}"
    );
    assert!(!dir.exists());
    // The server is gone.
    let (code, _, stderr) = install(
        "http://127.0.0.1:9",
        &["--version", "v1.2.3", "--to", dir.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("error: cannot download http://127.0.0.1:9/v1.2.3/SHA256SUMS:"),
        "{stderr}"
    );
    assert!(!dir.exists());
    // Arguments that are not a release.
    let (code, _, stderr) = install(&server.uri, &["--version", "main"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is not a release tag"), "{stderr}");
    let (code, _, stderr) = install(&server.uri, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("say which release to install"), "{stderr}");
}

/// An archive whose binary is missing or is a link: refused after the checksum passed.
#[test]
fn an_archive_without_the_binary_installs_nothing() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("v1.0.0");
    std::fs::create_dir_all(&dir).unwrap();
    let stage = root.path().join("stage");
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::write(stage.join("README.md"), "x").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("/bin/sh", stage.join("carbon-gate")).unwrap();
    let archive = dir.join(format!("carbon-gate-{}.tar.gz", host_target()));
    assert!(
        Command::new("tar")
            .arg("-czf")
            .arg(&archive)
            .arg("-C")
            .arg(&stage)
            .args(["carbon-gate", "README.md"])
            .status()
            .unwrap()
            .success()
    );
    std::fs::write(
        dir.join("SHA256SUMS"),
        format!(
            "{}  carbon-gate-{}.tar.gz\n",
            sha256(&std::fs::read(&archive).unwrap()),
            host_target()
        ),
    )
    .unwrap();
    let server = serve(root.path().to_owned());
    let to = tempfile::tempdir().unwrap();
    let (code, _, stderr) = install(
        &server.uri,
        &["--version", "v1.0.0", "--to", to.path().to_str().unwrap()],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is not a regular file"), "{stderr}");
    assert!(entries(to.path()).is_empty());
}

/// The action's install step, with the environment a runner sets: the release matching the
/// action's ref goes into the tool cache, keyed by version and architecture, and its directory
/// onto `GITHUB_PATH`; a second job on the same runner finds it there without downloading.
#[test]
fn the_action_installs_its_release_into_the_tool_cache_once() {
    let version = carbon_gate_version();
    let root = tempfile::tempdir().unwrap();
    release(
        root.path(),
        &format!("v{version}"),
        &host_target(),
        &format!("carbon-gate {version} (commit abc)"),
    );
    let server = serve(root.path().to_owned());
    let runner = tempfile::tempdir().unwrap();
    let cache = runner.path().join("toolcache");
    let path_file = runner.path().join("github_path");
    let output_file = runner.path().join("github_output");
    let setup = |reference: &str, releases: &str| {
        let out = Command::new("bash")
            .arg("scripts/action-setup.sh")
            .env("GITHUB_ACTION_PATH", std::env::current_dir().unwrap())
            .env("ACTION_REF", reference)
            .env("RUNNER_OS", "Linux")
            .env(
                "RUNNER_ARCH",
                if std::env::consts::ARCH == "x86_64" {
                    "X64"
                } else {
                    "ARM64"
                },
            )
            .env("RUNNER_TOOL_CACHE", &cache)
            .env("RUNNER_TEMP", runner.path())
            .env("GITHUB_PATH", &path_file)
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_ACTION_REPOSITORY", "owner/carbon-gate")
            .env("CARBON_GATE_RELEASES_URL", releases)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let arch = if std::env::consts::ARCH == "x86_64" {
        "x64"
    } else {
        "arm64"
    };
    let dir = cache.join("carbon-gate").join(&version).join(arch);
    for reference in [
        format!("v{version}"),
        format!("v{}", version.split('.').next().unwrap()),
    ] {
        let before = server.requests.load(Ordering::SeqCst);
        let (code, log) = setup(&reference, &server.uri);
        assert_eq!(code, 0, "{reference}: {log}");
        assert!(dir.join("carbon-gate").is_file(), "{log}");
        assert!(
            cache
                .join("carbon-gate")
                .join(&version)
                .join(format!("{arch}.complete"))
                .is_file(),
            "{log}"
        );
        let path_lines = std::fs::read_to_string(&path_file).unwrap();
        assert_eq!(
            path_lines.lines().last(),
            Some(dir.to_str().unwrap()),
            "{log}"
        );
        if reference.contains('.') {
            assert!(
                log.contains(&format!("installed carbon-gate {version}")),
                "{log}"
            );
            assert_eq!(server.requests.load(Ordering::SeqCst) - before, 2, "{log}");
        } else {
            // The major tag: the same release, found in the tool cache.
            assert!(log.contains("found in the tool cache"), "{log}");
            assert_eq!(server.requests.load(Ordering::SeqCst), before, "{log}");
        }
    }
    // A branch or commit: no release to install; built from source, said in the log. Not run
    // here (a full release build); the decision is checked with a cargo that reports its call.
    let fake = runner.path().join("fakebin");
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::write(
        fake.join("cargo"),
        "#!/bin/sh\necho \"fake cargo $*\"\nroot=''\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=$2; shift; done\nmkdir -p \"$root/bin\" && printf '#!/bin/sh\\necho carbon-gate from-source\\n' > \"$root/bin/carbon-gate\" && chmod +x \"$root/bin/carbon-gate\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(fake.join("cargo"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }
    let out = Command::new("bash")
        .arg("scripts/action-setup.sh")
        .env(
            "PATH",
            format!("{}:{}", fake.display(), std::env::var("PATH").unwrap()),
        )
        .env("GITHUB_ACTION_PATH", std::env::current_dir().unwrap())
        .env("ACTION_REF", "main")
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TOOL_CACHE", &cache)
        .env("RUNNER_TEMP", runner.path())
        .env("GITHUB_PATH", &path_file)
        .env("GITHUB_OUTPUT", &output_file)
        .output()
        .unwrap();
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(
        log.contains("`main` is not a release tag: building carbon-gate from source"),
        "{log}"
    );
    assert!(log.contains("fake cargo install --locked --path"), "{log}");
    assert!(log.contains("carbon-gate from-source"), "{log}");
}

/// The crate's version, as the action reads it from its own Cargo.toml.
fn carbon_gate_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

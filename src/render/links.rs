//! The links of the PR comment: the documentation at the running version (from one constant,
//! the package's `repository`), and the workflow run and commit the report was computed for
//! (from the CI environment, each part validated: a link is left out rather than built from a
//! value that is not what it claims to be).

/// The project's repository, from `Cargo.toml`'s `repository`: every documentation link derives
/// from it.
pub const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// A document of this version of carbon-gate: `path` is relative to the repository root and may
/// carry an anchor (`docs/policy.md#exceptions`).
pub fn docs_url(path: &str) -> String {
    format!(
        "{}/blob/v{}/{path}",
        REPOSITORY.trim_end_matches('/'),
        env!("CARGO_PKG_VERSION")
    )
}

/// Where the report was computed: the CI run (whose summary page also shows the job summary)
/// and the commit. Empty outside CI, and for `check --format markdown` (standard output).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunLinks {
    /// The workflow run or pipeline: its label and address.
    pub run: Option<(String, String)>,
    /// The commit: its full hash and address.
    pub commit: Option<(String, String)>,
}

/// `https://host[:port][/path]` of plain characters (no user, query, fragment, space or
/// parenthesis that could end a Markdown link), without a trailing `/`.
pub fn https_base(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let rest = rest.trim_end_matches('/');
    let host = rest.split('/').next().unwrap_or_default();
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '/' | '_');
    (!host.is_empty()
        && !host.starts_with(['.', '-', ':'])
        && rest.chars().all(plain)
        && !rest.contains("//")
        && !rest.split('/').any(|seg| seg == ".." || seg == "."))
    .then(|| format!("https://{rest}"))
}

/// `owner/name` as GitHub allows it: owner of letters, digits and `-`; name of letters, digits,
/// `.`, `-`, `_` (not `.` or `..`).
pub fn repository(repo: &str) -> Option<&str> {
    let (owner, name) = repo.split_once('/')?;
    let owner_ok = !owner.is_empty()
        && owner.len() <= 39
        && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let name_ok = !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    (owner_ok && name_ok).then_some(repo)
}

/// A run or pipeline id: 1 to 20 ASCII digits.
pub fn digits(id: &str) -> Option<&str> {
    (!id.is_empty() && id.len() <= 20 && id.chars().all(|c| c.is_ascii_digit())).then_some(id)
}

/// A commit hash: 40 (SHA-1) or 64 (SHA-256) hex digits, lower-cased.
pub fn commit_hash(sha: &str) -> Option<String> {
    ((sha.len() == 40 || sha.len() == 64) && sha.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| sha.to_ascii_lowercase())
}

impl RunLinks {
    /// GitHub Actions: `$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID` and
    /// `…/commit/<sha>` for `commit` (the pull request's head; the caller falls back to
    /// `GITHUB_SHA`). `repo` overrides `GITHUB_REPOSITORY` (`--repo`).
    pub fn github(
        env: &dyn Fn(&str) -> Option<String>,
        repo: Option<&str>,
        commit: Option<&str>,
    ) -> RunLinks {
        let Some(server) = env("GITHUB_SERVER_URL").and_then(|s| https_base(&s)) else {
            return RunLinks::default();
        };
        let repo_env = env("GITHUB_REPOSITORY");
        let Some(repo) = repo.or(repo_env.as_deref()).and_then(repository) else {
            return RunLinks::default();
        };
        let run = env("GITHUB_RUN_ID").as_deref().and_then(digits).map(|id| {
            (
                format!("workflow run {id}"),
                format!("{server}/{repo}/actions/runs/{id}"),
            )
        });
        let sha_env = env("GITHUB_SHA");
        let commit = commit
            .or(sha_env.as_deref())
            .and_then(commit_hash)
            .map(|sha| {
                let url = format!("{server}/{repo}/commit/{sha}");
                (sha, url)
            });
        RunLinks { run, commit }
    }

    /// GitLab CI: `$CI_PIPELINE_URL` and `$CI_PROJECT_URL/-/commit/$CI_COMMIT_SHA`.
    pub fn gitlab(env: &dyn Fn(&str) -> Option<String>) -> RunLinks {
        let run = env("CI_PIPELINE_URL")
            .and_then(|u| https_base(&u))
            .and_then(|url| {
                let id = url.rsplit('/').next().and_then(digits)?.to_owned();
                Some((format!("pipeline {id}"), url))
            });
        let commit = env("CI_PROJECT_URL")
            .and_then(|u| https_base(&u))
            .and_then(|project| {
                let sha = env("CI_COMMIT_SHA").and_then(|s| commit_hash(&s))?;
                let url = format!("{project}/-/commit/{sha}");
                Some((sha, url))
            });
        RunLinks { run, commit }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn documentation_links_are_at_this_version() {
        assert_eq!(REPOSITORY, "https://github.com/carbon-gate/carbon-gate");
        assert_eq!(
            docs_url("docs/methodology.md"),
            format!(
                "https://github.com/carbon-gate/carbon-gate/blob/v{}/docs/methodology.md",
                env!("CARGO_PKG_VERSION")
            )
        );
    }

    #[test]
    fn github_links_from_a_valid_environment() {
        let sha = "0123456789abcdef0123456789ABCDEF01234567";
        let pairs = [
            ("GITHUB_SERVER_URL", "https://github.com/"),
            ("GITHUB_REPOSITORY", "octo-org/my.repo_1"),
            ("GITHUB_RUN_ID", "1234567890"),
            ("GITHUB_SHA", sha),
        ];
        let links = RunLinks::github(&env(&pairs), None, None);
        assert_eq!(
            links.run,
            Some((
                "workflow run 1234567890".to_owned(),
                "https://github.com/octo-org/my.repo_1/actions/runs/1234567890".to_owned()
            ))
        );
        let lower = sha.to_ascii_lowercase();
        assert_eq!(
            links.commit,
            Some((
                lower.clone(),
                format!("https://github.com/octo-org/my.repo_1/commit/{lower}")
            ))
        );
    }

    #[test]
    fn an_invalid_part_leaves_its_link_out() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        for (server, repo, run, commit, want_run, want_commit) in [
            // Not https: nothing.
            ("http://github.com", "o/r", "1", sha, false, false),
            ("javascript:alert(1)", "o/r", "1", sha, false, false),
            // A server that would end the Markdown link or carry a user.
            ("https://evil.example/x)(y", "o/r", "1", sha, false, false),
            ("https://user@evil.example", "o/r", "1", sha, false, false),
            ("https://", "o/r", "1", sha, false, false),
            // A repository that is not owner/name.
            ("https://github.com", "o/r/x", "1", sha, false, false),
            ("https://github.com", "o/..", "1", sha, false, false),
            ("https://github.com", "o/r](x", "1", sha, false, false),
            // A run id or sha that is not one: only that link is left out.
            ("https://github.com", "o/r", "12a", sha, false, true),
            ("https://github.com", "o/r", "1", "abc123", true, false),
            (
                "https://github.com",
                "o/r",
                "1",
                "g123456789abcdef0123456789abcdef01234567",
                true,
                false,
            ),
        ] {
            let pairs = [
                ("GITHUB_SERVER_URL", server),
                ("GITHUB_REPOSITORY", repo),
                ("GITHUB_RUN_ID", run),
                ("GITHUB_SHA", commit),
            ];
            let links = RunLinks::github(&env(&pairs), None, None);
            assert_eq!(
                links.run.is_some(),
                want_run,
                "{server} {repo} {run} {commit}"
            );
            assert_eq!(
                links.commit.is_some(),
                want_commit,
                "{server} {repo} {run} {commit}"
            );
        }
        // No server URL: no link at all.
        let links = RunLinks::github(&env(&[("GITHUB_REPOSITORY", "o/r")]), None, None);
        assert_eq!(links, RunLinks::default());
    }

    #[test]
    fn gitlab_links() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let pairs = [
            (
                "CI_PIPELINE_URL",
                "https://gitlab.example/g/p/-/pipelines/77",
            ),
            ("CI_PROJECT_URL", "https://gitlab.example/g/p"),
            ("CI_COMMIT_SHA", sha),
        ];
        let links = RunLinks::gitlab(&env(&pairs));
        assert_eq!(links.run.map(|r| r.0), Some("pipeline 77".to_owned()));
        assert_eq!(
            links.commit.map(|c| c.1),
            Some(format!("https://gitlab.example/g/p/-/commit/{sha}"))
        );
    }
}

//! `carbon-gate completions` and `carbon-gate man`: the shell completion scripts and the manual
//! pages, generated from the command line's own definition (so they cannot drift from it).

use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::Error;
use crate::exit::Exit;

use super::Outcome;

/// The completion script of `shell`, on standard output.
pub(crate) fn completions(shell: clap_complete::Shell) -> Outcome {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "carbon-gate", &mut out);
    Outcome {
        stdout: out,
        stderr: Vec::new(),
        exit: Exit::Pass,
    }
}

/// The main manual page on standard output, or every page written into `dir`.
pub(crate) fn man(dir: Option<&Path>) -> Result<Outcome, Error> {
    let cmd = Cli::command();
    let Some(dir) = dir else {
        return Ok(Outcome {
            stdout: page(&cmd)?,
            stderr: Vec::new(),
            exit: Exit::Pass,
        });
    };
    let failed = |source: std::io::Error| Error::Output {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    let mut written = Vec::new();
    let mut pages = vec![("carbon-gate.1".to_owned(), cmd.clone())];
    for sub in cmd.get_subcommands().filter(|c| !c.is_hide_set()) {
        let name = format!("carbon-gate-{}", sub.get_name());
        // The page's title is the command's full name.
        pages.push((format!("{name}.1"), sub.clone().name(name)));
    }
    for (file, cmd) in pages {
        let path = dir.join(&file);
        crate::outfile::replace(&path, &page(&cmd)?).map_err(|source| Error::Output {
            path: path.clone(),
            source,
        })?;
        written.push(format!(
            "carbon-gate: wrote {}",
            crate::error::display_path(&path)
        ));
    }
    Ok(Outcome {
        stdout: Vec::new(),
        stderr: written,
        exit: Exit::Pass,
    })
}

/// One manual page, in roff.
fn page(cmd: &clap::Command) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut out)
        .map_err(|source| Error::Output {
            path: "the manual page".into(),
            source,
        })?;
    Ok(out)
}

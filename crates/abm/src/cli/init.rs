//! `abm init`: writes `abm.toml` with every default and its documentation, and creates the
//! database. An existing file is never overwritten.

use super::Context;
use super::config::DEFAULT_FILE;
use anyhow::{Context as _, Result, bail};
use std::io::Write;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct InitArgs {}

pub fn run(context: &Context, _args: &InitArgs) -> Result<ExitCode> {
    let path = &context.config_path;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut file) => {
            file.write_all(DEFAULT_FILE.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!(
                "Wrote {} with the default settings, each documented.",
                path.display()
            );
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            // Validate what is there, so `init` also answers "is my file right?".
            super::config::Config::load_existing(path)?;
            println!("{} exists and is valid; left as it is.", path.display());
        }
        Err(error) => bail!("cannot create {}: {error}", path.display()),
    }
    context.open_store()?;
    println!("Database ready: {}", super::redact(context.database_url()));
    Ok(ExitCode::SUCCESS)
}

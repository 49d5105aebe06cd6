//! `abm serve`: the REST API, its OpenAPI document and the HTML interface, on one address.

use super::Context;
use super::config::Config;
use anyhow::{Context as _, Result};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    /// Send session cookies over plain HTTP too (a development server without TLS)
    #[arg(long)]
    insecure_cookies: bool,
    /// Behind a reverse proxy (TLS terminator, load balancer): take the visitor's address
    /// from the last X-Forwarded-For entry, for reverse-IP identification
    #[arg(long)]
    behind_proxy: bool,
    /// Run the plays (what `abm run` does) every this many seconds; 0: never
    #[arg(long, default_value_t = 60)]
    run_every: u64,
    /// Scale-out: publish collected events to this NATS JetStream server (nats://host:4222)
    /// for `abm worker` to store and score, instead of writing them here
    #[arg(long, env = "ABM_STREAM")]
    stream: Option<String>,
}

pub fn run(context: &Context, args: &ServeArgs) -> Result<ExitCode> {
    let config = Config::load(&context.config_path)?;
    let settings = abm_web::WebSettings {
        scoring: config.scoring(),
        tal: config.tal.clone(),
        triggers: config.triggers.clone(),
        why_us: config.why_us.clone(),
        secure_cookies: !args.insecure_cookies,
        free_mail: config.free_mail(),
        config_toml: config.to_toml()?,
        config_source: if context.config_path.exists() {
            context.config_path.display().to_string()
        } else {
            format!("{} (absent: the defaults)", context.config_path.display())
        },
        config_path: Some(context.config_path.clone()),
        check_config: |text| {
            super::config::Config::parse(text, std::path::Path::new("abm.toml"))
                .map(|_| ())
                .map_err(|error| format!("{error:#}"))
        },
        tracking: config.tracking.clone(),
        personalization: config.personalization.clone(),
        reverse_ip: config.reverse_ip.clone(),
        behind_proxy: args.behind_proxy,
        plays: Some(std::sync::Arc::new(config.play_setup().map_err(
            |error| anyhow::anyhow!("{}: {error}", context.config_path.display()),
        )?)),
        reports: config.reports.clone(),
        stream: None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut settings = settings;
    if let Some(url) = &args.stream {
        let stream = super::worker::stream_from_env(url);
        // Connected now, so a wrong address fails at start rather than at the first visit.
        let context = runtime.block_on(abm_engine::stream::connect(&stream))?;
        eprintln!(
            "abm: collected events go to the stream {} ({}.*); `abm worker` stores them",
            stream.name, stream.prefix
        );
        settings.stream = Some(abm_web::collect::StreamTarget {
            settings: stream,
            context,
        });
    }
    let url = context.database_url();
    let state = abm_web::AppState::new(url, settings)
        .with_context(|| format!("cannot open the database {}", super::redact(url)))?;
    eprintln!("abm serving on http://{} (Ctrl-C stops)", args.bind);
    if args.run_every > 0 && config.plays.iter().any(|play| !play.paused) {
        spawn_scheduler(url.to_owned(), config, args.run_every)?;
    }
    // Spawned, not run by block_on: the accept loop then runs on the worker threads instead
    // of holding the main thread as one more busy thread on a small machine.
    let bind = args.bind.clone();
    runtime
        .block_on(async move { tokio::spawn(abm_web::serve_owned(bind, state)).await })
        .context("the server stopped unexpectedly")?
        .with_context(|| format!("cannot serve on {}", args.bind))?;
    Ok(ExitCode::SUCCESS)
}

/// The plays' scheduler beside the server: `abm run` every `every` seconds on its own
/// connection. A failed run is logged and retried at the next tick; the outbox makes a run
/// cut short safe to repeat.
fn spawn_scheduler(url: String, config: Config, every: u64) -> Result<()> {
    let setup = config
        .play_setup()
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    std::thread::Builder::new()
        .name("plays".into())
        .spawn(move || {
            loop {
                let now = jiff::Timestamp::now().as_microsecond();
                let outcome =
                    abm_store::open(&url)
                        .map_err(anyhow::Error::from)
                        .and_then(|mut store| {
                            super::run::run_plays(store.as_mut(), &config, &setup, now)
                        });
                match outcome {
                    Ok(report)
                        if report.sent + report.enrolled + report.held + report.suppressed > 0 =>
                    {
                        tracing::info!(
                            enrolled = report.enrolled,
                            sent = report.sent,
                            held = report.held,
                            suppressed = report.suppressed,
                            "plays ran"
                        );
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!("plays: {error:#}"),
                }
                std::thread::sleep(std::time::Duration::from_secs(every));
            }
        })?;
    Ok(())
}

//! The scale-out commands: `abm worker --stream URL` takes activities from the stream,
//! stores and scores them; `abm import activities FILE --stream URL` publishes a file's
//! activities to the stream instead of storing them, read and checked as an import reads them.

use super::Context;
use super::config::Config;
use abm_core::Activity;
use abm_engine::stream::{self, StreamSettings, WorkerSettings};
use abm_ingest::{ColumnOverride, MAX_LISTED, ReadError, Source, read_activities};
use anyhow::{Result, bail};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct WorkerArgs {
    /// The NATS server with JetStream: nats://host:4222
    #[arg(long, env = "ABM_STREAM")]
    stream: String,
    /// The JetStream stream's name
    #[arg(long, env = "ABM_STREAM_NAME", default_value = "ABM_ACTIVITIES")]
    stream_name: String,
    /// The stream's subject prefix (partitions are PREFIX.0 … PREFIX.15)
    #[arg(long, env = "ABM_STREAM_PREFIX", default_value = "abm.activities")]
    subject_prefix: String,
    /// The durable consumer all workers share: each message goes to one of them
    #[arg(long, default_value = "abm-workers")]
    durable: String,
    /// Messages stored per transaction
    #[arg(long, default_value_t = 2000)]
    batch: usize,
    /// Stop after this many seconds without a message (default: run until stopped)
    #[arg(long)]
    idle_exit: Option<u64>,
    /// Seconds a message may stay unacknowledged (a worker died) before another worker gets
    /// it; set when the consumer group is first created
    #[arg(long, default_value_t = 30)]
    ack_wait: u64,
    /// Milliseconds the accounts of stored batches gather before one re-score (the batches
    /// are acknowledged after it); at most a third of the ack wait
    #[arg(long, default_value_t = 1000)]
    rescore_every: u64,
}

fn settings(url: &str, name: &str, prefix: &str) -> StreamSettings {
    StreamSettings {
        url: url.to_owned(),
        name: name.to_owned(),
        prefix: prefix.to_owned(),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

pub fn run(context: &Context, args: &WorkerArgs) -> Result<ExitCode> {
    if args.batch == 0 || args.batch > 50_000 {
        bail!("--batch {}: between 1 and 50000", args.batch);
    }
    if args.rescore_every.saturating_mul(3) > args.ack_wait.saturating_mul(1000) {
        bail!(
            "--rescore-every {} ms: at most a third of --ack-wait ({} s), or messages held for their re-score would be redelivered",
            args.rescore_every,
            args.ack_wait
        );
    }
    let config = Config::load(&context.config_path)?;
    let worker = WorkerSettings {
        durable: args.durable.clone(),
        batch: args.batch,
        idle_exit: args.idle_exit.map(Duration::from_secs),
        ack_wait: Duration::from_secs(args.ack_wait.clamp(1, 3600)),
        rescore_every: Duration::from_millis(args.rescore_every),
        free_mail: config.free_mail(),
        scoring: config.scoring(),
        triggers: config.triggers.clone(),
    };
    let stream = settings(&args.stream, &args.stream_name, &args.subject_prefix);
    let store = context.open_store()?.reopen()?;
    let runtime = runtime()?;
    let (store, report) = runtime.block_on(async {
        let (stop_sender, stop) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let interrupt = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut terminate =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
                let term = async {
                    match terminate.as_mut() {
                        Some(signal) => {
                            signal.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    _ = interrupt => {},
                    () = term => {},
                }
            }
            #[cfg(not(unix))]
            let _ = interrupt.await;
            let _ = stop_sender.send(true);
        });
        let context = match stream::connect(&stream).await {
            Ok(context) => context,
            Err(error) => return (Some(store), Err(error)),
        };
        eprintln!(
            "abm worker: consuming {} ({}.*) as {} (Ctrl-C stops after the batch in hand)",
            stream.name, stream.prefix, worker.durable
        );
        stream::run_worker(&context, &stream, &worker, store, &stop).await
    });
    // The database client is synchronous: it is closed here, outside the runtime.
    drop(store);
    let report = report?;
    println!(
        "{} messages ({} tracked events) in {} batches: {} stored, {} already stored, {} refused to {}-dead, {} given back after a failed batch; {} accounts re-scored in {} re-scores.",
        report.messages,
        report.tracked,
        report.batches,
        report.inserted,
        report.unchanged,
        report.dead,
        args.subject_prefix,
        report.retried,
        report.rescored_accounts,
        report.rescores
    );
    Ok(ExitCode::SUCCESS)
}

/// The stream at `url`, named as `abm worker` reads it (`ABM_STREAM_NAME`,
/// `ABM_STREAM_PREFIX`), for the commands that publish.
pub fn stream_from_env(url: &str) -> StreamSettings {
    let mut stream = StreamSettings::new(url);
    if let Ok(name) = std::env::var("ABM_STREAM_NAME") {
        stream.name = name;
    }
    if let Ok(prefix) = std::env::var("ABM_STREAM_PREFIX") {
        stream.prefix = prefix;
    }
    stream
}

/// `abm import activities FILE… --stream URL`: every file checked first, as an import checks
/// it (all-or-nothing: one bad row publishes nothing), then published, each publish
/// acknowledged by the stream. With `dry_run`, checked only.
pub fn publish_files(
    files: &[PathBuf],
    url: &str,
    overrides: &[ColumnOverride],
    dry_run: bool,
) -> Result<ExitCode> {
    let sources: Vec<Source> = files.iter().cloned().map(Source::from).collect();
    let rows = match read_activities(&sources, overrides, |_| Ok::<(), anyhow::Error>(())) {
        Ok(rows) => rows,
        Err(ReadError::Problems(problems)) => {
            for problem in &problems.listed {
                eprintln!("error: {problem}");
            }
            if problems.total > MAX_LISTED as u64 {
                eprintln!("… and {} more problems", problems.total - MAX_LISTED as u64);
            }
            bail!("nothing was published: fix the problems above and run the import again");
        }
        Err(ReadError::Each(error)) => return Err(error),
    };
    if dry_run {
        println!("Dry run: {rows} activities checked, nothing published.");
        return Ok(ExitCode::SUCCESS);
    }
    let stream = stream_from_env(url);
    let runtime = runtime()?;
    let context = runtime.block_on(stream::connect(&stream))?;
    let mut published = 0u64;
    let mut fresh = 0u64;
    let mut chunk = Vec::with_capacity(4096);
    let mut send = |chunk: &mut Vec<Activity>| -> Result<()> {
        fresh += runtime.block_on(stream::publish(&context, &stream, chunk))?;
        published += chunk.len() as u64;
        chunk.clear();
        Ok(())
    };
    let read = read_activities(&sources, overrides, |activity| {
        chunk.push(activity);
        if chunk.len() == 4096 {
            send(&mut chunk)?;
        }
        Ok::<(), anyhow::Error>(())
    });
    match read {
        Ok(_) => {}
        Err(ReadError::Each(error)) => return Err(error),
        // The files changed between the check and the publish.
        Err(ReadError::Problems(problems)) => bail!(
            "the files changed while they were published ({} problems now; the first: {}); what was published before stays on the stream",
            problems.total,
            problems
                .listed
                .first()
                .map(ToString::to_string)
                .unwrap_or_default()
        ),
    }
    if !chunk.is_empty() {
        send(&mut chunk)?;
    }
    println!(
        "Published {published} activities to {} ({fresh} new to the stream, {} repeats it already held); `abm worker` stores them.",
        stream.name,
        published - fresh
    );
    Ok(ExitCode::SUCCESS)
}

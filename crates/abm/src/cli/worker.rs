//! The scale-out commands: `abm worker --stream URL` takes activities from the stream,
//! stores and scores them; `abm import activities FILE --stream URL` publishes a file's
//! activities to the stream instead of storing them (the generic activities format).

use super::Context;
use super::config::Config;
use abm_core::{Activity, ActivityId, ActivityKind, Domain, Email, parse_timestamp};
use abm_engine::stream::{self, StreamSettings, WorkerSettings};
use anyhow::{Context as _, Result, bail};
use std::path::{Path, PathBuf};
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

const COLUMNS: [&str; 9] = [
    "id",
    "occurred_at",
    "type",
    "email",
    "domain",
    "url",
    "topic",
    "campaign",
    "channel",
];

/// Reads a generic activities file, calling `each` for every valid activity. Problems name the
/// file, line, column and value; the first 20 are returned (and `each` should not act on any
/// activity when there are problems: the caller reads the file twice).
fn read(path: &Path, mut each: impl FnMut(Activity) -> Result<()>) -> Result<Vec<String>> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {shown}"))?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(std::io::BufReader::new(file));
    let headers = reader
        .headers()
        .with_context(|| format!("{shown}: line 1: not a CSV header"))?
        .clone();
    let position = |name: &str| {
        headers.iter().position(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(name)
        })
    };
    let columns: Vec<Option<usize>> = COLUMNS.iter().map(|c| position(c)).collect();
    for (name, column) in COLUMNS.iter().zip(&columns).take(3) {
        if column.is_none() {
            bail!(
                "{shown}: line 1: no `{name}` column (the generic activities format: {})",
                COLUMNS.join(",")
            );
        }
    }
    let mut problems = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                problems.push(format!("{shown}: line {line}: {error}"));
                if problems.len() >= 20 {
                    break;
                }
                continue;
            }
        };
        let get = |field: usize| {
            columns[field]
                .and_then(|c| record.get(c))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let mut problem = |field: usize, value: &str, error: &dyn std::fmt::Display| {
            let column = columns[field].map_or(0, |c| c + 1);
            problems.push(format!(
                "{shown}: line {line}, column {column} ({}): {value:?}: {error}",
                COLUMNS[field]
            ));
        };
        let id = get(0).unwrap_or("");
        let id = ActivityId::parse(id).map_err(|e| problem(0, id, &e)).ok();
        let at = get(1).unwrap_or("");
        let at = parse_timestamp(at).map_err(|e| problem(1, at, &e)).ok();
        let kind = get(2).unwrap_or("");
        let kind = ActivityKind::parse(kind)
            .map_err(|e| problem(2, kind, &e))
            .ok();
        let email = get(3).and_then(|v| Email::parse(v).map_err(|e| problem(3, v, &e)).ok());
        let domain = get(4).and_then(|v| Domain::parse(v).map_err(|e| problem(4, v, &e)).ok());
        if problems.len() >= 20 {
            break;
        }
        if let (Some(id), Some(occurred_at), Some(kind)) = (id, at, kind)
            && problems.is_empty()
        {
            each(Activity {
                id,
                kind,
                occurred_at,
                email,
                domain,
                url: get(5).map(str::to_owned),
                topic: get(6).map(str::to_owned),
                campaign: get(7).map(str::to_owned),
                channel: get(8).map(str::to_owned),
            })?;
        }
    }
    Ok(problems)
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

/// `abm import activities FILE… --stream URL`: every file checked first (all-or-nothing: one
/// bad row publishes nothing), then published, each publish acknowledged by the stream.
pub fn publish_files(files: &[PathBuf], url: &str) -> Result<ExitCode> {
    let mut problems = Vec::new();
    let mut rows = 0u64;
    for file in files {
        problems.extend(read(file, |_| {
            rows += 1;
            Ok(())
        })?);
    }
    if !problems.is_empty() {
        for problem in problems.iter().take(20) {
            eprintln!("{problem}");
        }
        bail!("nothing was published: fix the rows above and run the import again");
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
    for file in files {
        read(file, |activity| {
            chunk.push(activity);
            if chunk.len() == 4096 {
                send(&mut chunk)?;
            }
            Ok(())
        })?;
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

//! `concord-loadgen`: an open-loop load generator for a Concord server on this machine.
//!
//! It creates (or reuses) users and channels over REST, opens WebSocket clients from several
//! 127.0.0.x source addresses, and either sends at a fixed target rate (`run`), measuring
//! accepted messages/s, fan-out deliveries/s and end-to-end delivery latency from each
//! message's scheduled send time, or holds idle connections (`idle`) to measure the server's
//! memory per connection. Only loopback servers are accepted. See `BENCHMARKS.md`.

mod client;
mod modes;
mod procfs;
mod report;
mod scrape;
mod setup;
mod stats;

use clap::{Args, Parser, Subcommand};
use modes::{Common, IdleOptions, Layout, RunOptions};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "concord-loadgen", version, about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Args)]
struct CommonArgs {
    /// The server, e.g. http://127.0.0.1:8080 (loopback only).
    #[arg(long, global = true, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// An org admin, who creates the load users and channels.
    #[arg(long, global = true, default_value = "admin")]
    admin_user: String,
    #[arg(
        long,
        global = true,
        env = "LOADGEN_ADMIN_PASSWORD",
        default_value = ""
    )]
    admin_password: String,
    /// The server's process id, for its CPU time and memory (from /proc).
    #[arg(long, global = true)]
    server_pid: Option<u32>,
    /// Spread client sockets over source addresses 127.0.0.1 to 127.0.0.K.
    #[arg(long, global = true, default_value_t = 4)]
    source_ips: usize,
    /// Load users are named <prefix>-<n>, channels <prefix>-m<channels>-<j>.
    #[arg(long, global = true, default_value = "lg")]
    prefix: String,
    /// Password of the load users.
    #[arg(long, global = true, default_value = "load-generator-password")]
    password: String,
    /// Users created or logged in at once (each is an Argon2id hash on the server).
    #[arg(long, global = true, default_value_t = 8)]
    setup_concurrency: usize,
    /// WebSocket handshakes in progress at once.
    #[arg(long, global = true, default_value_t = 64)]
    connect_concurrency: usize,
    /// Keep sessions in this file and reuse them on the next run against the same server.
    #[arg(long, global = true)]
    token_cache: Option<PathBuf>,
    /// Also append the report as one JSON line to this file.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Mode {
    /// Send at a target rate for a while and report throughput and latency.
    Run {
        /// WebSocket clients.
        #[arg(long, default_value_t = 1000)]
        clients: usize,
        /// Distinct users (client c logs in as user c % users). Default: one per client.
        #[arg(long)]
        users: Option<usize>,
        /// Public channels; user u is a member of channel u % channels.
        #[arg(long, default_value_t = 100)]
        channels: usize,
        /// Clients that send (the first ones; spread evenly over the channels). Default: all.
        #[arg(long)]
        senders: Option<usize>,
        /// Target messages per second, over all senders.
        #[arg(long, default_value_t = 10_000.0)]
        rate: f64,
        /// Seconds of sending before the measurement window.
        #[arg(long, default_value_t = 5)]
        warmup: u64,
        /// Seconds in the measurement window.
        #[arg(long, default_value_t = 30)]
        duration: u64,
        /// Seconds to wait at most for acks and deliveries after the window.
        #[arg(long, default_value_t = 10)]
        drain: u64,
        /// Approximate message text length in bytes.
        #[arg(long, default_value_t = 64)]
        text_bytes: usize,
        /// Unacknowledged sends per connection beyond which scheduled sends are skipped.
        #[arg(long, default_value_t = 10_000)]
        max_in_flight: u64,
    },
    /// Open idle connections, hold them, and report the server's memory per connection.
    Idle {
        #[arg(long, default_value_t = 10_000)]
        clients: usize,
        /// Distinct users. Default: one per client.
        #[arg(long)]
        users: Option<usize>,
        #[arg(long, default_value_t = 100)]
        channels: usize,
        /// Seconds to hold the connections.
        #[arg(long, default_value_t = 10)]
        hold: u64,
    },
    /// Only create the users and channels (and fill the token cache).
    Setup {
        #[arg(long, default_value_t = 1000)]
        users: usize,
        #[arg(long, default_value_t = 100)]
        channels: usize,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async_main(cli))
}

async fn async_main(cli: Cli) -> anyhow::Result<()> {
    let a = cli.common;
    let common = Common {
        target: client::Target::parse(&a.server)?,
        admin_user: a.admin_user,
        admin_password: a.admin_password,
        server_pid: a.server_pid,
        source_ips: a.source_ips.clamp(1, 254),
        prefix: a.prefix,
        password: a.password,
        setup_concurrency: a.setup_concurrency,
        connect_concurrency: a.connect_concurrency,
        token_cache: a.token_cache,
    };
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let (text, json) = match cli.mode {
        Mode::Run {
            clients,
            users,
            channels,
            senders,
            rate,
            warmup,
            duration,
            drain,
            text_bytes,
            max_in_flight,
        } => {
            let opts = RunOptions {
                layout: Layout {
                    clients,
                    users: users.unwrap_or(clients),
                    channels,
                },
                senders: senders.unwrap_or(clients),
                rate,
                warmup: Duration::from_secs(warmup),
                duration: Duration::from_secs(duration.max(1)),
                drain: Duration::from_secs(drain),
                text_bytes,
                max_in_flight: max_in_flight.max(1),
            };
            let r = modes::run(&common, opts).await?;
            (r.text(), serde_json::json!({"mode": "run", "report": r}))
        }
        Mode::Idle {
            clients,
            users,
            channels,
            hold,
        } => {
            let opts = IdleOptions {
                layout: Layout {
                    clients,
                    users: users.unwrap_or(clients),
                    channels,
                },
                hold: Duration::from_secs(hold.max(1)),
            };
            let r = modes::idle(&common, opts).await?;
            (r.text(), serde_json::json!({"mode": "idle", "report": r}))
        }
        Mode::Setup { users, channels } => {
            modes::setup_only(&common, users, channels).await?;
            return Ok(());
        }
    };
    println!("{text}");
    if let Some(path) = a.json {
        use std::io::Write as _;
        let mut line = json;
        line["command"] = serde_json::Value::String(command);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        writeln!(f, "{line}")?;
    }
    Ok(())
}

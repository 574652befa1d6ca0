//! The `concord` command: `serve` (the default) and admin tools.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use concord_core::service::NobodyOnline;
use concord_core::{Services, SystemClock};
use concord_proto::CreateUserRequest;
use concord_server::{App, Config};
use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

mod cli_dlp;

#[derive(Parser)]
#[command(
    name = "concord",
    version,
    about = "Concord: self-hosted enterprise messaging"
)]
struct Cli {
    /// TOML configuration file (see concord.example.toml).
    #[arg(long, global = true, env = "CONCORD_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (SQLite database, files). Also CONCORD_DATA_DIR.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Use PostgreSQL at this URL instead of SQLite. Also CONCORD_DATABASE_URL.
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080. Also CONCORD_LISTEN.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Serve HTTPS and WSS with this PEM certificate chain (with --tls-key). Also
        /// CONCORD_TLS__CERT.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key for --tls-cert. Also CONCORD_TLS__KEY.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The audit log's tamper evidence.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Encryption at rest: master keys, rotation, sealing legacy plaintext.
    Keys {
        #[command(subcommand)]
        command: concord_server::cli_keys::KeysCommand,
    },
    /// Directory sync.
    Directory {
        #[command(subcommand)]
        command: DirectoryCommand,
    },
    /// Data-loss prevention tools.
    Dlp {
        #[command(subcommand)]
        command: cli_dlp::DlpCommand,
    },
    /// The message search index.
    Search {
        #[command(subcommand)]
        command: SearchCommand,
    },
    /// Message retention (the policies are set through the admin API).
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Tamper evidence of stored messages.
    Verify {
        #[command(subcommand)]
        command: VerifyCommand,
    },
    /// Compliance exports.
    Compliance {
        #[command(subcommand)]
        command: concord_server::cli_export::ComplianceCommand,
    },
    /// Bulk import.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Delete expired messages now (with their edits, reactions, mentions, pins and search
    /// entries), as the server does every retention.interval_secs; audited with the counts.
    Run {
        /// Count what would be deleted without deleting.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum VerifyCommand {
    /// Recompute a channel's hash chain over messages, edits and deletions from the stored
    /// rows; names the first change made behind the server's back. Exits with status 1 if so.
    Channel {
        /// The channel's id.
        id: i64,
    },
}

#[derive(Subcommand)]
enum SearchCommand {
    /// Rebuild the index (messages and files) into a fresh directory, then swap it in. With
    /// `--server`, the running server rebuilds online while it keeps serving searches;
    /// without, offline (it refuses while a server uses the index).
    Reindex {
        /// Base URL of the running server, e.g. https://chat.example.com.
        #[arg(long)]
        server: Option<String>,
        /// An org admin's bearer token for `--server`.
        #[arg(long, env = "CONCORD_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import messages from JSON Lines ({"channel", "sender", "ts", "text"} per line), creating
    /// missing public channels and users, keeping timestamps and order; then index them.
    /// Offline: stop the server first.
    Messages {
        /// The .jsonl file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain and the signed checkpoints; names the first edited, deleted,
    /// inserted or reordered entry. Exits with status 1 if the log was tampered with.
    Verify,
    /// Sign the newest entry now (a running server does so every hour).
    Checkpoint,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a user; the password is prompted for, or read from stdin with --password-stdin.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Make the user an org admin.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum DirectoryCommand {
    /// Import departments and people from LDAP once (the [ldap] settings) and print what
    /// changed. A running server reloads the organisation at its next change; people this
    /// deactivates lose their sessions at once.
    SyncLdap,
}

/// `concord directory sync-ldap`.
async fn sync_ldap(config: Config) -> anyhow::Result<()> {
    config.validate().map_err(anyhow::Error::msg)?;
    if !config.ldap.configured() {
        bail!(
            "set ldap.url and ldap.base_dn (in the config file or CONCORD_LDAP__URL, CONCORD_LDAP__BASE_DN)"
        );
    }
    let store = concord_server::at_rest::open_store(&config)
        .await
        .context("opening the store")?;
    let services = Services::new(
        store.clone(),
        Arc::new(SystemClock),
        Arc::new(NobodyOnline),
        config.domain_limits(),
    );
    let result = match services.init_org().await {
        Ok(()) => concord_server::directory::sync_ldap(&services, &config.ldap).await,
        Err(e) => Err(e.to_string()),
    };
    store.close().await;
    let summary = result.map_err(anyhow::Error::msg)?;
    print!("{summary}");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // One TLS stack, ring, for everything that speaks TLS (HTTPS, LDAPS, outgoing HTTPS).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let (mut config, warnings) =
        Config::load(cli.config.as_deref(), std::env::vars()).map_err(anyhow::Error::msg)?;
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    if let Some(dir) = cli.data_dir {
        config.data_dir = dir;
    }
    if let Some(url) = cli.database_url {
        config.database_url = Some(url);
    }
    match cli.command.unwrap_or(Command::Serve {
        listen: None,
        tls_cert: None,
        tls_key: None,
    }) {
        Command::Dlp { command } => cli_dlp::run(command, &config),
        Command::Search {
            command: SearchCommand::Reindex { server, token },
        } => match server {
            Some(server) => concord_server::search::cli::reindex_online(&server, token).await,
            None => concord_server::search::cli::reindex(config).await,
        },
        Command::Import {
            command: ImportCommand::Messages { file },
        } => concord_server::search::cli::import_messages(config, &file).await,
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
        } => {
            if let Some(addr) = listen {
                config.listen = addr;
            }
            if tls_cert.is_some() {
                config.tls.cert = tls_cert;
                config.tls.key = tls_key;
            }
            config.validate().map_err(anyhow::Error::msg)?;
            init_tracing(&config);
            serve(config).await
        }
        Command::Directory {
            command: DirectoryCommand::SyncLdap,
        } => sync_ldap(config).await,
        Command::Retention {
            command: RetentionCommand::Run { dry_run },
        } => concord_server::retention_job::run(config, dry_run).await,
        Command::Verify {
            command: VerifyCommand::Channel { id },
        } => {
            if concord_server::retention_job::verify_channel(config, id).await? {
                Ok(())
            } else {
                std::process::exit(1)
            }
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            if concord_server::cli_audit::verify(config).await? {
                Ok(())
            } else {
                std::process::exit(1)
            }
        }
        Command::Audit {
            command: AuditCommand::Checkpoint,
        } => concord_server::cli_audit::checkpoint(config).await,
        Command::Keys { command } => concord_server::cli_keys::run(config, command).await,
        Command::Compliance { command } => concord_server::cli_export::run(config, command).await,
        Command::Admin {
            command:
                AdminCommand::CreateUser {
                    username,
                    email,
                    display_name,
                    admin,
                    password_stdin,
                },
        } => {
            config.validate().map_err(anyhow::Error::msg)?;
            let password = read_password(password_stdin)?;
            let store = concord_server::at_rest::open_store(&config)
                .await
                .context("opening the store")?;
            let services = Services::new(
                store.clone(),
                Arc::new(SystemClock),
                Arc::new(NobodyOnline),
                config.domain_limits(),
            );
            let req = CreateUserRequest {
                username,
                password,
                email,
                display_name,
                is_admin: admin,
                guest: false,
            };
            let result = match services.init_org().await {
                Ok(()) => services.create_user(None, req).await,
                Err(e) => Err(e),
            };
            store.close().await;
            let user = result.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "created user {} (id {}){}",
                user.username,
                user.id,
                if user.is_admin { ", org admin" } else { "" }
            );
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    tracing::info!(?config, "starting");
    let scheme = if config.tls.enabled() {
        "https"
    } else {
        "http"
    };
    let app = App::build(config).await?;
    let addr = app.local_addr();
    if app.services().store.count_users().await? == 0 {
        let exe = std::env::args().next().unwrap_or_else(|| "concord".into());
        tracing::warn!("no users yet");
        println!(
            "No users yet. Create the first admin with:\n  {exe} admin create-user --username admin --admin\n\
             (or, from a checkout: cargo run --release -- admin create-user --username admin --admin)"
        );
    }
    println!(
        "Concord is listening on {scheme}://{addr} (API under /api/v1, OpenAPI at /api/v1/openapi.json)"
    );
    app.run(shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if !from_stdin && stdin.is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Again: ")?;
        if first != second {
            bail!("the passwords differ");
        }
        return Ok(first);
    }
    if !from_stdin {
        eprint!("Password (from standard input): ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!("no password given on standard input");
    }
    Ok(password)
}

fn init_tracing(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if config.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

//! `openqps`: a self-hostable server that speaks the Qualys QPS REST API.

mod accounts;
mod agent;
mod demo;
mod serve;
mod tls;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "openqps",
    version,
    about = "A self-hostable server that speaks the Qualys QPS REST API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the QPS API on an embedded SQLite database, or on PostgreSQL (--database).
    Serve(serve::ServeArgs),
    /// Run a Linux agent against an openqps server (/agent/v1): inventory and SwCA scans.
    Agent(agent::AgentArgs),
    /// Make a local certificate authority and a server certificate for 127.0.0.1 and localhost.
    Cert(tls::CertArgs),
    /// Create and list subscriptions (tenants) in the database `serve` uses.
    #[command(subcommand)]
    Subscription(accounts::SubscriptionCommand),
    /// Add users to a subscription and set their passwords.
    #[command(subcommand)]
    User(accounts::UserCommand),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OPENQPS_LOG")
                .unwrap_or_else(|_| "openqps=info,openqps_server=info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    if let Command::Cert(args) = cli.command {
        return match tls::cert(args) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("openqps: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    if let Command::Agent(args) = cli.command {
        return match agent::run(args) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("openqps agent: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("openqps: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Subscription(cmd) => accounts::subscription(cmd).await,
            Command::User(cmd) => accounts::user(cmd).await,
            Command::Cert(_) | Command::Agent(_) => {
                unreachable!("handled before the runtime starts")
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("openqps: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

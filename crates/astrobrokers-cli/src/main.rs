//! The `astrobrokers` command-line tool: ATLAS, ALeRCE, SkyPortal and ATLAS forced
//! photometry from one place, plus cross-broker light curves and an offline demo.
//!
//! Run `astrobrokers --help` for the verbs. Configuration: flags > environment variables >
//! `~/.config/astrobrokers/config.toml` (see `astrobrokers config path`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

mod output;
mod plot;
mod settings;

use output::Format;

/// Transient brokers from the command line.
#[derive(Debug, Parser)]
#[command(name = "astrobrokers", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every verb takes.
#[derive(Debug, Args, Clone)]
pub struct Global {
    /// Output format (default: table on a terminal, JSON otherwise).
    #[arg(long, short = 'f', global = true, value_enum)]
    format: Option<Format>,
    /// Write the output to this file instead of standard output.
    #[arg(long, short = 'o', global = true)]
    output: Option<PathBuf>,
    /// No progress bars or notes on standard error.
    #[arg(long, short = 'q', global = true)]
    quiet: bool,
    /// More detail on standard error (-v: requests, -vv: everything).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// The config file (default: ~/.config/astrobrokers/config.toml).
    #[arg(long, global = true, env = "ASTROBROKERS_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show or change the configuration.
    #[command(subcommand)]
    Config(ConfigCmd),
}

#[derive(Debug, Subcommand)]
enum ConfigCmd {
    /// Every setting, where it comes from, secrets masked.
    Show,
    /// Set a value in the config file (written with mode 0600).
    Set {
        /// The setting, e.g. `skyportal.token`.
        key: String,
        /// The value.
        value: String,
    },
    /// The config file's path.
    Path,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.global.verbose);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, without a backtrace.
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ")
}

fn init_tracing(verbose: u8) {
    let filter = match verbose {
        0 => "warn",
        1 => {
            "warn,broker_core=debug,atlas_client=debug,alerce_client=debug,skyportal_client=debug,fallingstar_forcedphot=debug,astrobrokers=debug"
        }
        _ => "trace",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

impl Global {
    /// The format to use: the flag, else a table on a terminal, else JSON.
    fn format(&self) -> Format {
        self.format.unwrap_or(if self.output.is_none() && std::io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Json
        })
    }

    /// Writes rows to the output.
    fn emit(&self, rows: &[serde_json::Value], preferred: Option<&[&str]>) -> Result<()> {
        let format = self.format();
        match &self.output {
            Some(path) => {
                let mut f = std::io::BufWriter::new(
                    std::fs::File::create(path).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
                );
                output::write_rows(&mut f, rows, format, preferred)?;
                use std::io::Write;
                f.flush()?;
                if !self.quiet {
                    eprintln!("wrote {} rows to {}", rows.len(), path.display());
                }
                Ok(())
            }
            None => {
                let stdout = std::io::stdout();
                let mut lock = stdout.lock();
                output::write_rows(&mut lock, rows, format, preferred)
            }
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    let g = cli.global.clone();
    match cli.command {
        Command::Config(c) => config_cmd(&g, c),
    }
}

fn config_cmd(g: &Global, c: ConfigCmd) -> Result<()> {
    let s = settings::Settings::load(g.config.clone())?;
    match c {
        ConfigCmd::Path => {
            match &s.path {
                Some(p) => println!("{}", p.display()),
                None => anyhow::bail!("no config directory: set HOME or XDG_CONFIG_HOME, or pass --config FILE"),
            }
            Ok(())
        }
        ConfigCmd::Set { key, value } => {
            let path = s.path.clone().ok_or_else(|| anyhow::anyhow!("no config path: pass --config FILE"))?;
            settings::set(&path, &key, &value)?;
            if !g.quiet {
                eprintln!("set {key} in {}", path.display());
            }
            Ok(())
        }
        ConfigCmd::Show => {
            let rows: Vec<serde_json::Value> = settings::KEYS
                .iter()
                .map(|k| {
                    let got = s.get(None, k.name);
                    let value = got.as_ref().map(|v| if k.secret { settings::mask(&v.value) } else { v.value.clone() });
                    let source = got.map(|v| match v.source {
                        broker_core::config::Source::Explicit => "flag".to_string(),
                        broker_core::config::Source::Environment => format!("env {}", k.env),
                        broker_core::config::Source::File => "file".to_string(),
                    });
                    serde_json::json!({"setting": k.name, "value": value, "source": source, "env": k.env})
                })
                .collect();
            g.emit(&rows, None)
        }
    }
}

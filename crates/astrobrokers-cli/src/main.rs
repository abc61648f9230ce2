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

mod alerce_cmd;
mod atlas_cmd;
mod cross_cmd;
mod ctx;
mod demo;
mod fink_cmd;
mod forcedphot_cmd;
mod harvest_cmd;
mod lasair_cmd;
mod output;
mod plot;
mod resolve_cmd;
mod settings;
mod skyportal_cmd;
mod tns_cmd;

use astrobrokers::core::{Lightcurve, SkyPosition, Survey};
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
    /// The columns to print, in this order, in every format (e.g. `--columns id,ra,dec`).
    /// Without it a table shows each kind of record's main columns (listed in the README,
    /// "Tables") and JSON, CSV and Parquet keep every field. An unknown name is refused with
    /// the list of the available ones.
    #[arg(long, global = true, value_delimiter = ',', value_name = "A,B,C")]
    columns: Option<Vec<String>>,
    /// No progress bars or notes on standard error.
    #[arg(long, short = 'q', global = true)]
    quiet: bool,
    /// More detail on standard error (-v: requests, -vv: everything).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// The config file (default: ~/.config/astrobrokers/config.toml).
    #[arg(long, global = true, env = "ASTROBROKERS_CONFIG")]
    config: Option<PathBuf>,
    /// The longest to wait when a service throttles us, in seconds; longer waits fail with
    /// the time to wait.
    #[arg(long, global = true, default_value_t = 120, value_name = "SECONDS")]
    max_wait: u64,
    /// ALeRCE root URL (overrides ALERCE_URL and the config file).
    #[arg(long, global = true, value_name = "URL")]
    alerce_url: Option<String>,
    /// ATLAS Transient Server API URL (overrides ATLAS_API_URL).
    #[arg(long, global = true, value_name = "URL")]
    atlas_url: Option<String>,
    /// SkyPortal URL (overrides SKYPORTAL_URL).
    #[arg(long, global = true, value_name = "URL")]
    skyportal_url: Option<String>,
    /// Forced-photometry server URL (overrides FORCEDPHOT_URL).
    #[arg(long, global = true, value_name = "URL")]
    forcedphot_url: Option<String>,
    /// Fink/ZTF API URL (overrides FINK_URL).
    #[arg(long, global = true, value_name = "URL")]
    fink_url: Option<String>,
    /// Fink/LSST API URL (overrides FINK_LSST_URL).
    #[arg(long, global = true, value_name = "URL")]
    fink_lsst_url: Option<String>,
    /// Transient Name Server URL (overrides TNS_URL).
    #[arg(long, global = true, value_name = "URL")]
    tns_url: Option<String>,
}

/// Light-curve output options: a PNG plot, flux instead of magnitude, nightly binning.
#[derive(Debug, Args, Clone, Default)]
pub struct LcOut {
    /// Also draw the light curve into this PNG file.
    #[arg(long, value_name = "FILE.png")]
    plot: Option<PathBuf>,
    /// Plot flux (µJy) instead of magnitude.
    #[arg(long)]
    flux: bool,
    /// Bin the points per night (weighted means of flux, per broker and band).
    #[arg(long)]
    nightly: bool,
}

impl LcOut {
    /// Checks the options before any request.
    fn check(&self) -> Result<()> {
        if let Some(p) = &self.plot {
            let ok = p.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("png"));
            if !ok {
                anyhow::bail!("invalid --plot {}: the plot is a PNG file, name it FILE.png", p.display());
            }
        }
        Ok(())
    }

    fn prepare(&self, lc: &Lightcurve) -> Lightcurve {
        if self.nightly {
            astrobrokers::core::astro::binning::bin_lightcurve(
                lc,
                &astrobrokers::core::astro::binning::BinOptions::default(),
                3.0,
                3.0,
            )
        } else {
            lc.clone()
        }
    }

    /// Draws the plot when asked.
    fn plot_only(&self, g: &Global, lc: &Lightcurve, title: &str) -> Result<()> {
        if let Some(p) = &self.plot {
            let y = if self.flux { plot::YAxis::Flux } else { plot::YAxis::Magnitude };
            plot::plot_lightcurve(&self.prepare(lc), title, y, p, 1200, 750)?;
            if !g.quiet {
                eprintln!("wrote the plot to {}", p.display());
            }
        }
        Ok(())
    }

    /// Prints the light curve with the unified columns, and plots it when asked.
    fn emit(&self, g: &Global, lc: &Lightcurve, title: &str) -> Result<()> {
        self.plot_only(g, lc, title)?;
        g.emit(&output::lightcurve_rows(&self.prepare(lc)), Some(&output::LIGHTCURVE_COLUMNS))
    }
}

/// A cone: centre and radius.
#[derive(Debug, Args, Clone)]
pub struct PosArgs {
    /// Right ascension of the centre (degrees, 0 to 360).
    #[arg(allow_negative_numbers = true)]
    ra: f64,
    /// Declination of the centre (degrees, -90 to 90).
    #[arg(allow_negative_numbers = true)]
    dec: f64,
    /// Radius in arcseconds.
    #[arg(long, short = 'r', default_value_t = 5.0, allow_negative_numbers = true)]
    radius: f64,
}

impl PosArgs {
    /// The validated centre and radius.
    fn get(&self) -> Result<(SkyPosition, f64)> {
        Ok((ctx::position(self.ra, self.dec)?, ctx::radius(self.radius)?))
    }
}

/// Which survey's server (Fink and Lasair run one per survey).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum SurveyArg {
    /// ZTF (Fink: `api.ztf.fink-portal.org`; Lasair: LASAIR_URL).
    #[default]
    Ztf,
    /// Rubin/LSST (Fink: `api.lsst.fink-portal.org`; Lasair: LASAIR_LSST_URL).
    Lsst,
}

impl From<SurveyArg> for Survey {
    fn from(s: SurveyArg) -> Survey {
        match s {
            SurveyArg::Ztf => Survey::Ztf,
            SurveyArg::Lsst => Survey::Lsst,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the local sandbox and fetch one transient (its name from TNS) from every service: a table, a CSV and a PNG.
    Demo(demo::DemoArgs),
    /// Run the sandbox (local emulators of all seven services) and print their URLs and credentials.
    Sandbox(demo::SandboxArgs),
    /// ALeRCE: ZTF objects, light curves, classifications, stamps, catsHTM.
    #[command(subcommand)]
    Alerce(alerce_cmd::AlerceCmd),
    /// The ATLAS Transient Server.
    #[command(subcommand)]
    Atlas(atlas_cmd::AtlasCmd),
    /// SkyPortal (Fritz or another deployment).
    #[command(subcommand)]
    Skyportal(skyportal_cmd::SkyPortalCmd),
    /// ATLAS forced photometry.
    #[command(subcommand)]
    Forcedphot(forcedphot_cmd::ForcedPhotCmd),
    /// Fink (ZTF and Rubin/LSST): objects, light curves, latests, tags, cone, cutouts.
    #[command(subcommand)]
    Fink(fink_cmd::FinkCmd),
    /// Lasair: the ZTF and LSST servers (cone, query, objects, light curves, Sherlock, annotations).
    #[command(subcommand)]
    Lasair(lasair_cmd::LasairCmd),
    /// The Transient Name Server: names, objects, reports, the public-objects list.
    #[command(subcommand)]
    Tns(tns_cmd::TnsCmd),
    /// One object's position and its id at every configured service (TNS names, cones,
    /// cross-references), each with how it was found and a confidence.
    Resolve(resolve_cmd::ResolveArgs),
    /// One transient's light curve from every configured service, merged by MJD.
    Lightcurve(cross_cmd::LightcurveArgs),
    /// A cone search on every configured service.
    Cone(cross_cmd::ConeArgs),
    /// Many targets' light curves from every configured service into a resumable,
    /// hive-partitioned Parquet dataset, with a completeness report.
    Harvest(harvest_cmd::HarvestArgs),
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
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if matches!(e.kind(), ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand) {
                let _ = e.print();
                return ExitCode::from(2);
            }
            // clap's message (with the valid values) on one line, then exit code 2.
            let text = e.render().to_string();
            let line = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:"))
                .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
                .collect::<Vec<_>>()
                .join(" ");
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "{line} (see --help)");
            return ExitCode::from(2);
        }
    };
    init_tracing(cli.global.verbose);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let token_vars = match &cli.command {
        Command::Alerce(_) => "ALERCE_TOKEN",
        Command::Atlas(_) => "ATLAS_API_TOKEN (or the file ATLAS_CONFIG_FILE points to)",
        Command::Skyportal(_) => "SKYPORTAL_TOKEN",
        Command::Forcedphot(_) => "FORCEDPHOT_TOKEN (or FORCEDPHOT_USERNAME and FORCEDPHOT_PASSWORD)",
        Command::Lasair(_) => "LASAIR_TOKEN (LASAIR_LSST_TOKEN for the LSST server)",
        Command::Tns(_) => "TNS_API_KEY with TNS_BOT_ID and TNS_BOT_NAME (or TNS_USER_ID and TNS_USER_NAME)",
        _ => "ATLAS_API_TOKEN, SKYPORTAL_TOKEN, FORCEDPHOT_TOKEN",
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`| head`): stop quietly, as other command-line tools do.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        // A bad --columns name, found once the rows are known: a usage error, like a bad flag.
        Err(e) if e.downcast_ref::<output::UsageError>().is_some() => {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "error: {e} (see --help)");
            ExitCode::from(2)
        }
        Err(e) => {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "error: {}", one_line(&e, token_vars));
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

/// What to do about an error of the services, when there is something to say.
fn hint(e: &anyhow::Error, token_vars: &str) -> Option<String> {
    for cause in e.chain() {
        let core = cause
            .downcast_ref::<broker_core::Error>()
            .or_else(|| match cause.downcast_ref::<astrobrokers::alerce::Error>() {
                Some(astrobrokers::alerce::Error::Core(c)) => Some(c),
                _ => None,
            })
            .or_else(|| match cause.downcast_ref::<astrobrokers::forcedphot::Error>() {
                Some(astrobrokers::forcedphot::Error::Core(c)) => Some(c),
                _ => None,
            })
            .or_else(|| match cause.downcast_ref::<astrobrokers::lasair::Error>() {
                Some(astrobrokers::lasair::Error::Core(c)) => Some(c),
                _ => None,
            })
            .or_else(|| match cause.downcast_ref::<astrobrokers::tns::Error>() {
                Some(astrobrokers::tns::Error::Core(c)) => Some(c),
                _ => None,
            });
        if let Some(astrobrokers::lasair::Error::Throttled { retry_after, .. }) = cause.downcast_ref() {
            let wait = retry_after.map(|d| format!("{} s", d.as_secs())).unwrap_or_else(|| "an hour".into());
            return Some(format!("Lasair's hourly limit is spent: try again in {wait}"));
        }
        if let Some(astrobrokers::tns::Error::RateLimited { retry_after, .. }) =
            cause.downcast_ref::<astrobrokers::tns::Error>()
        {
            return Some(match retry_after {
                Some(d) => format!("TNS asks to wait {} s: try again after that", d.as_secs()),
                None => "TNS is throttling requests: wait a minute and try again".into(),
            });
        }
        match core {
            Some(broker_core::Error::RateLimited { retry_after: Some(d), .. }) => {
                return Some(format!("the service asks to wait {} s: try again after that", d.as_secs()));
            }
            Some(broker_core::Error::RateLimited { retry_after: None, .. }) => {
                return Some("the service is throttling requests: wait a minute and try again".into());
            }
            Some(broker_core::Error::Auth { .. }) => {
                return Some(format!("check {token_vars} (`astrobrokers config show` shows what is in use)"));
            }
            Some(broker_core::Error::Transport { .. }) | Some(broker_core::Error::Timeout { .. }) => {
                return Some(
                    "check the network and the service URL (`astrobrokers config show`); -v shows the requests".into(),
                );
            }
            _ => {}
        }
    }
    None
}

/// The error and its causes on one line, without a backtrace.
fn one_line(e: &anyhow::Error, token_vars: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string().replace(['\n', '\r'], " ");
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    let mut line = parts.join(": ");
    if let Some(h) = hint(e, token_vars) {
        line.push_str(" — ");
        line.push_str(&h);
    }
    line
}

fn init_tracing(verbose: u8) {
    let filter = match verbose {
        0 => "warn",
        1 => {
            "warn,broker_core=debug,atlas_client=debug,alerce_client=debug,skyportal_client=debug,fallingstar_forcedphot=debug,fink_client=debug,lasair_client=debug,astrobrokers=debug"
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

    /// Writes rows to the output, these columns first.
    fn emit(&self, rows: &[serde_json::Value], preferred: Option<&[&str]>) -> Result<()> {
        self.emit_shaped(rows, output::Shape { first: preferred, ..output::Shape::default() })
    }

    /// Writes rows of a kind that has a [`output::View`]: a table shows its main columns.
    fn emit_view(&self, rows: &[serde_json::Value], view: output::View) -> Result<()> {
        self.emit_shaped(rows, output::Shape { view: Some(view), ..output::Shape::default() })
    }

    fn emit_shaped(&self, rows: &[serde_json::Value], shape: output::Shape<'_>) -> Result<()> {
        let picked: Option<Vec<String>> =
            self.columns.as_ref().map(|c| c.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
        if let Some(p) = &picked {
            if p.is_empty() {
                return Err(output::UsageError("invalid --columns: give at least one column name".into()).into());
            }
        }
        let shape = output::Shape { picked: picked.as_deref(), ..shape };
        let format = self.format();
        let hidden = self.write_out(rows, format, &shape)?;
        if hidden > 0 && !self.quiet {
            eprintln!(
                "({hidden} more {}: pick with --columns a,b,c, or -f json for every field)",
                if hidden == 1 { "column" } else { "columns" }
            );
        }
        Ok(())
    }

    fn write_out(&self, rows: &[serde_json::Value], format: Format, shape: &output::Shape<'_>) -> Result<usize> {
        match &self.output {
            Some(path) => {
                let mut f = std::io::BufWriter::new(
                    std::fs::File::create(path).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
                );
                let hidden = output::write_shaped(&mut f, rows, format, shape)?;
                use std::io::Write;
                f.flush()?;
                if !self.quiet {
                    eprintln!("wrote {} rows to {}", rows.len(), path.display());
                }
                Ok(hidden)
            }
            None => {
                let stdout = std::io::stdout();
                let mut lock = stdout.lock();
                output::write_shaped(&mut lock, rows, format, shape)
            }
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    let g = cli.global.clone();
    #[cfg(feature = "parquet")]
    if g.format == Some(Format::Parquet) && g.output.is_none() && std::io::stdout().is_terminal() {
        anyhow::bail!("Parquet is binary: write it to a file with --output FILE.parquet (or pipe it)");
    }
    let endpoints = || -> Result<ctx::Endpoints> {
        let s = settings::Settings::load(g.config.clone())?;
        Ok(ctx::Endpoints::resolve(&g, &s))
    };
    match cli.command {
        Command::Demo(a) => demo::demo(&g, a).await,
        Command::Sandbox(a) => demo::sandbox(&g, a).await,
        Command::Alerce(c) => alerce_cmd::run(&g, &endpoints()?, c).await,
        Command::Atlas(c) => atlas_cmd::run(&g, &endpoints()?, c).await,
        Command::Skyportal(c) => skyportal_cmd::run(&g, &endpoints()?, c).await,
        Command::Forcedphot(c) => forcedphot_cmd::run(&g, &endpoints()?, c).await,
        Command::Fink(c) => fink_cmd::run(&g, &endpoints()?, c).await,
        Command::Lasair(c) => lasair_cmd::run(&g, &endpoints()?, c).await,
        Command::Tns(c) => tns_cmd::run(&g, &endpoints()?, c).await,
        Command::Resolve(a) => resolve_cmd::run(&g, &endpoints()?, a).await,
        Command::Lightcurve(a) => cross_cmd::lightcurve(&g, &endpoints()?, a).await,
        Command::Cone(a) => cross_cmd::cone(&g, &endpoints()?, a).await,
        Command::Harvest(a) => harvest_cmd::run(&g, &endpoints()?, a).await,
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

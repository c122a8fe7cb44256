//! Argument parsing, logging set-up and dispatch for the `hotpapers` binary.

mod args;
mod output;
mod progress;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;
use hotpapers::app::{App, DigestRequest, LlmUse};
use hotpapers::clock::SystemClock;
use hotpapers::config::Config;

use args::{Cli, Command, ConfigAction, PaperFormat};

/// Parses arguments, runs the command, and turns any error into one line on stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The bot is a service: its start, registration and shutdown lines show by default.
    let verbose = match cli.command {
        Command::Run { .. } => cli.verbose.max(1),
        _ => cli.verbose,
    };
    init_logging(verbose, cli.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", error_line(&e, verbose > 0));
            ExitCode::FAILURE
        }
    }
}

/// Completes on Ctrl-C or SIGTERM (the signal a service manager or `docker stop` sends).
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
        () = ctrl_c => {},
        () = term => {},
    }
}

/// A watch that turns true on the first SIGINT (Ctrl-C) or SIGTERM; a second one exits at
/// once (status 130) for when a clean shutdown takes too long. The handlers are installed
/// before this returns, so a signal arriving right after start is not lost.
fn shutdown_on_signals() -> std::io::Result<tokio::sync::watch::Receiver<bool>> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        tokio::spawn(async move {
            let mut first = true;
            loop {
                tokio::select! {
                    _ = int.recv() => {},
                    _ = term.recv() => {},
                }
                if !first {
                    eprintln!("second signal: exiting without waiting");
                    std::process::exit(130);
                }
                first = false;
                let _ = tx.send(true);
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = tx.send(true);
        let _ = tokio::signal::ctrl_c().await;
        std::process::exit(130);
    });
    Ok(rx)
}

/// The error and its causes on one line, "a: b: c", skipping a cause whose text its parent
/// already quotes (library errors often include their source's message).
/// `hotpapers health`: GET `/healthz` of a running instance; prints its verdict (and the
/// reasons when unhealthy); an error (exit 1) unless it answered 200.
async fn health(config: &Config, addr: Option<&str>) -> anyhow::Result<()> {
    let addr = match addr {
        Some(a) => a.to_string(),
        None => config
            .web
            .listen_addr()
            .map_err(anyhow::Error::msg)?
            .map(|a| a.to_string())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "no address to ask: set [web] listen (HOTPAPERS_WEB__LISTEN) as the running \
                     bot does, or pass --addr HOST:PORT"
                )
            })?,
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .context("cannot build an HTTP client")?;
    let response = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .map_err(|_| anyhow::anyhow!("hotpapers at {addr} does not answer /healthz"))?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap_or_default();
    let body: serde_json::Value = serde_json::from_slice(&bytes[..bytes.len().min(64 * 1024)])
        .map_err(|_| {
            anyhow::anyhow!("{addr} answered /healthz with HTTP {status}, not hotpapers' JSON")
        })?;
    let reasons: Vec<String> = body["reasons"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if status == 200 {
        let age = body["last_ingest_age_seconds"].as_i64().map_or_else(
            || "no ingest yet".to_string(),
            |s| format!("last ingest {}h ago", s / 3600),
        );
        println!("healthy: {addr} ({age})");
        Ok(())
    } else {
        anyhow::bail!(
            "unhealthy: {addr} (HTTP {status}): {}",
            if reasons.is_empty() {
                "no reason given".to_string()
            } else {
                reasons.join("; ")
            }
        )
    }
}

/// Whether `e` comes from an upstream that could not be reached at all (connection or
/// timeout), so nothing was fetched and nothing stored.
fn unreachable(e: &anyhow::Error) -> bool {
    use hotpapers::http::HttpError;
    e.chain().any(|c| {
        c.downcast_ref::<HttpError>().is_some_and(|h| {
            matches!(
                h.last(),
                HttpError::Connect { .. } | HttpError::Timeout { .. }
            )
        })
    })
}

/// The error and its causes on one line. Without `-v`, the chain stops at a transport
/// error ([`hotpapers::http::HttpError`]: URLs, OS errors), with a hint that `-v` shows it:
/// the layers above already said in words what failed and what to check.
fn error_line(e: &anyhow::Error, verbose: bool) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        if !verbose
            && !line.is_empty()
            && cause.downcast_ref::<hotpapers::http::HttpError>().is_some()
        {
            line.push_str(" (-v shows the details)");
            break;
        }
        let text = cause.to_string().replace(['\n', '\r'], " ");
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "warn,hotpapers=info",
        (false, _) => "info,hotpapers=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // stderr, under the lock the console's answers take: no log line inside an answer.
        .with_writer(hotpapers::console::output::stdio().log_writer())
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    let command = match cli.command {
        Command::Config { action } => return config_command(&config, action),
        Command::Health { addr } => return health(&config, addr.as_deref()).await,
        Command::EvalSummaries { file } => return eval_summaries(&file),
        other => other,
    };
    // A first run that cannot reach arXiv must not leave an empty store behind.
    let store_path = config.store.path.clone();
    let fresh_store = !store_path.exists();
    let app = Arc::new(App::open(config, Arc::new(SystemClock)).await?);
    let progress = progress::TerminalProgress::new(!cli.quiet);
    let result: anyhow::Result<()> = async {
        let mut stdout = std::io::stdout().lock();
        match command {
            Command::Ingest { date } => {
                let report = app.ingest(date, &progress).await?;
                writeln!(stdout, "{}", output::ingest_report(&report))?;
            }
            Command::Collect { date } => {
                let report = app.collect(date, &progress).await?;
                writeln!(stdout, "{}", output::collect_report(&report))?;
            }
            Command::Listen => {
                app.listen(shutdown_signal()).await?;
                writeln!(stdout, "listener stopped")?;
            }
            Command::Import { files } => {
                let report = app.import(&files).await?;
                writeln!(stdout, "{}", output::import_report(&report))?;
            }
            Command::Paper { id, format, chart } => {
                let card = app.paper(&id).await?;
                if let Some(path) = chart {
                    let png = card.chart_png().context("rendering the attention chart")?;
                    std::fs::write(&path, png)
                        .with_context(|| format!("writing the chart to {}", path.display()))?;
                    tracing::info!(path = %path.display(), "attention chart written");
                }
                let text = match format {
                    PaperFormat::Text => hotpapers::console::paper_card(&card),
                    PaperFormat::Json => output::paper_json(&card),
                };
                write!(stdout, "{text}")?;
            }
            Command::Digest {
                date,
                top,
                category,
                format,
                view,
                days,
            } => {
                let req = DigestRequest {
                    date,
                    top,
                    categories: category,
                    trending_days: match (view, days) {
                        (args::DigestView::Mailing, None) => None,
                        (_, days) => Some(days.unwrap_or(0)),
                    },
                    llm: LlmUse::Ask,
                };
                let digest = app.digest(&req, &progress).await?;
                write!(stdout, "{}", format.render(&digest))?;
            }
            Command::Post {
                channel,
                webhook,
                date,
                top,
                category,
                force,
            } => {
                let req = DigestRequest {
                    date,
                    top,
                    categories: category,
                    trending_days: None,
                    llm: LlmUse::Ask,
                };
                let line = post(&app, channel, webhook.as_deref(), &req, force, &progress).await?;
                writeln!(stdout, "{line}")?;
            }
            Command::Run { guild, no_register } => {
                let shutdown =
                    shutdown_on_signals().context("cannot listen for Ctrl-C / SIGTERM")?;
                let options = hotpapers::discord::bot::BotOptions {
                    guild,
                    register: !no_register,
                };
                // /healthz and /metrics when `[web] listen` is set, bound before the bot
                // starts so a taken port is an error at once.
                let web = match app.config().web.listen_addr().map_err(anyhow::Error::msg)? {
                    Some(addr) => {
                        let listener = hotpapers::web::bind(addr).await?;
                        tracing::info!("serving /healthz and /metrics on http://{addr}");
                        let state = hotpapers::web::WebState {
                            app: Arc::clone(&app),
                            has_gateway: true,
                        };
                        let mut stop = shutdown.clone();
                        Some(tokio::spawn(hotpapers::web::serve(
                            listener,
                            state,
                            async move {
                                let _ = stop.wait_for(|s| *s).await;
                            },
                        )))
                    }
                    None => None,
                };
                let ran = hotpapers::discord::bot::run(Arc::clone(&app), options, shutdown).await;
                if let Some(web) = web {
                    web.abort();
                }
                ran?;
            }
            Command::Config { action } => config_command(app.config(), action)?,
            Command::Health { addr } => health(app.config(), addr.as_deref()).await?,
            Command::EvalSummaries { file } => eval_summaries(&file)?,
            Command::Console => hotpapers::console::run_stdio(&app, &mut stdout).await?,
        }
        stdout.flush().context("cannot write to stdout")?;
        Ok(())
    }
    .await;
    if let Err(e) = &result
        && fresh_store
        && unreachable(e)
    {
        drop(app);
        for suffix in ["", "-wal", "-shm"] {
            let mut p = store_path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
    result
}

/// `hotpapers eval-summaries FILE`: the extractive summarizer's ROUGE on a SciTLDR file,
/// beside lead-1 and the oracle.
fn eval_summaries(file: &std::path::Path) -> anyhow::Result<()> {
    use hotpapers::summary::{extractive, scitldr};
    let examples =
        scitldr::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let references: usize = examples.iter().map(|e| e.target.len()).sum();
    let rows = [
        (
            "extractive (hotpapers)",
            scitldr::evaluate(&examples, |e| {
                extractive::summarize(&e.title, &e.source.join(" ")).unwrap_or_default()
            }),
        ),
        (
            "lead-1 (first sentence)",
            scitldr::evaluate(&examples, scitldr::lead_1),
        ),
        (
            "oracle (best sentence)",
            scitldr::evaluate(&examples, scitldr::oracle),
        ),
    ];
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}: {} papers, {references} references; ROUGE F1 x 100 against each paper's best reference by ROUGE-1",
        file.display(),
        examples.len()
    )?;
    writeln!(
        out,
        "{:<24} {:>7} {:>7} {:>7} {:>6}",
        "summary", "ROUGE-1", "ROUGE-2", "ROUGE-L", "chars"
    )?;
    for (name, e) in rows {
        writeln!(
            out,
            "{name:<24} {:>7.1} {:>7.1} {:>7.1} {:>6.0}",
            e.rouge1, e.rouge2, e.rouge_l, e.mean_chars
        )?;
    }
    Ok(())
}

/// `hotpapers post`: renders the digest and delivers it once to a channel (bot token) or a
/// webhook (no bot); returns the line to print. The webhook URL is parsed here rather than by
/// clap so that a bad URL's error never echoes its token.
async fn post(
    app: &App,
    channel: Option<u64>,
    webhook: Option<&str>,
    req: &DigestRequest,
    force: bool,
    progress: &dyn hotpapers::progress::Progress,
) -> anyhow::Result<String> {
    use hotpapers::discord::delivery::{Deliverer, Delivery, Target};
    use hotpapers::discord::rest::Rest;
    use hotpapers::discord::{post, webhook as hook};
    let d = &app.config().discord;
    let (target, http, rest) = match (channel, webhook) {
        (_, Some(url)) => {
            let url = hook::WebhookUrl::parse(url)?;
            let http = hook::http_client(&url, d.proxy_url.as_deref());
            // The webhook's own origin when it is not Discord's (a test server), else the
            // proxy or Discord; no bot token.
            let origin = url.base().or(d.proxy_url.as_deref()).map(str::to_string);
            let rest = Rest::new(origin.as_deref(), None);
            (Target::Webhook(url), http, rest)
        }
        (Some(channel), None) => {
            let token = d.token.as_ref().map(|t| t.expose());
            let http = post::http_client(token, d.proxy_url.as_deref())?;
            let rest = Rest::new(d.proxy_url.as_deref(), token);
            (Target::Channel(channel), http, rest)
        }
        (None, None) => anyhow::bail!(
            "say where to post: --channel ID (with the bot token in DISCORD_TOKEN) or \
             --webhook URL (or HOTPAPERS_WEBHOOK_URL)"
        ),
    };
    let digest = app.digest(req, progress).await?;
    if digest.candidates == 0 {
        // A "top 0 of 0" post helps nobody; cron can simply try again later.
        anyhow::bail!(
            "arXiv has no papers for the mailing of {} (yet); nothing posted. Its API can lag \
             the announcement by a few hours: try again later",
            digest.date
        );
    }
    let deliverer = Deliverer::new(Arc::new(http), rest);
    let store = app.store().as_ref();
    let delivery = deliverer
        .deliver(store, app.clock().as_ref(), &target, &digest, force)
        .await?;
    let (date, to) = (digest.date, target.describe());
    let papers = digest.entries.len();
    Ok(match delivery {
        Delivery::InProgress { until } => format!(
            "Another hotpapers is posting the mailing of {date} to {to} right now; nothing sent. \
             If it died, its claim runs out at {} UTC and the next run completes the post.",
            until.format("%Y-%m-%d %H:%M:%S")
        ),
        Delivery::AlreadySent { .. } => format!(
            "Already posted the mailing of {date} to {to}; nothing sent (use --force to post again)."
        ),
        Delivery::Sent { message_ids } => format!(
            "Posted the mailing of {date} ({}, {}) to {to}.",
            output::plural(papers, "paper"),
            output::plural(message_ids.len(), "message")
        ),
        Delivery::Resumed {
            present,
            sent,
            message_ids,
        } => format!(
            "Completed the interrupted post of the mailing of {date} to {to}: {present} of {} \
             messages were already there, {sent} sent now.",
            message_ids.len()
        ),
    })
}

fn config_command(config: &Config, action: ConfigAction) -> anyhow::Result<()> {
    match action {
        ConfigAction::Check => {
            // Loading validated keys, types and URLs; categories are checked against the taxonomy.
            hotpapers::app::category_filters(config)?;
            println!("configuration OK");
        }
        ConfigAction::Show => {
            let text = toml::to_string_pretty(config).context("cannot print the configuration")?;
            print!("{text}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("gave up after 5 attempts; last error: {0}")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("connection refused")]
    struct Inner;

    #[test]
    fn error_line_does_not_repeat_quoted_causes() {
        let e = anyhow::Error::new(Outer(Inner)).context("cannot fetch the mailing");
        assert_eq!(
            error_line(&e, false),
            "cannot fetch the mailing: gave up after 5 attempts; last error: connection refused"
        );
    }
}

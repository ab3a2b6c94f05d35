//! Command-line interface.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use cit_api::settings::LogFormat;
use cit_api::{Application, Settings, open_store};
use cit_core::{
    Action, Actor, ApiTokenId, DisplayName, Email, Hostname, InvalidInput, Locale, Password, PlatformAccess,
    PlatformAction, Role, Scopes, TenantAccess, TenantId, authorize, authorize_platform,
};
use cit_store::{NewApiToken, NewTenant, NewUser, Store, StoreError, Tenant, TenantPatch};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cit", version, about = "Multi-tenant headless CMS for the CIT of Italian public bodies")]
pub struct Cli {
    /// Configuration file (default: ./cit.toml when present). CIT_* variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

impl Cli {
    /// The commands that keep running and serve requests (as opposed to one-off commands).
    pub fn is_server(&self) -> bool {
        matches!(self.command, Command::Serve | Command::Demo | Command::Site | Command::Desk)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server (CIT_LISTEN, default 127.0.0.1:8080).
    Serve,
    /// Run the API on the embedded SQLite default with the five CIT partners provisioned,
    /// and their sites (CIT_SITE_LISTEN, default 127.0.0.1:8081).
    Demo,
    /// Run the partner sites against an API (CIT_SITE_API_URL, CIT_THEMES_DIR, CIT_SITE_LISTEN).
    Site,
    /// Run the desk, the web app of editors, operators and administrators, against an API
    /// (CIT_DESK_API_URL, CIT_DESK_LISTEN, default 127.0.0.1:8082).
    Desk,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// Manage users.
    #[command(subcommand)]
    User(UserCmd),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Content types as code: check schema files, apply them to tenants, export a tenant's model.
    #[command(subcommand)]
    Schema(SchemaCmd),
    /// Surveys as code: check survey files, apply them to a tenant (docs/surveys.md).
    #[command(subcommand)]
    Survey(SurveyCmd),
    /// Partners: `partner new` sets one up in one command.
    #[command(subcommand)]
    Partner(crate::partner::PartnerCmd),
    /// Print the OpenAPI document (the committed openapi/openapi.json).
    Openapi,
    /// Print the GraphQL SDL of a tenant with the CIT preset (the committed schema/schema.graphql).
    GraphqlSdl,
    /// Fill the database for benchmarks (bench/run): the demo partners, then <prefix>-006… with
    /// the CIT preset, each with --entries generated entries (news items mostly, with topics,
    /// services and offices to refer to). Deterministic; a tenant that has them already is
    /// skipped. Progress on standard error, a JSON summary on standard output.
    SeedBulk(crate::bulk::BulkArgs),
    /// SQLite: one archive (tar.gz) of a consistent online copy of the database, the media and
    /// attachments folders, with a manifest of checksums. PostgreSQL: prints the pg_dump recipe.
    Backup(crate::backup::BackupArgs),
    /// Check an archive made by `cit backup` and unpack it into a new data directory.
    Restore(crate::backup::RestoreArgs),
}

#[derive(Subcommand)]
enum SurveyCmd {
    /// Check survey files (one survey each, its slug the file name) without touching any database.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Create or change the tenant's surveys from the files; a survey already answered keeps
    /// its questions.
    Apply {
        #[arg(long)]
        tenant: String,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum SchemaCmd {
    /// Check schema files without touching any database.
    Check {
        /// Files merged in order, e.g. schema/presets/cit.toml schema/tenants/lecce.toml.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Make a tenant's content types match the files. Prints the plan; idempotent; refuses a
    /// change that would lose data unless --force.
    Apply {
        #[arg(long, conflicts_with = "all_tenants")]
        tenant: Option<String>,
        /// Apply to every tenant.
        #[arg(long)]
        all_tenants: bool,
        /// Apply even when entries would lose data (removed fields are dropped from entries,
        /// removed types take their entries with them).
        #[arg(long)]
        force: bool,
        /// Also remove the tenant's types that the files do not list.
        #[arg(long)]
        prune: bool,
        /// Print the plan and change nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write a tenant's live content model (types and forms, with changes made through the API)
    /// as a schema file that `schema check` and `schema apply` read.
    Export {
        #[arg(long)]
        tenant: String,
        /// Write to this file (atomically) instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TenantCmd {
    #[command(flatten)]
    Admin(TenantAdminCmd),
    /// Write a tenant, whole, to a portable archive (see docs/portability.md).
    Export(crate::tenant_archive::ExportArgs),
    /// Load a tenant archive into this instance, on SQLite or PostgreSQL.
    Import(crate::tenant_archive::ImportArgs),
}

#[derive(Subcommand)]
enum TenantAdminCmd {
    /// Create a tenant.
    Create {
        /// Stable id: lower-case letters, digits and hyphens (e.g. `lecce`).
        id: String,
        /// Display name (e.g. "CIT Lecce").
        #[arg(long)]
        name: String,
        /// Host name the tenant's site answers on (repeatable).
        #[arg(long = "domain")]
        domains: Vec<String>,
        /// Content locale (repeatable; the first is the default). Default: it.
        #[arg(long = "locale")]
        locales: Vec<String>,
    },
    /// List tenants.
    List,
    /// Disable a tenant: it answers nobody but platform admins.
    Disable { id: String },
    /// Enable a disabled tenant again.
    Enable { id: String },
}

#[derive(Args)]
struct PasswordSource {
    /// Read the password from the first line of standard input instead of prompting.
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create a user.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Make the user a platform admin (provisions tenants).
        #[arg(long)]
        platform_admin: bool,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Set a user's password; ends all their sessions.
    Passwd {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Give a user a role in a tenant (admin, editor, author, member).
    Grant {
        #[arg(long)]
        email: String,
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        role: String,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create an API token; prints its secret once on standard output.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        /// Comma-separated: read, preview, write.
        #[arg(long, default_value = "read")]
        scopes: String,
    },
    /// Revoke an API token by id.
    Revoke {
        #[arg(long)]
        tenant: String,
        id: String,
    },
}

/// Why a command failed, and the exit code that says so.
#[derive(Debug)]
pub enum Failure {
    Usage(String),
    NotFound(String),
    Conflict(String),
    Other(anyhow::Error),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Usage(m) | Failure::NotFound(m) | Failure::Conflict(m) => f.write_str(m),
            Failure::Other(e) => write!(f, "{e:#}"),
        }
    }
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Other(_) => 1,
            Failure::Usage(_) => 2,
            Failure::NotFound(_) => 3,
            Failure::Conflict(_) => 4,
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast::<StoreError>() {
            Ok(store) => store.into(),
            Err(e) => Failure::Other(e),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Failure::NotFound(format!("{what} not found")),
            StoreError::Conflict { message, .. } | StoreError::Rule { message, .. } => Failure::Conflict(message),
            StoreError::Invalid { message, .. } => Failure::Usage(message),
            other => Failure::Other(other.into()),
        }
    }
}

fn invalid(what: &str) -> impl FnOnce(InvalidInput) -> Failure + '_ {
    move |e| Failure::Usage(format!("{what}: {e}"))
}

pub type CliResult<T = ()> = Result<T, Failure>;

/// The CLI has one actor, the operator at the console ([`Actor::Console`]): granted a platform
/// action here, or an action inside one tenant by [`console_in`].
pub fn console(action: PlatformAction) -> CliResult<PlatformAccess> {
    authorize_platform(&Actor::Console, action).map_err(|e| Failure::Other(e.into()))
}

/// The tenant `id` and the console's access to do `action` in it (not found: exit code 3).
pub async fn console_in(store: &Store, id: &TenantId, action: Action) -> CliResult<(Tenant, TenantAccess)> {
    let tenant = store.tenant(id).await?.ok_or_else(|| Failure::NotFound(format!("tenant {id} not found")))?;
    let access = authorize(&Actor::Console, tenant.facts(), action).map_err(|e| Failure::Other(e.into()))?;
    Ok((tenant, access))
}

fn load_settings(config: Option<&std::path::Path>) -> CliResult<Settings> {
    let settings = Settings::load(config).map_err(|e| Failure::Usage(format!("invalid configuration: {e}")))?;
    settings.validate().map_err(|e| Failure::Usage(format!("invalid configuration: {e}")))?;
    Ok(settings)
}

pub fn init_logging(settings: &Settings, default_level: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("CIT_LOG").unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match settings.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

async fn store(settings: &Settings) -> CliResult<Store> {
    Ok(open_store(settings).await?)
}

fn read_password(source: &PasswordSource) -> CliResult<Password> {
    let raw = if source.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| Failure::Other(e.into()))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(|e| Failure::Other(e.into()))?;
        let again = rpassword::prompt_password("Again: ").map_err(|e| Failure::Other(e.into()))?;
        if first != again {
            return Err(Failure::Usage("the two passwords differ".into()));
        }
        first
    } else {
        return Err(Failure::Usage("no terminal to ask for a password: use --password-stdin".into()));
    };
    Password::parse(&raw).map_err(invalid("password"))
}

async fn hash(settings: &Settings, password: &Password) -> CliResult<String> {
    let passwords = cit_api::security::Passwords::new(&settings.password_hashing)?;
    Ok(passwords.hash(password).await?)
}

pub async fn run(cli: Cli) -> CliResult {
    let settings = load_settings(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => {
            init_logging(&settings, "info,sqlx=warn");
            serve(settings).await
        }
        Command::Demo => {
            init_logging(&settings, "info,sqlx=warn");
            crate::demo::run(settings).await
        }
        Command::Site => {
            init_logging(&settings, "info");
            site().await
        }
        Command::Desk => {
            init_logging(&settings, "info");
            desk().await
        }
        Command::Schema(SchemaCmd::Check { files }) => {
            let types = crate::schema::load(&files)?;
            let forms = crate::schema::load_forms(&files)?;
            println!(
                "ok: {} content type(s): {}",
                types.len(),
                types.iter().map(|t| t.id.to_string()).collect::<Vec<_>>().join(", ")
            );
            if !forms.is_empty() {
                println!(
                    "ok: {} form(s): {}",
                    forms.len(),
                    forms.iter().map(|f| f.id.to_string()).collect::<Vec<_>>().join(", ")
                );
            }
            Ok(())
        }
        Command::Schema(SchemaCmd::Apply { tenant, all_tenants, force, prune, dry_run, files }) => {
            init_logging(&settings, "warn");
            let store = store(&settings).await?;
            let changed = crate::schema::apply(&store, tenant, all_tenants, &files, prune, force, dry_run).await?;
            tell_api_nodes(&settings, &store, &changed).await
        }
        Command::Schema(SchemaCmd::Export { tenant, out }) => {
            init_logging(&settings, "warn");
            let store = store(&settings).await?;
            crate::schema_export::run(&store, &tenant, out.as_deref()).await
        }
        Command::Survey(SurveyCmd::Check { files }) => crate::surveys::check(&files),
        Command::Survey(SurveyCmd::Apply { tenant, files }) => {
            init_logging(&settings, "warn");
            let surveys = files.iter().map(|f| crate::surveys::load(f)).collect::<CliResult<Vec<_>>>()?;
            let id = TenantId::parse(&tenant).map_err(|_| Failure::NotFound(format!("tenant {tenant} not found")))?;
            let store = store(&settings).await?;
            crate::surveys::apply(&store, &id, &surveys).await
        }
        Command::Partner(crate::partner::PartnerCmd::New(args)) => {
            init_logging(&settings, "warn");
            crate::partner::run(&settings, args).await
        }
        Command::Openapi => {
            print!("{}", cit_api::openapi::openapi_json());
            Ok(())
        }
        Command::GraphqlSdl => {
            print!("{}", cit_api::graphql::sdl(&crate::schema::preset()?)?);
            Ok(())
        }
        Command::Migrate => {
            init_logging(&settings, "warn");
            let store = Store::connect(&settings.database_url(), &Default::default()).await.map_err(|e| {
                Failure::Other(anyhow::anyhow!("cannot open the database at {}: {e}", settings.database_url_redacted()))
            })?;
            let applied = store.migrate().await?;
            println!(
                "applied {applied} migration(s); the database at {} is up to date",
                settings.database_url_redacted()
            );
            Ok(())
        }
        Command::SeedBulk(args) => {
            init_logging(&settings, "warn");
            crate::bulk::run(&settings, args).await
        }
        Command::Backup(args) => {
            init_logging(&settings, "warn");
            crate::backup::backup(&settings, args).await
        }
        Command::Restore(args) => {
            init_logging(&settings, "warn");
            crate::backup::restore(args)
        }
        Command::Tenant(cmd) => {
            init_logging(&settings, "warn");
            tenant(&settings, cmd).await
        }
        Command::User(cmd) => {
            init_logging(&settings, "warn");
            user(&settings, cmd).await
        }
        Command::Token(cmd) => {
            init_logging(&settings, "warn");
            token(&settings, cmd).await
        }
    }
}

/// `cit site`: the partner sites, reading the API at CIT_SITE_API_URL.
async fn site() -> CliResult {
    let settings =
        cit_site::SiteSettings::from_env().map_err(|e| Failure::Usage(format!("invalid configuration: {e}")))?;
    let listen = settings.listen.clone();
    let api = settings.api_url.clone();
    let app = cit_site::SiteApp::build(settings).map_err(|e| Failure::Other(anyhow::anyhow!(e)))?;
    let base = format!("http://{}", with_port(&listen, app.port()));
    tracing::info!(api = %api, "cit sites listening on {base}/");
    for tenant in app.tenants() {
        println!("  {tenant:<9} {base}/{tenant}/");
    }
    app.run_until_stopped().await.map_err(|e| Failure::Other(e.into()))?;
    Ok(())
}

/// `cit desk`: the desk, reading and writing through the API at CIT_DESK_API_URL.
async fn desk() -> CliResult {
    let settings =
        cit_desk::DeskSettings::from_env().map_err(|e| Failure::Usage(format!("invalid configuration: {e}")))?;
    let listen = settings.listen.clone();
    let api = settings.api_url.clone();
    let app = cit_desk::DeskApp::build(settings).map_err(|e| Failure::Other(anyhow::anyhow!(e)))?;
    let base = format!("http://{}", with_port(&listen, app.port()));
    tracing::info!(api = %api, "cit desk listening on {base}/");
    println!("  desk:     {base}/");
    app.run_until_stopped().await.map_err(|e| Failure::Other(e.into()))?;
    Ok(())
}

pub async fn serve(settings: Settings) -> CliResult {
    let listen = settings.listen.clone();
    tracing::info!(database = %settings.database_url_redacted(), mode = ?settings.mode, "starting cit");
    let app = Application::build(settings).await?;
    tracing::info!("cit API listening on http://{}", with_port(&listen, app.port()));
    app.run_until_stopped().await.map_err(|e| Failure::Other(e.into()))?;
    tracing::info!("cit stopped");
    Ok(())
}

pub fn with_port(listen: &str, port: u16) -> String {
    match listen.rsplit_once(':') {
        Some((host, _)) => format!("{host}:{port}"),
        None => format!("{listen}:{port}"),
    }
}

/// Returns when no running API node can serve what it kept of `tenants` from before this
/// command's writes (see the README's "Read cache").
pub(crate) async fn tell_api_nodes(settings: &Settings, store: &Store, tenants: &[TenantId]) -> CliResult {
    if tenants.is_empty() {
        return Ok(());
    }
    let tenants: Vec<String> = tenants.iter().map(ToString::to_string).collect();
    let lease = std::time::Duration::from_millis(settings.cache.lease_ms);
    cit_store::changes::announce_from_outside(store, &tenants, lease).await?;
    Ok(())
}

async fn tenant(settings: &Settings, cmd: TenantCmd) -> CliResult {
    let cmd = match cmd {
        TenantCmd::Export(args) => return crate::tenant_archive::export(settings, args).await,
        TenantCmd::Import(args) => return crate::tenant_archive::import(settings, args).await,
        TenantCmd::Admin(cmd) => cmd,
    };
    let store = store(settings).await?;
    let access = console(PlatformAction::ManageTenants)?;
    match cmd {
        TenantAdminCmd::Create { id, name, domains, locales } => {
            let id = TenantId::parse(&id).map_err(invalid("tenant id"))?;
            let name = DisplayName::parse(&name).map_err(invalid("name"))?;
            let domains = domains
                .iter()
                .map(|d| Hostname::parse(d).map(String::from))
                .collect::<Result<Vec<_>, _>>()
                .map_err(invalid("domain"))?;
            let mut locales = locales
                .iter()
                .map(|l| Locale::parse(l).map(String::from))
                .collect::<Result<Vec<_>, _>>()
                .map_err(invalid("locale"))?;
            if locales.is_empty() {
                locales.push("it".into());
            }
            let t = store
                .create_tenant(&access, NewTenant { id, name: name.into(), domains, locales, public_read: true })
                .await?;
            println!("created tenant {} ({})", t.id, t.name);
        }
        TenantAdminCmd::List => {
            for t in store.list_tenants(&access).await? {
                let state = if t.disabled_at.is_some() { "disabled" } else { "active" };
                println!("{}\t{}\t{}\t{}", t.id, state, t.locales.join(","), t.name);
            }
        }
        TenantAdminCmd::Disable { id } | TenantAdminCmd::Enable { id } if TenantId::parse(&id).is_err() => {
            return Err(Failure::NotFound(format!("tenant {id} not found")));
        }
        TenantAdminCmd::Disable { id } => {
            let id = TenantId::parse(&id).map_err(invalid("tenant id"))?;
            store.update_tenant(&access, &id, TenantPatch { disabled: Some(true), ..Default::default() }).await?;
            tell_api_nodes(settings, &store, std::slice::from_ref(&id)).await?;
            println!("disabled tenant {id}");
        }
        TenantAdminCmd::Enable { id } => {
            let id = TenantId::parse(&id).map_err(invalid("tenant id"))?;
            store.update_tenant(&access, &id, TenantPatch { disabled: Some(false), ..Default::default() }).await?;
            tell_api_nodes(settings, &store, std::slice::from_ref(&id)).await?;
            println!("enabled tenant {id}");
        }
    }
    Ok(())
}

async fn user(settings: &Settings, cmd: UserCmd) -> CliResult {
    let access = console(PlatformAction::ManageUsers)?;
    match cmd {
        UserCmd::Create { email, name, platform_admin, password } => {
            let email = Email::parse(&email).map_err(invalid("email"))?;
            let name = DisplayName::parse(&name).map_err(invalid("name"))?;
            let password = read_password(&password)?;
            let store = store(settings).await?;
            let password_hash = hash(settings, &password).await?;
            let u =
                store.create_user(&access, NewUser { email, name: name.into(), password_hash, platform_admin }).await?;
            println!("created user {} <{}>{}", u.id, u.email, if u.platform_admin { " (platform admin)" } else { "" });
        }
        UserCmd::Passwd { email, password } => {
            let email = Email::parse(&email).map_err(invalid("email"))?;
            let password = read_password(&password)?;
            let store = store(settings).await?;
            let password_hash = hash(settings, &password).await?;
            store.set_password(&access, &email, password_hash).await?;
            println!("password changed for {email}; their sessions are closed");
        }
        UserCmd::Grant { email, tenant, role } => {
            let email = Email::parse(&email).map_err(invalid("email"))?;
            let tenant =
                TenantId::parse(&tenant).map_err(|_| Failure::NotFound(format!("tenant {tenant} not found")))?;
            let role = Role::parse(&role).map_err(invalid("role"))?;
            let store = store(settings).await?;
            store.grant(&access, &tenant, &email, role).await?;
            tell_api_nodes(settings, &store, std::slice::from_ref(&tenant)).await?;
            println!("{email} is now {role} of {tenant}");
        }
    }
    Ok(())
}

async fn token(settings: &Settings, cmd: TokenCmd) -> CliResult {
    let store = store(settings).await?;
    let (tenant_raw, action) = match &cmd {
        TokenCmd::Create { tenant, .. } | TokenCmd::Revoke { tenant, .. } => (tenant.clone(), Action::ManageTokens),
    };
    let tenant_id =
        TenantId::parse(&tenant_raw).map_err(|_| Failure::NotFound(format!("tenant {tenant_raw} not found")))?;
    let (_, access) = console_in(&store, &tenant_id, action).await?;
    match cmd {
        TokenCmd::Create { name, scopes, .. } => {
            let name = DisplayName::parse(&name).map_err(invalid("name"))?;
            let scopes = Scopes::parse_list(&scopes).map_err(invalid("scopes"))?;
            let (secret, prefix, token_hash) = cit_api::security::new_api_token();
            let t = store
                .scoped(&access)
                .create_api_token(NewApiToken { name: name.into(), prefix, token_hash, scopes, expires_at: None })
                .await?;
            eprintln!(
                "created token {} ({}) for {} with scopes {}; the secret below is shown only now:",
                t.id, t.name, t.tenant, t.scopes
            );
            println!("{secret}");
        }
        TokenCmd::Revoke { id, .. } => {
            let id = id
                .parse::<uuid::Uuid>()
                .map(ApiTokenId)
                .map_err(|_| Failure::NotFound(format!("token {id} not found")))?;
            store.scoped(&access).revoke_api_token(id).await?;
            // Running API nodes keep the tokens they looked up: they forget this one first.
            tell_api_nodes(settings, &store, std::slice::from_ref(access.tenant())).await?;
            println!("revoked token {id}");
        }
    }
    Ok(())
}

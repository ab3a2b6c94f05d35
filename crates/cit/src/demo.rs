//! `cit demo`: the API on the embedded default with the five CIT partners of the seed report
//! provisioned, their sites (cit-site, on CIT_SITE_LISTEN), the desk (cit-desk, on
//! CIT_DESK_LISTEN), and a platform admin whose
//! credentials are printed. Running it again keeps the
//! data and adds nothing twice.

use cit_api::Settings;
use cit_api::settings::Secret;
use cit_core::{PlatformAction, TenantId};
use cit_store::NewTenant;

use crate::cli::{CliResult, Failure};

pub const DEMO_ADMIN_EMAIL: &str = "admin@cit.example";
pub const DEMO_ADMIN_PASSWORD: &str = "demo-cit-2026";

/// The partners of Progetto CIT: id, display name, the body that runs the CIT.
pub const PARTNERS: [(&str, &str, &str); 5] = [
    ("lecce", "CIT Lecce", "Comune di Lecce"),
    ("genova", "CST Genova", "Città Metropolitana di Genova"),
    ("avellino", "CIT Avellino", "Comune di Avellino"),
    ("potenza", "CIT Potenza", "Comune di Potenza"),
    ("brescia", "CIT Brescia", "Provincia di Brescia"),
];

pub async fn run(mut settings: Settings) -> CliResult {
    if settings.admin_email.is_none() {
        settings.admin_email = Some(DEMO_ADMIN_EMAIL.into());
    }
    if settings.admin_password.is_none() {
        settings.admin_password = Some(Secret::new(DEMO_ADMIN_PASSWORD));
    }
    let store = cit_api::open_store(&settings).await?;
    provision(&store).await?;
    load_content(&store).await?;
    let admin_note = ensure_admin(&store, &settings).await?;
    let email = settings.admin_email.clone().unwrap_or_default();
    let password = settings.admin_password.as_ref().map(|s| s.expose().to_owned()).unwrap_or_default();
    let listen = settings.listen.clone();
    let mut site_settings =
        cit_site::SiteSettings::from_env().map_err(|e| Failure::Usage(format!("invalid configuration: {e}")))?;
    // The links in e-mails (ticket follow-up) point to the demo's own sites, wherever they listen,
    // unless the operator named the sites' address.
    if std::env::var_os("CIT_REQUESTS__SITE_URL").is_none() {
        settings.requests.site_url = format!("http://{}/{{tenant}}", site_settings.listen);
    }
    let app = cit_api::Application::build_with_store(settings, store).await?;
    let base = format!("http://{}", crate::cli::with_port(&listen, app.port()));
    // The partner sites, reading this API over HTTP like any other frontend.
    site_settings.api_url = base.clone();
    let site_listen = site_settings.listen.clone();
    // A busy site port leaves the API running alone rather than failing the demo.
    let site = match cit_site::SiteApp::build(site_settings) {
        Ok(site) => Some(site),
        Err(e) => {
            eprintln!("warning: the partner sites are not running: {e} (set CIT_SITE_LISTEN to another address)");
            None
        }
    };
    // The desk, a client of this API too; its preview links point to the demo's sites.
    let mut desk_settings =
        cit_desk::DeskSettings::from_env().map_err(|e| Failure::Usage(format!("invalid configuration: {e}")))?;
    desk_settings.api_url = base.clone();
    if std::env::var_os("CIT_DESK_SITE_URL").is_none()
        && let Some(site) = &site
    {
        desk_settings.site_url = format!("http://{}/{{tenant}}", crate::cli::with_port(&site_listen, site.port()));
    }
    let desk_listen = desk_settings.listen.clone();
    let desk = match cit_desk::DeskApp::build(desk_settings) {
        Ok(desk) => Some(desk),
        Err(e) => {
            eprintln!("warning: the desk is not running: {e} (set CIT_DESK_LISTEN to another address)");
            None
        }
    };
    let desk_base = desk.as_ref().map(|d| format!("http://{}", crate::cli::with_port(&desk_listen, d.port())));
    let site_base = site.as_ref().map(|s| format!("http://{}", crate::cli::with_port(&site_listen, s.port())));
    let site_tenants = site.as_ref().map(cit_site::SiteApp::tenants).unwrap_or_default();
    println!();
    println!("cit demo is running");
    println!("  API:      {base}/api/v1/");
    println!("  OpenAPI:  {base}/api/v1/openapi.json");
    println!("  tenants:  {}", PARTNERS.map(|p| p.0).join(", "));
    println!("  admin:    {email} / {password}");
    println!("            ({admin_note})");
    println!("  try:      curl -s {base}/api/v1/t/lecce");
    if let Some(site_base) = &site_base {
        println!("  sites:    {site_base}/");
        for tenant in &site_tenants {
            println!("            {site_base}/{tenant}/");
        }
    }
    if let Some(desk_base) = &desk_base {
        println!("  desk:     {desk_base}/   (sign in as the admin above)");
    }
    println!("Press Ctrl-C to stop.");
    println!();
    let sites = async {
        match site {
            Some(site) => site.run_until_stopped().await,
            None => Ok(()),
        }
    };
    let desk = async {
        match desk {
            Some(desk) => desk.run_until_stopped().await,
            None => Ok(()),
        }
    };
    let (api, sites, desk) = tokio::join!(app.run_until_stopped(), sites, desk);
    api.map_err(|e| Failure::Other(e.into()))?;
    sites.map_err(|e| Failure::Other(e.into()))?;
    desk.map_err(|e| Failure::Other(e.into()))?;
    Ok(())
}

/// Makes sure the printed admin exists; says whether it was created now or found.
async fn ensure_admin(store: &cit_store::Store, settings: &Settings) -> CliResult<&'static str> {
    let email = settings.admin_email.as_deref().unwrap_or(DEMO_ADMIN_EMAIL);
    let email = cit_core::Email::parse(email).map_err(|e| Failure::Usage(format!("CIT_ADMIN_EMAIL: {e}")))?;
    if store.user_by_email(&email).await?.is_some() {
        return Ok("platform admin from an earlier run: the password is the one it was created with");
    }
    let raw = settings.admin_password.as_ref().map(|s| s.expose().to_owned()).unwrap_or_default();
    let password = cit_core::Password::parse(&raw).map_err(|e| Failure::Usage(format!("CIT_ADMIN_PASSWORD: {e}")))?;
    let passwords = cit_api::security::Passwords::new(&settings.password_hashing)?;
    let access = crate::cli::console(PlatformAction::ManageUsers)?;
    store
        .create_user(
            &access,
            cit_store::NewUser {
                email,
                name: "Platform admin".into(),
                password_hash: passwords.hash(&password).await?,
                platform_admin: true,
            },
        )
        .await?;
    Ok("platform admin, created now; set CIT_ADMIN_EMAIL / CIT_ADMIN_PASSWORD to choose")
}

/// The CIT preset and the demo content in every partner; what is there already stays.
pub async fn load_content(store: &cit_store::Store) -> CliResult {
    let types = crate::schema::preset()?;
    let forms = crate::schema::preset_forms()?;
    for (id, name, _) in PARTNERS {
        let tenant = TenantId::parse(id).map_err(|e| Failure::Other(anyhow::anyhow!("{e}")))?;
        let report = crate::schema::apply_to(store, &tenant, &types, false, false, false).await?;
        crate::schema::apply_forms_to(store, &tenant, &forms, false, false).await?;
        demo_newsletter(store, &tenant, name).await?;
        crate::surveys::demo(store, &tenant).await?;
        let mut created =
            crate::seed::seed(store, &tenant, &types, "demo/content/common.toml", crate::seed::COMMON).await?;
        if let Some(text) = crate::seed::partner_content(id) {
            created += crate::seed::seed(store, &tenant, &types, &format!("demo/content/{id}.toml"), text).await?;
        }
        let schema = if report.applied {
            format!("content model updated ({} changes)", report.changes.len())
        } else {
            "content model up to date".into()
        };
        println!("{id:<9} {schema}, {created} new entries");
    }
    Ok(())
}

/// The partner's newsletter `notizie`, unless it has one already.
async fn demo_newsletter(store: &cit_store::Store, tenant: &TenantId, name: &str) -> CliResult {
    let (_, access) = crate::cli::console_in(store, tenant, cit_core::Action::PublishContent).await?;
    let scoped = store.scoped(&access);
    if scoped.lists().await?.is_empty() {
        let title = format!("Newsletter del {name}");
        let about = "Le notizie, i nuovi servizi e i prossimi eventi, una volta al mese.";
        scoped.put_list("notizie", &title, about, chrono::Utc::now()).await?;
    }
    Ok(())
}

/// Creates each partner that does not exist yet.
pub async fn provision(store: &cit_store::Store) -> CliResult {
    let access = crate::cli::console(PlatformAction::ManageTenants)?;
    for (id, name, _body) in PARTNERS {
        let id = TenantId::parse(id).map_err(|e| Failure::Other(anyhow::anyhow!("{e}")))?;
        if store.tenant(&id).await?.is_some() {
            continue;
        }
        store
            .create_tenant(
                &access,
                NewTenant {
                    domains: vec![format!("{id}.cit.localhost")],
                    id,
                    name: name.into(),
                    locales: vec!["it".into()],
                    public_read: true,
                },
            )
            .await?;
    }
    Ok(())
}

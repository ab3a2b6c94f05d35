//! `cit partner new`: a new partner in one command. It writes the theme folder
//! (`<themes>/<id>/theme.toml` and a logo), creates the tenant, applies the CIT preset, creates
//! the partner's first admin and prints the site's address.
//!
//! Everything that can be checked is checked before anything is written: a bad id, name, colour
//! or host, a missing logo, an existing tenant or theme folder are refused with nothing changed.
//! The folder is written under a temporary name and renamed into place, and removed again when
//! the tenant cannot be created, so a second run after a refusal starts from scratch.

use std::path::{Path, PathBuf};

use cit_api::Settings;
use cit_core::{DisplayName, Email, Hostname, Password, PlatformAction, Role, TenantId};
use cit_site::colour::{Rgb, WHITE};
use cit_store::{NewTenant, NewUser, Store};
use clap::{Args, Subcommand};

use crate::cli::{CliResult, Failure};

/// The variable a first admin's password is taken from, instead of a generated one.
pub const PASSWORD_VAR: &str = "CIT_PARTNER_ADMIN_PASSWORD";

/// Logo files a site can serve.
const LOGO_EXTENSIONS: &[&str] = &["svg", "png", "jpg", "jpeg", "webp"];

#[derive(Subcommand)]
pub enum PartnerCmd {
    /// A new partner in one command: theme folder, tenant, CIT preset, first admin; prints the
    /// site's address. Refuses, changing nothing, when the tenant or the folder exists.
    New(NewPartner),
}

#[derive(Args)]
pub struct NewPartner {
    /// Tenant id and theme folder: 2 to 40 lower-case letters, digits and single hyphens,
    /// starting with a letter (e.g. `bari`).
    id: String,
    /// The site's name (e.g. "CIT Bari").
    #[arg(long)]
    name: String,
    /// Primary colour, #RRGGBB (darkened on the site when too light for white text).
    #[arg(long, value_name = "#RRGGBB")]
    primary: String,
    /// Secondary colour for rules and accents, #RRGGBB (default: a lighter primary).
    #[arg(long, value_name = "#RRGGBB")]
    secondary: Option<String>,
    /// The body the CIT belongs to (e.g. "Comune di Bari"; default: the name).
    #[arg(long)]
    body: Option<String>,
    /// Logo file (svg, png, jpg, webp), copied into the theme folder. Default: a generated mark.
    #[arg(long, value_name = "FILE")]
    logo: Option<PathBuf>,
    /// Host name of the site and of the tenant (default: ID.cit.localhost).
    #[arg(long)]
    host: Option<String>,
    /// E-mail of the partner's first admin (default: admin@HOST). Its password is taken from
    /// CIT_PARTNER_ADMIN_PASSWORD, or generated and printed once.
    #[arg(long, value_name = "E")]
    admin_email: Option<String>,
}

/// The checked request: nothing here has touched the disk or the database yet.
struct Plan {
    id: TenantId,
    name: String,
    body: String,
    primary: Rgb,
    secondary: Rgb,
    logo: Option<(PathBuf, String)>,
    host: String,
    admin_email: Email,
    password: Option<Password>,
    themes_dir: PathBuf,
    site_listen: String,
}

fn usage(what: &str) -> impl FnOnce(cit_core::InvalidInput) -> Failure + '_ {
    move |e| Failure::Usage(format!("{what}: {e}"))
}

/// `#RRGGBB`, exactly.
fn colour(flag: &str, raw: &str) -> CliResult<Rgb> {
    let hex = raw.strip_prefix('#').filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    hex.and_then(|_| Rgb::parse(raw))
        .ok_or_else(|| Failure::Usage(format!("--{flag} {raw:?}: a colour is #RRGGBB, e.g. #0066cc")))
}

fn check(args: NewPartner) -> CliResult<Plan> {
    let id = TenantId::parse(&args.id).map_err(usage("tenant id"))?;
    let name = DisplayName::parse(&args.name).map_err(usage("--name"))?;
    let body: String = match &args.body {
        Some(b) => DisplayName::parse(b).map_err(usage("--body"))?.into(),
        None => String::from(name.clone()),
    };
    let primary = colour("primary", &args.primary)?;
    let secondary = match &args.secondary {
        Some(raw) => colour("secondary", raw)?,
        None => primary.lighten(0.45),
    };
    let logo = match args.logo {
        None => None,
        Some(path) => {
            if !path.is_file() {
                return Err(Failure::Usage(format!("--logo {}: no such file", path.display())));
            }
            let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
            if !LOGO_EXTENSIONS.contains(&ext.as_str()) {
                return Err(Failure::Usage(format!(
                    "--logo {}: the site serves {} logos",
                    path.display(),
                    LOGO_EXTENSIONS.join(", ")
                )));
            }
            Some((path, format!("logo.{ext}")))
        }
    };
    let host = Hostname::parse(args.host.as_deref().unwrap_or(&format!("{id}.cit.localhost")))
        .map_err(usage("--host"))?
        .as_str()
        .to_owned();
    let admin_email = Email::parse(args.admin_email.as_deref().unwrap_or(&format!("admin@{host}")))
        .map_err(usage("--admin-email"))?;
    let password = match std::env::var(PASSWORD_VAR) {
        Ok(raw) if !raw.is_empty() => Some(Password::parse(&raw).map_err(usage(PASSWORD_VAR))?),
        _ => None,
    };
    // Where `cit site` finds the themes (CIT_THEMES_DIR) and listens (CIT_SITE_LISTEN).
    let site = cit_site::SiteSettings::from_env().map_err(|e| Failure::Usage(format!("invalid configuration: {e}")))?;
    Ok(Plan {
        id,
        name: name.into(),
        body,
        primary,
        secondary,
        logo,
        host,
        admin_email,
        password,
        themes_dir: site.themes_dir,
        site_listen: site.listen,
    })
}

/// A TOML basic string (JSON's escapes are valid TOML).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn theme_toml(plan: &Plan, logo: &str) -> String {
    format!(
        "# Theme of the {name} site, served by cit-site (see themes/README.md and the README's\n\
         # \"Partner sites\"). Written by `cit partner new`: fill in the contacts and the footer with\n\
         # the body's public details before going live.\n\
         \n\
         name = {q_name}\n\
         body = {q_body}\n\
         tagline = \"Centro Innovazione e Tecnologie\"\n\
         description = {q_description}\n\
         hosts = [{q_host}]\n\
         logo = {q_logo}\n\
         \n\
         [colors]\n\
         primary = \"{primary}\"\n\
         secondary = \"{secondary}\"\n\
         \n\
         [contacts]\n\
         # email = \"cit@…\"\n\
         # phone = \"…\"\n\
         # hours = \"Lunedì–venerdì 9:00–13:00\"\n\
         \n\
         [footer]\n\
         # address = \"…\"\n\
         # tax_code = \"…\"\n\
         # pec = \"…\"\n",
        name = plan.name.replace(['\n', '\r'], " "),
        q_name = quoted(&plan.name),
        q_body = quoted(&plan.body),
        q_description = quoted(&format!(
            "{}: servizi digitali condivisi, formazione e assistenza tecnica per gli enti del territorio.",
            plan.name
        )),
        q_host = quoted(&plan.host),
        q_logo = quoted(logo),
        primary = plan.primary.hex(),
        secondary = plan.secondary.hex(),
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A simple mark: the id's initial, white on the primary colour (made accessible), in a circle.
fn generated_logo(plan: &Plan) -> String {
    let initial = plan.id.as_str().chars().next().unwrap_or('c').to_ascii_uppercase();
    let fill = plan.primary.with_contrast(WHITE, 4.5).hex();
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 100 100\" role=\"img\" aria-label=\"{label}\">\n\
         \x20 <!-- A simple mark generated by `cit partner new`: replace it with the partner's logo. -->\n\
         \x20 <circle cx=\"50\" cy=\"50\" r=\"48\" fill=\"#fff\"/>\n\
         \x20 <circle cx=\"50\" cy=\"50\" r=\"42\" fill=\"{fill}\"/>\n\
         \x20 <text x=\"50\" y=\"50\" dy=\"0.35em\" text-anchor=\"middle\" font-family=\"'Titillium Web', Arial, sans-serif\" font-size=\"48\" font-weight=\"700\" fill=\"#fff\">{initial}</text>\n\
         </svg>\n",
        label = xml_escape(&plan.name),
    )
}

/// Writes the theme folder under a temporary name, checks that the site reads it, then moves it
/// into place. Returns the folder.
fn write_theme(plan: &Plan) -> CliResult<PathBuf> {
    let target = plan.themes_dir.join(plan.id.as_str());
    let staged = plan.themes_dir.join(format!(".{}.new-{}", plan.id, std::process::id()));
    let logo = plan.logo.as_ref().map_or("logo.svg", |(_, name)| name.as_str());
    let text = theme_toml(plan, logo);
    // The same parser as the site's: what is written is what it will read.
    toml::from_str::<cit_site::theme::ThemeFile>(&text)
        .map_err(|e| Failure::Other(anyhow::anyhow!("the generated theme.toml does not read back: {e}")))?;
    let written = stage_and_move(plan, &staged, &target, &text);
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(Failure::Other(anyhow::anyhow!("cannot write the theme folder {}: {e}", target.display())));
    }
    Ok(target)
}

fn stage_and_move(plan: &Plan, staged: &Path, target: &Path, theme_toml: &str) -> std::io::Result<()> {
    std::fs::create_dir(staged)?;
    std::fs::write(staged.join("theme.toml"), theme_toml)?;
    match &plan.logo {
        Some((from, name)) => {
            std::fs::copy(from, staged.join(name))?;
        }
        None => std::fs::write(staged.join("logo.svg"), generated_logo(plan))?,
    }
    if target.exists() {
        return Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "the folder appeared meanwhile"));
    }
    std::fs::rename(staged, target)
}

/// Where the site answers: on the partner's host (the sites' port), and below `/{id}/`.
fn site_addresses(plan: &Plan) -> (String, String) {
    let (host, port) = plan.site_listen.rsplit_once(':').unwrap_or((plan.site_listen.as_str(), "8081"));
    let host = if matches!(host, "0.0.0.0" | "[::]" | "") { "127.0.0.1" } else { host };
    let by_host = if port == "80" { format!("http://{}/", plan.host) } else { format!("http://{}:{port}/", plan.host) };
    (by_host, format!("http://{host}:{port}/{}/", plan.id))
}

pub async fn run(settings: &Settings, args: NewPartner) -> CliResult {
    let plan = check(args)?;
    if !plan.themes_dir.is_dir() {
        return Err(Failure::Usage(format!(
            "the themes folder {} does not exist (set CIT_THEMES_DIR, or run from the repository root)",
            plan.themes_dir.display()
        )));
    }
    let store = cit_api::open_store(settings).await?;
    let id = plan.id.clone();
    if store.tenant(&id).await?.is_some() {
        return Err(Failure::Conflict(format!("tenant {id} already exists: nothing was changed")));
    }
    let folder = plan.themes_dir.join(id.as_str());
    if folder.exists() {
        return Err(Failure::Conflict(format!(
            "the theme folder {} already exists: nothing was changed",
            folder.display()
        )));
    }
    if let Some(other) = taken_host(&plan.themes_dir, &plan.host) {
        return Err(Failure::Conflict(format!(
            "the theme of {other} already answers on {}: choose another --host; nothing was changed",
            plan.host
        )));
    }
    let existing_admin = store.user_by_email(&plan.admin_email).await?;
    // Hash before writing anything, so a bad hashing setting changes nothing either.
    let new_password = match (&existing_admin, &plan.password) {
        (Some(_), _) => None,
        (None, Some(p)) => Some((p.clone(), false)),
        (None, None) => {
            let raw = cit_api::security::random_token(15);
            Some((Password::parse(&raw).map_err(|e| Failure::Other(anyhow::anyhow!("{e}")))?, true))
        }
    };
    let password_hash = match &new_password {
        Some((p, _)) => Some(cit_api::security::Passwords::new(&settings.password_hashing)?.hash(p).await?),
        None => None,
    };

    println!("new partner {id} ({})", plan.name);
    let folder = write_theme(&plan)?;
    println!("  theme:    {}{}", folder.display(), if plan.logo.is_some() { "" } else { " (with a generated logo)" });

    let tenants = crate::cli::console(PlatformAction::ManageTenants)?;
    let created = store
        .create_tenant(
            &tenants,
            NewTenant {
                id: id.clone(),
                name: plan.name.clone(),
                domains: vec![plan.host.clone()],
                locales: vec!["it".into()],
                public_read: true,
            },
        )
        .await;
    if let Err(e) = created {
        let _ = std::fs::remove_dir_all(&folder);
        let failure: Failure = e.into();
        return Err(match failure {
            Failure::Conflict(m) => Failure::Conflict(format!("{m}: nothing was changed")),
            other => other,
        });
    }
    println!("  tenant:   {id}, on {}", plan.host);

    let finish = |what: &str, e: Failure| {
        Failure::Other(anyhow::anyhow!(
            "{e}\nthe tenant {id} and its theme folder exist, but {what} failed; finish by hand:\n  \
             cit schema apply --tenant {id} schema/presets/cit.toml\n  \
             cit user create --email {email} --name \"Amministrazione {id}\"\n  \
             cit user grant --email {email} --tenant {id} --role admin",
            email = plan.admin_email,
        ))
    };
    let (types, forms) = apply_preset(&store, &id).await.map_err(|e| finish("applying the CIT preset", e))?;
    println!("  content:  the CIT preset, {types} content types and {forms} forms");

    create_admin(&store, &plan, existing_admin.is_some(), password_hash)
        .await
        .map_err(|e| finish("creating the admin", e))?;
    match (&existing_admin, &new_password) {
        (Some(_), _) => println!("  admin:    {} (an existing user, now admin of {id})", plan.admin_email),
        (None, Some((p, true))) => {
            println!("  admin:    {} / {}", plan.admin_email, p.expose());
            println!("            (shown only now: change it with `cit user passwd --email {}`)", plan.admin_email);
        }
        (None, _) => println!("  admin:    {} (password from {PASSWORD_VAR})", plan.admin_email),
    }
    let (by_host, by_path) = site_addresses(&plan);
    println!("  site:     {by_host}");
    println!("            {by_path}");
    println!("A running `cit site` serves it from the next request; else start `cit site` (and `cit serve`).");
    Ok(())
}

/// The tenant whose theme already answers on `host`, if any.
fn taken_host(themes_dir: &Path, host: &str) -> Option<String> {
    cit_site::theme::Themes::scan(themes_dir).host(host).map(|t| t.tenant.clone())
}

async fn apply_preset(store: &Store, id: &TenantId) -> CliResult<(usize, usize)> {
    let types = crate::schema::preset()?;
    let forms = crate::schema::preset_forms()?;
    let (_, access) = crate::cli::console_in(store, id, cit_core::Action::ManageSchema).await?;
    store.scoped(&access).apply_types(&types, false, false, false).await?;
    store.scoped(&access).apply_forms(&forms, false, false).await?;
    Ok((types.len(), forms.len()))
}

async fn create_admin(store: &Store, plan: &Plan, exists: bool, password_hash: Option<String>) -> CliResult {
    let users = crate::cli::console(PlatformAction::ManageUsers)?;
    if !exists {
        let password_hash =
            password_hash.ok_or_else(|| Failure::Other(anyhow::anyhow!("no password for the new admin")))?;
        store
            .create_user(
                &users,
                NewUser {
                    email: plan.admin_email.clone(),
                    name: format!("Amministrazione {}", plan.name),
                    password_hash,
                    platform_admin: false,
                },
            )
            .await?;
    }
    store.grant(&users, &plan.id, &plan.admin_email, Role::Admin).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn colours_are_exactly_hash_and_six_hex_digits() {
        assert_eq!(colour("primary", "#0066cc").unwrap(), Rgb(0, 102, 204));
        assert_eq!(colour("primary", "#0066CC").unwrap(), Rgb(0, 102, 204));
        for bad in ["0066cc", "#06c", "#0066cg", "#0066cc00", "blue", " #0066cc", ""] {
            assert!(colour("primary", bad).is_err(), "{bad}");
        }
    }
}

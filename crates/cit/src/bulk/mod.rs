//! `cit seed-bulk`: a database full of plausible content, for the benchmarks in `bench/`.
//!
//! The five demo partners are provisioned exactly as `cit demo` does (the CIT preset and the
//! demo content), then `<prefix>-006`, `<prefix>-007`, … with the CIT preset when more tenants
//! are asked for. Each of the first N tenants then gets M entries whose slugs start with
//! `<prefix>-`: 12 topics (`argomento`), 4 offices (`luogo`), 40 services (`servizio`, each with
//! its office and topics), then news items (`notizia`, with topics and related services, about
//! 3% of them drafts) and one event (`evento`) in 25.
//!
//! Every entry goes through the API's write path ([`crate::seed::create_entry`]: validation,
//! reference checks, first revision, search index, audit line), from several concurrent tasks.
//! The content is a pure function of the tenant, the prefix and the entry's index, so two runs
//! write the same data; a tenant that already has M such entries is skipped, and a run that was
//! interrupted continues where it stopped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use cit_core::content::ContentType;
use cit_core::{Action, Locale, PlatformAction, TenantAccess, TenantId};
use cit_store::{
    EntryKey, EntryStatus, Filter, FilterValue, ListQuery, NewTenant, Op, Store, StoreError, SysField, Target,
};
use clap::Args;
use serde_json::json;

use crate::cli::{CliResult, Failure};
use crate::seed::{CreateError, create_entry};

mod text;
use text::Text;

#[derive(Args)]
pub struct BulkArgs {
    /// How many tenants get entries: the demo partners first (lecce, genova, avellino, potenza,
    /// brescia), then <prefix>-006, <prefix>-007, … created with the CIT preset.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    tenants: u32,
    /// Entries per tenant, drafts included (the demo content is not counted).
    #[arg(long, default_value_t = 1_000)]
    entries: usize,
    /// Start of the generated slugs and of the extra tenants' ids: lower-case letters and digits.
    #[arg(long, default_value = "bench")]
    prefix: String,
    /// Concurrent writers. SQLite has one writer connection whatever this says; PostgreSQL
    /// uses up to CIT_DB_MAX_CONNECTIONS.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=256))]
    jobs: u32,
}

/// The generated types, in the order a tenant's entries are created.
const GENERATED: [&str; 5] = ["argomento", "luogo", "servizio", "notizia", "evento"];
const TOPICS: usize = 12;
const OFFICES: usize = 4;
const SERVICES: usize = 40;
/// Entries below this index are the ones others refer to; they are written one at a time first.
const BASE: usize = TOPICS + OFFICES + SERVICES;
/// Entries created between two refreshes of PostgreSQL's planner statistics, at least.
const ANALYZE_EVERY: usize = 1_000;

pub async fn run(settings: &cit_api::Settings, args: BulkArgs) -> CliResult {
    let prefix = args.prefix.as_str();
    if prefix.is_empty()
        || prefix.len() > 20
        || !prefix.starts_with(|c: char| c.is_ascii_lowercase())
        || !prefix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Err(Failure::Usage("--prefix: 1 to 20 lower-case letters and digits, starting with a letter".into()));
    }
    let started = Instant::now();
    let store = cit_api::open_store(settings).await?;
    let types = crate::schema::preset()?;
    crate::demo::provision(&store).await?;
    crate::demo::load_content(&store).await?;
    let mut tenants: Vec<TenantId> = Vec::new();
    for n in 1..=args.tenants as usize {
        let id = match crate::demo::PARTNERS.get(n - 1) {
            Some((id, _, _)) => id.to_string(),
            None => format!("{prefix}-{n:03}"),
        };
        let id = TenantId::parse(&id).map_err(|e| Failure::Usage(format!("tenant id {id}: {e}")))?;
        if n > crate::demo::PARTNERS.len() {
            extra_tenant(&store, &id, &types).await?;
        }
        tenants.push(id);
    }
    let provisioned = started.elapsed();
    eprintln!("seed-bulk: {} tenant(s) ready in {:.1} s", tenants.len(), provisioned.as_secs_f64());

    let seeding = Instant::now();
    let (mut created, mut skipped) = (0, 0);
    for tenant in &tenants {
        let (c, s) = seed_tenant(&store, tenant, &types, &args).await?;
        created += c;
        skipped += s;
    }
    let secs = seeding.elapsed().as_secs_f64();
    let rate = if secs > 0.0 { created as f64 / secs } else { 0.0 };
    if created > 0 {
        let analyzing = Instant::now();
        store.analyze().await?;
        eprintln!("seed-bulk: planner statistics refreshed in {:.1} s", analyzing.elapsed().as_secs_f64());
    }
    eprintln!(
        "seed-bulk: {created} new entries in {secs:.1} s ({rate:.0} entries/s), {skipped} already there; \
         {} tenant(s) × {} entries",
        tenants.len(),
        args.entries
    );
    println!(
        "{}",
        json!({
            "tenants": tenants.len(),
            "entries_per_tenant": args.entries,
            "created": created,
            "already_there": skipped,
            "provision_secs": round(provisioned.as_secs_f64()),
            "seed_secs": round(secs),
            "entries_per_sec": round(rate),
            "jobs": args.jobs,
        })
    );
    Ok(())
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// A tenant beyond the demo partners: created when missing, with the CIT preset.
async fn extra_tenant(store: &Store, id: &TenantId, types: &[ContentType]) -> CliResult {
    if store.tenant(id).await?.is_none() {
        let access = crate::cli::console(PlatformAction::ManageTenants)?;
        let name = format!("CIT {}", id.as_str().replace('-', " "));
        let new =
            NewTenant { id: id.clone(), name, domains: Vec::new(), locales: vec!["it".into()], public_read: true };
        store.create_tenant(&access, new).await?;
    }
    crate::schema::apply_to(store, id, types, false, false, false).await?;
    Ok(())
}

/// What the workers of one tenant share.
struct Shared {
    store: Store,
    access: TenantAccess,
    /// The tenant's locales: entries are written in its first.
    locales: Vec<String>,
    types: Vec<ContentType>,
    text: Text,
    refs: Refs,
    next: AtomicUsize,
    end: usize,
    created: AtomicUsize,
    skipped: AtomicUsize,
    stop: AtomicBool,
}

/// Fills one tenant up to `args.entries` generated entries; returns (created, already there).
async fn seed_tenant(
    store: &Store,
    tenant: &TenantId,
    types: &[ContentType],
    args: &BulkArgs,
) -> CliResult<(usize, usize)> {
    let started = Instant::now();
    let (t, access) = crate::cli::console_in(store, tenant, Action::PublishContent).await?;
    let scoped = store.scoped(&access);
    let locale = Locale::of_tenant(&t.locales, None).map_err(|e| Failure::Other(anyhow::anyhow!(e.message)))?;
    let prefix = args.prefix.as_str();
    let mut there = 0;
    for ct in types.iter().filter(|ct| GENERATED.contains(&ct.id.as_str())) {
        let q = ListQuery {
            type_id: ct.id.clone(),
            locale: None,
            statuses: EntryStatus::ALL.to_vec(),
            filters: vec![Filter {
                target: Target::Sys(SysField::Slug),
                op: Op::StartsWith,
                value: FilterValue::Text(format!("{prefix}-")),
            }],
            sort: Vec::new(),
            limit: 1,
            after: None,
        };
        there += scoped.count_list_entries(&q).await?;
    }
    if there >= args.entries as u64 {
        eprintln!("  {:<10} has {there} generated entries already: skipped", tenant.as_str());
        return Ok((0, 0));
    }
    let text = Text::new(tenant.as_str(), prefix);
    let find = |id: &str| types.iter().find(|ct| ct.id.as_str() == id).cloned();
    let types: Vec<ContentType> = GENERATED.iter().filter_map(|id| find(id)).collect();
    if types.len() != GENERATED.len() {
        return Err(Failure::Other(anyhow::anyhow!("the CIT preset lacks one of {}", GENERATED.join(", "))));
    }

    // The entries others refer to, one at a time, found again when a run is resumed.
    let mut refs = Refs::default();
    let (mut created, mut skipped) = (0, 0);
    for i in 0..BASE.min(args.entries) {
        let item = text.item(i, &refs)?;
        let ct = type_of(&types, item.type_id)?;
        let existing =
            scoped.entry(item.type_id, EntryKey::Slug(item.slug.as_str(), &locale), &EntryStatus::ALL).await?;
        let type_id = item.type_id;
        let id = match existing {
            Some(e) => {
                skipped += 1;
                e.id.0
            }
            None => {
                created += 1;
                create_entry(&scoped, ct, &t.locales, item.input())
                    .await
                    .map_err(|e| entry_failure(tenant, i, type_id, e))?
                    .id
                    .0
            }
        };
        refs.push(type_id, id);
    }

    // The rest from `jobs` concurrent tasks, each taking the next index.
    let shared = Arc::new(Shared {
        store: store.clone(),
        access: access.clone(),
        locales: t.locales.clone(),
        types,
        text,
        refs,
        next: AtomicUsize::new(BASE.min(args.entries)),
        end: args.entries,
        created: AtomicUsize::new(created),
        skipped: AtomicUsize::new(skipped),
        stop: AtomicBool::new(false),
    });
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.jobs {
        workers.spawn(worker(shared.clone()));
    }
    let progress = {
        let shared = shared.clone();
        let tenant = tenant.clone();
        tokio::spawn(async move {
            let mut analyzed = 0;
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                let done = shared.created.load(Relaxed);
                // Statistics taken when the tenant was empty make each write's slug check scan
                // the whole type (see Store::analyze): refresh them as the data grows.
                if done >= analyzed * 2 + ANALYZE_EVERY {
                    analyzed = done;
                    if let Err(e) = shared.store.analyze().await {
                        eprintln!("  {:<10} could not refresh the planner statistics: {e}", tenant.as_str());
                    }
                }
                let rate = done as f64 / started.elapsed().as_secs_f64();
                eprintln!(
                    "  {:<10} {:>8}/{} entries, {rate:.0}/s",
                    tenant.as_str(),
                    done + shared.skipped.load(Relaxed),
                    shared.end
                );
            }
        })
    };
    let mut failure = None;
    while let Some(joined) = workers.join_next().await {
        let result = joined.map_err(|e| Failure::Other(anyhow::anyhow!("a seeding task failed: {e}"))).and_then(|r| r);
        if let Err(e) = result {
            shared.stop.store(true, Relaxed);
            failure.get_or_insert(e);
        }
    }
    progress.abort();
    if let Some(e) = failure {
        return Err(e);
    }
    let (created, skipped) = (shared.created.load(Relaxed), shared.skipped.load(Relaxed));
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "  {:<10} {created} new entries in {secs:.1} s ({:.0} entries/s){}",
        tenant.as_str(),
        created as f64 / secs.max(1e-9),
        if skipped > 0 { format!(", {skipped} already there") } else { String::new() }
    );
    Ok((created, skipped))
}

async fn worker(shared: Arc<Shared>) -> CliResult {
    let scoped = shared.store.scoped(&shared.access);
    let tenant = shared.access.tenant();
    while !shared.stop.load(Relaxed) {
        let i = shared.next.fetch_add(1, Relaxed);
        if i >= shared.end {
            break;
        }
        let item = shared.text.item(i, &shared.refs)?;
        let ct = type_of(&shared.types, item.type_id)?;
        let type_id = item.type_id;
        match create_entry(&scoped, ct, &shared.locales, item.input()).await {
            Ok(_) => shared.created.fetch_add(1, Relaxed),
            // Written by an earlier, interrupted run.
            Err(CreateError::Store(StoreError::Conflict { field: "slug", .. })) => shared.skipped.fetch_add(1, Relaxed),
            Err(e) => return Err(entry_failure(tenant, i, type_id, e)),
        };
    }
    Ok(())
}

fn type_of<'a>(types: &'a [ContentType], id: &str) -> CliResult<&'a ContentType> {
    types.iter().find(|ct| ct.id.as_str() == id).ok_or_else(|| Failure::Other(anyhow::anyhow!("no type {id}")))
}

fn entry_failure(tenant: &TenantId, i: usize, type_id: &str, e: CreateError) -> Failure {
    Failure::Other(anyhow::anyhow!("{tenant}, generated entry {i} ({type_id}): {e}"))
}

/// Ids of the entries the others refer to.
#[derive(Default)]
struct Refs {
    topics: Vec<uuid::Uuid>,
    offices: Vec<uuid::Uuid>,
    services: Vec<uuid::Uuid>,
}

impl Refs {
    fn push(&mut self, type_id: &str, id: uuid::Uuid) {
        match type_id {
            "argomento" => self.topics.push(id),
            "luogo" => self.offices.push(id),
            "servizio" => self.services.push(id),
            _ => {}
        }
    }
}

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

use chrono::{TimeZone, Utc};
use cit_core::content::{ContentType, EntryInput, Slug, slugify};
use cit_core::{Action, Locale, PlatformAction, TenantAccess, TenantId};
use cit_store::{
    EntryKey, EntryStatus, Filter, FilterValue, ListQuery, NewTenant, Op, Store, StoreError, SysField, Target,
};
use clap::Args;
use serde_json::{Map, Value, json};

use crate::cli::{CliResult, Failure};
use crate::seed::{CreateError, create_entry};

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

/// One planned entry.
struct Item {
    type_id: &'static str,
    slug: Slug,
    status: EntryStatus,
    data: Map<String, Value>,
}

impl Item {
    /// What the write path is asked to write (in the tenant's first locale).
    fn input(self) -> EntryInput {
        EntryInput { data: Some(self.data), slug: Some(self.slug), status: Some(self.status), ..EntryInput::default() }
    }
}

/// splitmix64: small, fast, and the same numbers on every platform and version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.below(words.len())]
    }

    /// 1 to `most` distinct ids from `ids` (fewer when there are fewer), in a random order.
    fn some(&mut self, ids: &[uuid::Uuid], most: usize) -> Vec<Value> {
        let k = 1 + self.below(most);
        let mut out: Vec<uuid::Uuid> = Vec::new();
        for _ in 0..k.min(ids.len()) * 3 {
            let id = ids[self.below(ids.len())];
            if !out.contains(&id) {
                out.push(id);
            }
            if out.len() == k {
                break;
            }
        }
        out.into_iter().map(|id| Value::String(id.to_string())).collect()
    }
}

/// The text generator of one tenant: every entry is a function of (tenant, prefix, index).
struct Text {
    seed: u64,
    prefix: String,
    city: &'static str,
}

const SUBJECTS: [&str; 10] = [
    "Il CIT",
    "Il Comune capofila",
    "La Provincia",
    "L'Unione dei Comuni",
    "La Città Metropolitana",
    "Il Centro servizi territoriale",
    "La Regione",
    "Il gruppo di lavoro del CIT",
    "L'ufficio per la transizione digitale",
    "La rete dei Comuni aderenti",
];
const VERBS: [&str; 12] = [
    "avvia",
    "presenta",
    "estende",
    "rinnova",
    "organizza",
    "pubblica",
    "completa",
    "attiva",
    "potenzia",
    "semplifica",
    "coordina",
    "inaugura",
];
const OBJECTS: [&str; 20] = [
    "il servizio di pagamenti online con pagoPA",
    "lo sportello unico per le attività produttive",
    "un ciclo di webinar sulla sicurezza informatica",
    "il catalogo dei servizi digitali",
    "la migrazione al cloud dei Comuni",
    "l'accesso con SPID e CIE ai servizi comunali",
    "il portale degli open data",
    "la rete Wi-Fi pubblica",
    "il piano di formazione per i dipendenti",
    "la piattaforma per le istanze online",
    "il protocollo informatico condiviso",
    "l'archivio digitale dei documenti",
    "la conservazione digitale a norma",
    "il nuovo sito istituzionale",
    "i servizi comunali sull'app IO",
    "il subentro nell'anagrafe nazionale ANPR",
    "il fascicolo digitale del cittadino",
    "la gestione associata dei tributi",
    "il sistema informativo territoriale",
    "la notifica digitale degli atti",
];
const COMPLEMENTS: [&str; 10] = [
    "per i piccoli Comuni del territorio",
    "con il supporto della Regione",
    "insieme alle Unioni di Comuni",
    "grazie ai fondi del PNRR",
    "nell'ambito dell'Agenda digitale",
    "per cittadini e imprese",
    "con nuove funzioni",
    "in tutta la provincia",
    "entro la fine dell'anno",
    "dopo la fase sperimentale",
];
const FACTS: [&str; 10] = [
    "Il progetto coinvolge {n} Comuni e oltre {m} dipendenti pubblici.",
    "Le attività si svolgono tra {month} e {month2}.",
    "Il servizio è gratuito per gli enti aderenti al CIT.",
    "La documentazione è disponibile nell'area riservata del portale.",
    "Gli operatori dello sportello offrono assistenza telefonica e via email.",
    "I risultati saranno presentati alla prossima riunione della Community.",
    "Per aderire bastano una delibera di giunta e la firma dell'accordo di servizio.",
    "Il calendario degli incontri sarà pubblicato nelle prossime settimane.",
    "Finora hanno aderito {n} enti, con {m} pratiche gestite online.",
    "La formazione dei referenti comunali dura {n} ore, in presenza e a distanza.",
];
const MONTHS: [&str; 12] = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
];
const HEADINGS: [&str; 5] =
    ["Come partecipare", "Cosa cambia per i Comuni", "I prossimi passi", "Per saperne di più", "I numeri"];
const AUTHORS: [&str; 4] = ["Ufficio stampa", "Servizio innovazione", "Segreteria tecnica", "Redazione CIT"];
const TOPIC_TITLES: [&str; TOPICS] = [
    "Agenda digitale locale",
    "Cittadinanza digitale",
    "Ambiente e sostenibilità",
    "Protezione civile",
    "Lavoro e imprese",
    "Sanità digitale",
    "Mobilità sostenibile",
    "Scuola digitale",
    "Welfare e servizi sociali",
    "Dati e interoperabilità",
    "Cloud della PA",
    "Partecipazione civica",
];
const OFFICE_NAMES: [&str; OFFICES] =
    ["Sede del CIT", "Sportello di facilitazione digitale", "Sala formazione", "Ufficio per la transizione digitale"];
const STREETS: [&str; 8] = [
    "Via Roma",
    "Piazza del Municipio",
    "Via Garibaldi",
    "Corso Vittorio Emanuele II",
    "Via Mazzini",
    "Viale della Repubblica",
    "Via Dante Alighieri",
    "Piazza della Libertà",
];
const CITIES: [&str; 10] =
    ["Matera", "Cosenza", "Trento", "Ancona", "Perugia", "Sassari", "Pavia", "Rieti", "Isernia", "Lucca"];
/// Services: "<kind> <subject>", 4 × 10.
const SERVICE_KINDS: [(&str, Option<&str>); 4] = [
    ("Supporto all'adesione a", None),
    ("Assistenza tecnica su", Some("assistenza-tecnica")),
    ("Formazione su", Some("formazione")),
    ("Gestione associata di", Some("gestione-associata")),
];
const SERVICE_SUBJECTS: [(&str, &str); 10] = [
    ("pagoPA", "tributi-e-pagamenti"),
    ("SPID e CIE", "transizione-digitale"),
    ("app IO", "transizione-digitale"),
    ("protocollo informatico", "istanze-e-protocollo"),
    ("conservazione digitale", "infrastrutture-digitali"),
    ("sito istituzionale", "transizione-digitale"),
    ("open data", "open-data"),
    ("sicurezza informatica", "sicurezza-informatica"),
    ("migrazione al cloud", "infrastrutture-digitali"),
    ("ANPR", "anagrafe-e-stato-civile"),
];
const EVENT_KINDS: [(&str, &str); 5] = [
    ("webinar", "Webinar"),
    ("incontro", "Incontro"),
    ("evento-pubblico", "Evento pubblico"),
    ("riunione-community", "Riunione della Community"),
    ("formazione", "Corso di formazione"),
];

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// FNV-1a, to turn the tenant id into a seed.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl Text {
    fn new(tenant: &str, prefix: &str) -> Text {
        let seed = fnv(tenant) ^ fnv(prefix).rotate_left(17);
        Text { seed, prefix: prefix.to_owned(), city: CITIES[(fnv(tenant) % CITIES.len() as u64) as usize] }
    }

    fn rng(&self, i: usize) -> Rng {
        Rng(self.seed ^ (i as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93))
    }

    /// `<prefix>-<index>-<the title's slug, cut to about 60 characters>`.
    fn slug(&self, i: usize, title: &str) -> CliResult<Slug> {
        let words = slugify(title).map(|s| s.as_str().to_owned()).unwrap_or_default();
        let mut cut = String::new();
        for w in words.split('-') {
            if cut.len() + w.len() > 60 {
                break;
            }
            cut.push('-');
            cut.push_str(w);
        }
        let raw = format!("{}-{i:06}{cut}", self.prefix);
        Slug::parse(&raw).map_err(|e| Failure::Other(anyhow::anyhow!("slug {raw}: {e}")))
    }

    fn sentence(&self, rng: &mut Rng) -> String {
        format!("{} {} {} {}.", rng.pick(&SUBJECTS), rng.pick(&VERBS), rng.pick(&OBJECTS), rng.pick(&COMPLEMENTS))
    }

    fn fact(&self, rng: &mut Rng) -> String {
        let month = rng.below(MONTHS.len() - 2);
        rng.pick(&FACTS)
            .replace("{n}", &(3 + rng.below(60)).to_string())
            .replace("{m}", &(20 + rng.below(900)).to_string())
            .replace("{month}", MONTHS[month])
            .replace("{month2}", MONTHS[month + 1 + rng.below(2)])
    }

    fn paragraph(&self, rng: &mut Rng) -> String {
        let mut p = vec![self.sentence(rng)];
        for _ in 0..1 + rng.below(3) {
            p.push(if rng.below(2) == 0 { self.fact(rng) } else { self.sentence(rng) });
        }
        p.join(" ")
    }

    /// Markdown: paragraphs, a heading, a list.
    fn body(&self, rng: &mut Rng) -> String {
        let items: Vec<String> = (0..3).map(|_| format!("- {}", capitalise(rng.pick(&OBJECTS)))).collect();
        format!(
            "{}\n\n## {}\n\n{}\n\n{}\n\n**{}**",
            self.paragraph(rng),
            rng.pick(&HEADINGS),
            self.paragraph(rng),
            items.join("\n"),
            self.fact(rng)
        )
    }

    fn summary(&self, rng: &mut Rng) -> String {
        let s = format!("{} {}", self.sentence(rng), self.fact(rng));
        if s.chars().count() <= 400 { s } else { self.sentence(rng) }
    }

    /// The entry at index `i` of the tenant.
    fn item(&self, i: usize, refs: &Refs) -> CliResult<Item> {
        let mut rng = self.rng(i);
        let mut data = Map::new();
        let mut put = |k: &str, v: Value| {
            data.insert(k.to_owned(), v);
        };
        let mut status = EntryStatus::Published;
        let type_id = if i < TOPICS {
            put("title", json!(TOPIC_TITLES[i]));
            put("description", json!(self.paragraph(&mut rng)));
            "argomento"
        } else if i < TOPICS + OFFICES {
            let k = i - TOPICS;
            put("title", json!(format!("{} di {}", OFFICE_NAMES[k], self.city)));
            put("address", json!(format!("{}, {}", rng.pick(&STREETS), 1 + rng.below(120))));
            put("city", json!(self.city));
            put("opening_hours", json!("Dal lunedì al venerdì, 9:00–13:00; martedì e giovedì anche 15:00–17:00"));
            "luogo"
        } else if i < BASE {
            let k = i - TOPICS - OFFICES;
            let (kind, kind_category) = SERVICE_KINDS[k / SERVICE_SUBJECTS.len()];
            let (subject, category) = SERVICE_SUBJECTS[k % SERVICE_SUBJECTS.len()];
            put("title", json!(format!("{kind} {subject}")));
            put("summary", json!(self.summary(&mut rng)));
            put("category", json!(kind_category.unwrap_or(category)));
            put("audience", json!(["Comuni", "Unioni di comuni"]));
            put("description", json!(self.body(&mut rng)));
            put(
                "how_to",
                json!(format!(
                    "1. {}\n2. {}\n3. {}",
                    self.fact(&mut rng),
                    self.sentence(&mut rng),
                    self.fact(&mut rng)
                )),
            );
            put("access_channel", json!(rng.pick(&["online", "sportello", "entrambi"])));
            put("cost", json!("Gratuito per gli enti aderenti al CIT."));
            if let Some(id) = refs.offices.get(rng.below(OFFICES)) {
                put("office", json!(id.to_string()));
            }
            put("argomenti", Value::Array(rng.some(&refs.topics, 3)));
            "servizio"
        } else if i.is_multiple_of(25) {
            let (kind, label) = EVENT_KINDS[rng.below(EVENT_KINDS.len())];
            let start = Utc.with_ymd_and_hms(2026, 1, 12, 9, 30, 0).single().unwrap_or_default()
                + chrono::Duration::days((i * 7 % 730) as i64);
            put("title", json!(format!("{label}: {} {}", rng.pick(&OBJECTS), rng.pick(&COMPLEMENTS))));
            put("summary", json!(self.summary(&mut rng)));
            put("body", json!(self.body(&mut rng)));
            put("kind", json!(kind));
            put("start", json!(start.to_rfc3339()));
            put("end", json!((start + chrono::Duration::hours(2)).to_rfc3339()));
            put("organizer", json!("CIT"));
            if let Some(id) = refs.offices.get(rng.below(OFFICES)) {
                put("place", json!(id.to_string()));
            }
            put("argomenti", Value::Array(rng.some(&refs.topics, 2)));
            "evento"
        } else {
            let title = self.sentence(&mut rng);
            put("title", json!(title.trim_end_matches('.')));
            put("summary", json!(self.summary(&mut rng)));
            put("body", json!(self.body(&mut rng)));
            put("argomenti", Value::Array(rng.some(&refs.topics, 3)));
            put("related_services", Value::Array(rng.some(&refs.services, 2)));
            // Mostly one byline, so that a filter on it keeps most entries.
            put("author_name", json!(if rng.below(10) < 7 { "Redazione CIT" } else { rng.pick(&AUTHORS[..3]) }));
            put("reading_time", json!(1 + rng.below(10)));
            if rng.below(100) < 3 {
                status = EntryStatus::Draft;
            }
            "notizia"
        };
        let title = data.get("title").and_then(Value::as_str).unwrap_or_default().to_owned();
        Ok(Item { type_id, slug: self.slug(i, &title)?, status, data })
    }
}

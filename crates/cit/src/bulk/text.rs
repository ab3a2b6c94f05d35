//! The content `cit seed-bulk` writes: plausible Italian titles, bodies and references, a pure
//! function of the tenant, the prefix and the entry's index (splitmix64 seeded by FNV-1a).

use chrono::{TimeZone, Utc};
use cit_core::content::{EntryInput, Slug, slugify};
use cit_site::render::MONTHS;
use cit_store::EntryStatus;
use serde_json::{Map, Value, json};

use super::{BASE, OFFICES, Refs, TOPICS};
use crate::cli::{CliResult, Failure};

/// One planned entry.
pub(super) struct Item {
    pub(super) type_id: &'static str,
    pub(super) slug: Slug,
    pub(super) status: EntryStatus,
    pub(super) data: Map<String, Value>,
}

impl Item {
    /// What the write path is asked to write (in the tenant's first locale).
    pub(super) fn input(self) -> EntryInput {
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
pub(super) struct Text {
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
    pub(super) fn new(tenant: &str, prefix: &str) -> Text {
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
    pub(super) fn item(&self, i: usize, refs: &Refs) -> CliResult<Item> {
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

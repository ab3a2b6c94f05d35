//! How a tenant's content types are named in GraphQL: PascalCase types (`notizia` → `Notizia`),
//! camelCase fields (`related_services` → `relatedServices`), UPPER_SNAKE enum values
//! (`in-arrivo` → `IN_ARRIVO`) and sort keys (`PUBLISHED_AT_DESC`). Collisions are resolved here,
//! once, deterministically, so that the schema builder and the resolvers agree on every name.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use cit_core::content::{ContentType, Field, FieldKind};
use cit_store::{SysField, Target, ValueType};

/// Names of the types every tenant's schema has, whatever its content types.
pub(crate) const SHARED_TYPES: &[&str] = &[
    "Query",
    "Mutation",
    "Subscription",
    "Tenant",
    "PageInfo",
    "EntryStatus",
    "Richtext",
    "Geopoint",
    "GeopointInput",
    "Media",
    "Revision",
    "DateTime",
    "Date",
    "JSON",
    "StringFilter",
    "IntFilter",
    "FloatFilter",
    "BooleanFilter",
    "DateFilter",
    "DateTimeFilter",
    "IDFilter",
    "ReferenceFilter",
    "ReferencesFilter",
    "ListFilter",
    "Int",
    "Float",
    "String",
    "Boolean",
    "ID",
];

/// Fields every entry type has besides its data; a data field whose camelCase name is one of
/// these gets a `Field` suffix.
pub(crate) const ENTRY_SYSTEM_FIELDS: &[&str] = &[
    "id",
    "type",
    "locale",
    "slug",
    "status",
    "createdAt",
    "updatedAt",
    "publishedAt",
    "publishAt",
    "unpublishAt",
    "revision",
    "translationGroup",
    "translations",
    "revisions",
    "author",
];

/// Root query fields that do not belong to a content type.
const SHARED_QUERY_FIELDS: &[&str] = &["tenant"];

/// The whole GraphQL model of one tenant.
#[derive(Debug)]
pub(crate) struct Plan {
    pub types: Vec<Arc<TypePlan>>,
}

/// One content type in GraphQL.
#[derive(Debug)]
pub(crate) struct TypePlan {
    pub ct: ContentType,
    /// Object type: `Notizia`.
    pub name: String,
    /// Root field for one entry: `notizia`.
    pub one: String,
    /// Root field for the connection: `notiziaList`.
    pub list: String,
    pub fields: Vec<FieldPlan>,
    /// Values of the sort enum, in order: (name, target, descending).
    pub sorts: Vec<(String, Target, bool)>,
}

#[derive(Debug, Clone)]
pub(crate) struct FieldPlan {
    pub field: Field,
    /// camelCase name in GraphQL.
    pub gql: String,
    pub shape: Shape,
}

/// What a field looks like in GraphQL.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    /// string, text, slug, email, url; and enums whose values GraphQL cannot name one to one.
    Text,
    Richtext,
    Int,
    Float,
    Bool,
    Date,
    DateTime,
    Enum(Arc<EnumPlan>),
    Media,
    /// A reference: `to` is the target's object type, `None` when the tenant lacks the type
    /// (the raw ids are then exposed).
    Reference {
        to: Option<String>,
        many: bool,
    },
    Tags,
    Geopoint,
    Json,
}

/// A GraphQL enum for an enum field: `ServizioCategory`.
#[derive(Debug)]
pub(crate) struct EnumPlan {
    pub name: String,
    /// (GraphQL name, stored value), in the field's order.
    pub values: Vec<(String, String)>,
}

impl EnumPlan {
    pub fn gql_of(&self, raw: &str) -> Option<&str> {
        self.values.iter().find(|(_, r)| r == raw).map(|(g, _)| g.as_str())
    }

    pub fn raw_of(&self, gql: &str) -> Option<&str> {
        self.values.iter().find(|(g, _)| g == gql).map(|(_, r)| r.as_str())
    }

    pub fn filter_name(&self) -> String {
        format!("{}Filter", self.name)
    }
}

/// `related_services` → `RelatedServices`; `a_1` → `A1`.
pub(crate) fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// `related_services` → `relatedServices`.
pub(crate) fn camel(snake: &str) -> String {
    lower_first(&pascal(snake))
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// `in-arrivo` → `IN_ARRIVO`, `2020` → `_2020`; None when nothing nameable is left.
pub(crate) fn enum_value_name(raw: &str) -> Option<String> {
    let mut out: String =
        raw.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    if out.is_empty() || out.chars().all(|c| c == '_') {
        return None;
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if out.starts_with("__") {
        out.insert(0, 'V');
    }
    Some(out)
}

/// The system columns a list can be sorted by, with their sort-enum stem.
const SYS_SORTS: &[(&str, SysField)] = &[
    ("PUBLISHED_AT", SysField::PublishedAt),
    ("CREATED_AT", SysField::CreatedAt),
    ("UPDATED_AT", SysField::UpdatedAt),
    ("SLUG", SysField::Slug),
    ("ID", SysField::Id),
    ("LOCALE", SysField::Locale),
    ("STATUS", SysField::Status),
];

impl Plan {
    /// Names every type, field and value of `types` (sorted by api id first, so the result does
    /// not depend on the order they come in).
    pub fn new(types: &[ContentType]) -> Plan {
        let mut sorted: Vec<&ContentType> = types.iter().collect();
        sorted.sort_by(|a, b| a.id.cmp(&b.id));

        let mut used_types: BTreeSet<String> =
            SHARED_TYPES.iter().chain(super::requests::TYPES).map(|s| (*s).to_owned()).collect();
        let mut used_roots: BTreeSet<String> =
            SHARED_QUERY_FIELDS.iter().chain(super::requests::ROOT_FIELDS).map(|s| (*s).to_owned()).collect();
        let mut names: HashMap<String, String> = HashMap::new();
        for ct in &sorted {
            let base = pascal(ct.id.as_str());
            let mut attempt = 0;
            loop {
                let candidate = match attempt {
                    0 => base.clone(),
                    1 => format!("{base}Entry"),
                    n => format!("{base}Entry{n}"),
                };
                attempt += 1;
                let (type_names, root_names) = names_of(ct, &candidate);
                if type_names.iter().any(|n| used_types.contains(n) || n.starts_with("__"))
                    || root_names.iter().any(|n| used_roots.contains(n))
                {
                    continue;
                }
                used_types.extend(type_names);
                used_roots.extend(root_names);
                names.insert(ct.id.to_string(), candidate);
                break;
            }
        }

        let plans = sorted
            .iter()
            .map(|ct| {
                let name = names.get(ct.id.as_str()).cloned().unwrap_or_else(|| pascal(ct.id.as_str()));
                Arc::new(type_plan(ct, name, &names))
            })
            .collect();
        Plan { types: plans }
    }

    pub fn by_name(&self, name: &str) -> Option<&Arc<TypePlan>> {
        self.types.iter().find(|t| t.name == name)
    }
}

/// The type names and root fields a content type named `name` would take.
fn names_of(ct: &ContentType, name: &str) -> (Vec<String>, Vec<String>) {
    let mut types = vec![
        name.to_owned(),
        format!("{name}Connection"),
        format!("{name}Edge"),
        format!("{name}Filter"),
        format!("{name}Sort"),
        format!("{name}Input"),
    ];
    for f in &ct.fields {
        if matches!(f.kind, FieldKind::Enum { .. }) {
            let e = format!("{name}{}", pascal(f.name.as_str()));
            types.push(format!("{e}Filter"));
            types.push(e);
        }
    }
    let lower = lower_first(name);
    let roots = vec![
        lower.clone(),
        format!("{lower}List"),
        format!("create{name}"),
        format!("update{name}"),
        format!("publish{name}"),
        format!("unpublish{name}"),
        format!("delete{name}"),
    ];
    (types, roots)
}

fn type_plan(ct: &ContentType, name: String, names: &HashMap<String, String>) -> TypePlan {
    let mut used: BTreeSet<String> = ENTRY_SYSTEM_FIELDS.iter().map(|s| (*s).to_owned()).collect();
    let mut fields = Vec::new();
    for f in &ct.fields {
        let base = camel(f.name.as_str());
        let mut gql = base.clone();
        let mut n = 1;
        while used.contains(&gql) {
            gql = if n == 1 { format!("{base}Field") } else { format!("{base}Field{n}") };
            n += 1;
        }
        used.insert(gql.clone());
        let shape = match &f.kind {
            FieldKind::String | FieldKind::Text | FieldKind::Slug | FieldKind::Email | FieldKind::Url => Shape::Text,
            FieldKind::Richtext => Shape::Richtext,
            FieldKind::Integer => Shape::Int,
            FieldKind::Decimal => Shape::Float,
            FieldKind::Boolean => Shape::Bool,
            FieldKind::Date => Shape::Date,
            FieldKind::Datetime => Shape::DateTime,
            FieldKind::Enum { values } => match enum_plan(&format!("{name}{}", pascal(f.name.as_str())), values) {
                Some(e) => Shape::Enum(Arc::new(e)),
                None => Shape::Text,
            },
            FieldKind::Media => Shape::Media,
            FieldKind::Reference { to, many } => Shape::Reference { to: names.get(to.as_str()).cloned(), many: *many },
            FieldKind::Tags => Shape::Tags,
            FieldKind::Geopoint => Shape::Geopoint,
            FieldKind::Json => Shape::Json,
        };
        fields.push(FieldPlan { field: f.clone(), gql, shape });
    }

    let mut sorts = Vec::new();
    for (stem, sys) in SYS_SORTS {
        sorts.push((format!("{stem}_ASC"), Target::Sys(*sys), false));
        sorts.push((format!("{stem}_DESC"), Target::Sys(*sys), true));
    }
    for f in &ct.fields {
        if let Some(vt) = ValueType::of(f).filter(|vt| matches!(vt, ValueType::Text | ValueType::Number)) {
            let stem = f.name.as_str().to_ascii_uppercase();
            sorts.push((format!("{stem}_ASC"), Target::Data(f.name.clone(), vt), false));
            sorts.push((format!("{stem}_DESC"), Target::Data(f.name.clone(), vt), true));
        }
    }

    let lower = lower_first(&name);
    TypePlan { ct: ct.clone(), one: lower.clone(), list: format!("{lower}List"), name, fields, sorts }
}

/// The GraphQL enum of an enum field, when every value gets its own name.
fn enum_plan(name: &str, values: &[String]) -> Option<EnumPlan> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for raw in values {
        let gql = enum_value_name(raw)?;
        if !seen.insert(gql.clone()) {
            return None;
        }
        out.push((gql, raw.clone()));
    }
    Some(EnumPlan { name: name.to_owned(), values: out })
}

impl TypePlan {
    pub fn field_by_gql(&self, gql: &str) -> Option<&FieldPlan> {
        self.fields.iter().find(|f| f.gql == gql)
    }

    pub fn field_by_name(&self, name: &str) -> Option<&FieldPlan> {
        self.fields.iter().find(|f| f.field.name.as_str() == name)
    }

    /// `data.reading_time[2]` (a REST error path) → `data.readingTime[2]`.
    pub fn gql_path(&self, path: &str) -> String {
        let Some(rest) = path.strip_prefix("data.") else { return path.to_owned() };
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let (name, tail) = rest.split_at(end);
        match self.field_by_name(name) {
            Some(f) => format!("data.{}{tail}", f.gql),
            None => path.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use cit_core::content::{ContentTypeDef, FieldDef};

    fn ct(id: &str, fields: &[(&str, &str)]) -> ContentType {
        let def = ContentTypeDef {
            singular: "S".into(),
            plural: "P".into(),
            description: None,
            labels: Default::default(),
            tree: false,
            slug_from: None,
            fields: fields
                .iter()
                .map(|(n, k)| FieldDef {
                    name: (*n).into(),
                    kind: (*k).into(),
                    label: "L".into(),
                    values: (*k == "enum").then(|| vec!["in-arrivo".into(), "2020".into()]),
                    to: (*k == "reference").then(|| "notizia".into()),
                    ..FieldDef::default()
                })
                .collect(),
        };
        ContentType::parse(id, &def).unwrap()
    }

    #[test]
    fn names() {
        assert_eq!(pascal("related_services"), "RelatedServices");
        assert_eq!(camel("related_services"), "relatedServices");
        assert_eq!(camel("a_1"), "a1");
        assert_eq!(enum_value_name("in-arrivo").as_deref(), Some("IN_ARRIVO"));
        assert_eq!(enum_value_name("2020").as_deref(), Some("_2020"));
        assert_eq!(enum_value_name("--x").as_deref(), Some("V__X"));
        assert_eq!(enum_value_name("--"), None);
    }

    #[test]
    fn content_types_keep_clear_of_the_requests_fields() {
        let types = vec![ct("form", &[("title", "string")]), ct("ticket", &[("title", "string")])];
        let plan = Plan::new(&types);
        let names: Vec<(&str, &str, &str)> =
            plan.types.iter().map(|t| (t.name.as_str(), t.one.as_str(), t.list.as_str())).collect();
        assert_eq!(
            names,
            [("FormEntry", "formEntry", "formEntryList"), ("TicketEntry", "ticketEntry", "ticketEntryList")]
        );
        let sdl = super::super::sdl(&types).unwrap();
        assert!(sdl.contains("ticketEntryList(") && sdl.contains("tickets("));
    }

    #[test]
    fn collisions_are_resolved() {
        let types = vec![
            ct("notizia", &[("title", "string"), ("revisions", "string"), ("revisions_field", "string")]),
            ct("notizia_list", &[("title", "string")]),
            ct("page_info", &[("title", "string")]),
            ct("x", &[("title", "string"), ("stato", "enum")]),
        ];
        let plan = Plan::new(&types);
        let names: Vec<(&str, &str, &str)> =
            plan.types.iter().map(|t| (t.name.as_str(), t.one.as_str(), t.list.as_str())).collect();
        assert_eq!(
            names,
            [
                ("Notizia", "notizia", "notiziaList"),
                ("NotiziaListEntry", "notiziaListEntry", "notiziaListEntryList"),
                ("PageInfoEntry", "pageInfoEntry", "pageInfoEntryList"),
                ("X", "x", "xList"),
            ]
        );
        let gql: Vec<&str> = plan.types[0].fields.iter().map(|f| f.gql.as_str()).collect();
        assert_eq!(gql, ["title", "revisionsField", "revisionsFieldField"]);
        let Shape::Enum(e) = &plan.types[3].fields[1].shape else { panic!("not an enum") };
        assert_eq!(e.name, "XStato");
        assert_eq!(e.raw_of("_2020"), Some("2020"));
        assert_eq!(e.gql_of("in-arrivo"), Some("IN_ARRIVO"));
        assert_eq!(plan.types[0].gql_path("data.revisions_field[1]"), "data.revisionsFieldField[1]");
    }
}

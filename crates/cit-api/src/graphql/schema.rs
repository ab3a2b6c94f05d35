//! The schema of one tenant, built at run time from its content types with async-graphql's
//! dynamic schema. Each type `notizia` becomes an object `Notizia`, a query for one entry
//! (`notizia(id, slug, locale, status)`), a connection (`notiziaList(filter, sort, first, after,
//! locale, status)`), typed filter and sort inputs, a data input, and the editors' mutations
//! (`createNotizia`, `updateNotizia`, `publishNotizia`, `unpublishNotizia`, `deleteNotizia`).

use std::sync::Arc;

use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ResolverContext, Scalar, Schema,
    SchemaError, TypeRef,
};
use async_graphql::indexmap::IndexMap;
use async_graphql::{Lookahead, Name, Value};
use chrono::{DateTime, SecondsFormat, Utc};
use cit_core::content::{ContentType, FieldKind};
use cit_store::{Entry, EntryStatus, Revision};

use super::context::{Conn, Edge, Group, Node, ReqCtx, RevisionsOf};
use super::errors::{GqlResult, shared};
use super::plan::{FieldPlan, Plan, Shape, TypePlan};
use super::{mutate, query, search};
use crate::render::markdown_to_html;

/// A tenant's schema and the names it was built with.
pub struct TenantSchema {
    pub(crate) schema: Schema,
    pub(crate) plan: Arc<Plan>,
}

impl TenantSchema {
    /// The schema in SDL, as committed in `schema/schema.graphql` for the CIT preset.
    pub fn sdl(&self) -> String {
        self.schema.sdl_with_options(
            async_graphql::SDLExportOptions::new().include_specified_by().use_space_ident().indent_width(2),
        )
    }
}

pub(crate) const STATUS_ENUM: &str = "EntryStatus";

pub(crate) fn status_name(s: EntryStatus) -> &'static str {
    match s {
        EntryStatus::Draft => "DRAFT",
        EntryStatus::Published => "PUBLISHED",
        EntryStatus::Archived => "ARCHIVED",
    }
}

pub(crate) fn status_of(name: &str) -> Option<EntryStatus> {
    EntryStatus::ALL.into_iter().find(|s| status_name(*s) == name)
}

fn time(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

pub(crate) fn object(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (Name::new(k), v)).collect::<IndexMap<_, _>>())
}

/// The value of a resolver that cannot fail.
fn ready(v: Option<FieldValue<'_>>) -> FieldFuture<'_> {
    FieldFuture::Value(v)
}

/// A resolver that may fail; errors are named after `ty`'s GraphQL fields.
pub(crate) fn fallible<'a, F>(ty: Option<Arc<TypePlan>>, fut: F) -> FieldFuture<'a>
where
    F: Future<Output = GqlResult<Option<FieldValue<'a>>>> + Send + 'a,
{
    FieldFuture::new(async move { fut.await.map_err(|e| e.into_graphql(ty.as_deref())) })
}

/// A field of an object held as a `Value::Object` by its parent.
pub(crate) fn value_field(name: &'static str, ty: TypeRef) -> Field {
    Field::new(name, ty, move |ctx| {
        let v = match ctx.parent_value.as_value() {
            Some(Value::Object(m)) => m.get(name).filter(|v| !matches!(v, Value::Null)).cloned(),
            _ => None,
        };
        ready(v.map(FieldValue::value))
    })
}

fn node_of<'a>(ctx: &ResolverContext<'a>) -> Option<&'a Node> {
    ctx.parent_value.downcast_ref::<Node>()
}

/// Builds the schema of a tenant with these content types.
pub fn build(types: &[ContentType]) -> Result<TenantSchema, SchemaError> {
    let plan = Arc::new(Plan::new(types));
    let mutation = (!plan.types.is_empty()).then_some("Mutation");
    let mut b = Schema::build("Query", mutation, None).limit_directives(8);
    b = shared_types(b);
    let mut q = Object::new("Query").description("Content of one tenant. Published entries are readable by anyone the tenant lets read; other statuses need a preview token or an author, editor or admin.").field(tenant_field());
    let mut m = Object::new("Mutation")
        .description("Editors' changes: the same validation, permissions and error codes as the REST API.");
    for t in &plan.types {
        b = b
            .register(entry_object(t, &plan))
            .register(connection_object(t))
            .register(edge_object(t))
            .register(filter_input(t))
            .register(sort_enum(t))
            .register(data_input(t));
        for f in &t.fields {
            if let Shape::Enum(e) = &f.shape {
                let mut en = Enum::new(e.name.clone())
                    .description(format!("Values of {}.{} (stored as written in the content type).", t.name, f.gql));
                for (gql, raw) in &e.values {
                    en = en.item(EnumItem::new(gql.clone()).description(format!("`{raw}`")));
                }
                b = b.register(en);
                let ty = e.name.as_str();
                b = b.register(
                    InputObject::new(e.filter_name())
                        .description(format!("Conditions on a {ty} field; all given must hold."))
                        .field(InputValue::new("eq", TypeRef::named(ty)))
                        .field(InputValue::new("ne", TypeRef::named(ty)))
                        .field(InputValue::new("in", TypeRef::named_nn_list(ty)))
                        .field(InputValue::new("isNull", TypeRef::named(TypeRef::BOOLEAN))),
                );
            }
        }
        q = q.field(query::one_field(t)).field(query::list_field(t));
        m = m
            .field(mutate::create_field(t))
            .field(mutate::update_field(t))
            .field(mutate::publish_field(t, true))
            .field(mutate::publish_field(t, false))
            .field(mutate::delete_field(t));
    }
    b = search::register(b, &plan);
    q = q.field(search::search_field());
    b = b.register(q);
    if mutation.is_some() {
        b = b.register(m);
    }
    Ok(TenantSchema { schema: b.finish()?, plan })
}

fn tenant_field() -> Field {
    Field::new("tenant", TypeRef::named_nn("Tenant"), |ctx| {
        let rc = ctx.parent_value.downcast_ref::<Arc<ReqCtx>>();
        ready(rc.map(|rc| {
            FieldValue::value(object([
                ("id", Value::String(rc.tenant.id.to_string())),
                ("name", Value::String(rc.tenant.name.clone())),
                ("locales", Value::List(rc.tenant.locales.iter().cloned().map(Value::String).collect())),
            ]))
        }))
    })
    .description("The tenant this endpoint serves.")
}

fn filter(name: &str, description: &str, scalar: &str, ops: &[&str]) -> InputObject {
    let mut f = InputObject::new(name).description(description);
    for op in ops {
        f = f.field(match *op {
            "in" => InputValue::new("in", TypeRef::named_nn_list(scalar)).description("One of these values."),
            "isNull" => InputValue::new("isNull", TypeRef::named(TypeRef::BOOLEAN))
                .description("true: the field has no value; false: it has one."),
            "contains" if scalar == TypeRef::STRING && name == "StringFilter" => {
                InputValue::new("contains", TypeRef::named(scalar)).description("Contains the text, ignoring case.")
            }
            "contains" => InputValue::new("contains", TypeRef::named(scalar)).description("The list holds this item."),
            "startsWith" => InputValue::new("startsWith", TypeRef::named(scalar))
                .description("Starts with the text, ignoring case."),
            other => InputValue::new(other, TypeRef::named(scalar)),
        });
    }
    f
}

fn shared_types(b: async_graphql::dynamic::SchemaBuilder) -> async_graphql::dynamic::SchemaBuilder {
    const ORDERED: &[&str] = &["eq", "ne", "lt", "lte", "gt", "gte", "in", "isNull"];
    b.register(
        Scalar::new("DateTime")
            .description("A date and time in RFC 3339 with an offset; answers are in UTC: `2026-03-01T09:30:00Z`.")
            .specified_by_url("https://datatracker.ietf.org/doc/html/rfc3339"),
    )
    .register(Scalar::new("Date").description("A calendar date, `YYYY-MM-DD`."))
    .register(Scalar::new("JSON").description("Any JSON value."))
    .register(
        Enum::new(STATUS_ENUM)
            .description("Where an entry is in its life.")
            .item(EnumItem::new("DRAFT").description("Being written; not public."))
            .item(EnumItem::new("PUBLISHED").description("Public."))
            .item(EnumItem::new("ARCHIVED").description("Withdrawn; kept for the record.")),
    )
    .register(
        Object::new("Tenant")
            .description("A public body served by this deployment.")
            .field(value_field("id", TypeRef::named_nn(TypeRef::ID)))
            .field(value_field("name", TypeRef::named_nn(TypeRef::STRING)))
            .field(
                value_field("locales", TypeRef::named_nn_list_nn(TypeRef::STRING))
                    .description("Content locales; the first is the default."),
            ),
    )
    .register(
        Object::new("PageInfo")
            .field(value_field("hasNextPage", TypeRef::named_nn(TypeRef::BOOLEAN)))
            .field(
                value_field("endCursor", TypeRef::named(TypeRef::STRING))
                    .description("Pass as `after` for the next page; null on an empty page."),
            ),
    )
    .register(
        Object::new("Richtext")
            .description("Markdown, and the same rendered to sanitised HTML.")
            .field(value_field("markdown", TypeRef::named_nn(TypeRef::STRING)))
            .field(
                Field::new("html", TypeRef::named_nn(TypeRef::STRING), |ctx| {
                    let md = match ctx.parent_value.as_value() {
                        Some(Value::Object(m)) => match m.get("markdown") {
                            Some(Value::String(s)) => Some(markdown_to_html(s)),
                            _ => None,
                        },
                        _ => None,
                    };
                    ready(md.map(|h| FieldValue::value(Value::String(h))))
                })
                .description("CommonMark with tables, without scripts or event handlers."),
            ),
    )
    .register(
        Object::new("Geopoint")
            .field(value_field("lat", TypeRef::named_nn(TypeRef::FLOAT)))
            .field(value_field("lon", TypeRef::named_nn(TypeRef::FLOAT))),
    )
    .register(
        InputObject::new("GeopointInput")
            .field(InputValue::new("lat", TypeRef::named_nn(TypeRef::FLOAT)))
            .field(InputValue::new("lon", TypeRef::named_nn(TypeRef::FLOAT))),
    )
    .register(
        Object::new("Media")
            .description("A media item of the tenant's library.")
            .field(value_field("id", TypeRef::named_nn(TypeRef::ID)))
            .field(
                value_field("url", TypeRef::named_nn(TypeRef::STRING))
                    .description("Where its bytes are served, relative to the API (`/api/v1/t/{tenant}/media/{id}/file`)."),
            ),
    )
    .register(
        Object::new("Revision")
            .description("A saved version of an entry.")
            .field(value_field("revision", TypeRef::named_nn(TypeRef::INT)))
            .field(value_field("slug", TypeRef::named_nn(TypeRef::STRING)))
            .field(value_field("status", TypeRef::named_nn(STATUS_ENUM)))
            .field(value_field("note", TypeRef::named_nn(TypeRef::STRING)).description(
                "created, updated, published, unpublished, archived, restored:N, scheduled_publish, scheduled_unpublish.",
            ))
            .field(value_field("author", TypeRef::named_nn(TypeRef::STRING)))
            .field(value_field("createdAt", TypeRef::named_nn("DateTime")))
            .field(value_field("data", TypeRef::named_nn("JSON")).description("The data as stored (field names as in the content type).")),
    )
    .register(filter(
        "StringFilter",
        "Conditions on a text field; all given must hold. Comparisons are by character code.",
        TypeRef::STRING,
        &["eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "startsWith", "isNull"],
    ))
    .register(filter("IntFilter", "Conditions on an integer field; all given must hold.", TypeRef::INT, ORDERED))
    .register(filter("FloatFilter", "Conditions on a decimal field; all given must hold.", TypeRef::FLOAT, ORDERED))
    .register(filter(
        "BooleanFilter",
        "Conditions on a boolean field; all given must hold.",
        TypeRef::BOOLEAN,
        &["eq", "ne", "isNull"],
    ))
    .register(filter("DateFilter", "Conditions on a date field; all given must hold.", "Date", ORDERED))
    .register(filter("DateTimeFilter", "Conditions on a date-time; all given must hold.", "DateTime", ORDERED))
    .register(filter("IDFilter", "Conditions on the entry id; all given must hold.", TypeRef::ID, &["eq", "ne", "in"]))
    .register(filter(
        "ReferenceFilter",
        "Conditions on a reference (or media) field, by id; all given must hold.",
        TypeRef::ID,
        &["eq", "ne", "in", "isNull"],
    ))
    .register(filter(
        "ReferencesFilter",
        "Conditions on a reference-to-many field; all given must hold.",
        TypeRef::ID,
        &["contains", "isNull"],
    ))
    .register(filter(
        "ListFilter",
        "Conditions on a tags field; all given must hold.",
        TypeRef::STRING,
        &["contains", "isNull"],
    ))
}

// ---- entries -----------------------------------------------------------------------------

fn sys_field(name: &'static str, ty: TypeRef, get: fn(&Entry) -> Option<Value>) -> Field {
    Field::new(name, ty, move |ctx| ready(node_of(&ctx).and_then(|n| get(&n.entry)).map(FieldValue::value)))
}

fn entry_object(t: &Arc<TypePlan>, all: &Plan) -> Object {
    let ct = &t.ct;
    let mut description = ct.description.clone().unwrap_or_else(|| ct.singular.clone());
    description.push_str(&format!(" (content type `{}`: {} / {})", ct.id, ct.singular, ct.plural));
    let mut o = Object::new(t.name.clone())
        .description(description)
        .field(sys_field("id", TypeRef::named_nn(TypeRef::ID), |e| Some(Value::String(e.id.to_string()))))
        .field(sys_field("locale", TypeRef::named_nn(TypeRef::STRING), |e| Some(Value::String(e.locale.clone()))))
        .field(sys_field("slug", TypeRef::named_nn(TypeRef::STRING), |e| Some(Value::String(e.slug.clone()))))
        .field(sys_field("status", TypeRef::named_nn(STATUS_ENUM), |e| {
            Some(Value::Enum(Name::new(status_name(e.status))))
        }))
        .field(sys_field("createdAt", TypeRef::named_nn("DateTime"), |e| Some(time(e.created_at))))
        .field(sys_field("updatedAt", TypeRef::named_nn("DateTime"), |e| Some(time(e.updated_at))))
        .field(sys_field("publishedAt", TypeRef::named("DateTime"), |e| e.published_at.map(time)))
        .field(
            sys_field("publishAt", TypeRef::named("DateTime"), |e| e.publish_at.map(time))
                .description("When this draft publishes itself."),
        )
        .field(
            sys_field("unpublishAt", TypeRef::named("DateTime"), |e| e.unpublish_at.map(time))
                .description("When this entry archives itself."),
        )
        .field(
            sys_field("revision", TypeRef::named_nn(TypeRef::INT), |e| Some(Value::from(e.revision)))
                .description("Pass it back on update to refuse overwriting somebody else's change."),
        )
        .field(sys_field("translationGroup", TypeRef::named_nn(TypeRef::ID), |e| {
            Some(Value::String(e.translation_group.to_string()))
        }))
        .field(translations_field(t))
        .field(revisions_field(t));
    for f in &t.fields {
        o = o.field(data_field(t, f, all));
    }
    o
}

fn translations_field(t: &Arc<TypePlan>) -> Field {
    let plan = t.clone();
    Field::new("translations", TypeRef::named_nn_list_nn(t.name.clone()), move |ctx| {
        let plan = plan.clone();
        fallible(Some(plan.clone()), async move {
            let Some(node) = node_of(&ctx) else { return Ok(None) };
            let group = node.rc.loader.load_one(Group(node.entry.translation_group)).await.map_err(|e| shared(&e))?;
            let others: Vec<Arc<Entry>> = group
                .unwrap_or_default()
                .into_iter()
                .filter(|e| {
                    e.id != node.entry.id && e.type_id == plan.ct.id.as_str() && node.statuses.contains(&e.status)
                })
                .collect();
            prime(&node.rc, wanted_here(&ctx, None, &plan, others.iter())).await;
            Ok(Some(FieldValue::list(others.into_iter().map(|e| {
                FieldValue::owned_any(Node { entry: e, statuses: node.statuses.clone(), rc: node.rc.clone() })
            }))))
        })
    })
    .description("The same entry in the tenant's other locales (with the statuses asked for this one).")
}

fn revision_value(r: &Revision) -> Value {
    object([
        ("revision", Value::from(r.revision)),
        ("slug", Value::String(r.slug.clone())),
        ("status", Value::Enum(Name::new(status_name(r.status)))),
        ("note", Value::String(r.note.clone())),
        ("author", Value::String(r.author.clone())),
        ("createdAt", time(r.created_at)),
        ("data", Value::from_json(serde_json::Value::Object(r.data.clone())).unwrap_or(Value::Null)),
    ])
}

fn revisions_field(t: &Arc<TypePlan>) -> Field {
    let plan = t.clone();
    Field::new("revisions", TypeRef::named_nn_list_nn("Revision"), move |ctx| {
        fallible(Some(plan.clone()), async move {
            let Some(node) = node_of(&ctx) else { return Ok(None) };
            node.rc.drafts_access()?;
            let revs = node.rc.loader.load_one(RevisionsOf(node.entry.id)).await.map_err(|e| shared(&e))?;
            Ok(Some(FieldValue::list(revs.unwrap_or_default().iter().map(|r| FieldValue::value(revision_value(r))))))
        })
    })
    .description("Every saved version, newest first. Needs a preview token or an author, editor or admin.")
}

/// The GraphQL type of a data field, as read.
fn output_type(f: &FieldPlan) -> TypeRef {
    match &f.shape {
        Shape::Text => TypeRef::named(TypeRef::STRING),
        Shape::Richtext => TypeRef::named("Richtext"),
        Shape::Int => TypeRef::named(TypeRef::INT),
        Shape::Float => TypeRef::named(TypeRef::FLOAT),
        Shape::Bool => TypeRef::named(TypeRef::BOOLEAN),
        Shape::Date => TypeRef::named("Date"),
        Shape::DateTime => TypeRef::named("DateTime"),
        Shape::Enum(e) => TypeRef::named(e.name.clone()),
        Shape::Media => TypeRef::named("Media"),
        Shape::Reference { to: Some(to), many: true, .. } => TypeRef::named_nn_list_nn(to.clone()),
        Shape::Reference { to: Some(to), many: false, .. } => TypeRef::named(to.clone()),
        Shape::Reference { to: None, many: true, .. } => TypeRef::named_nn_list_nn(TypeRef::ID),
        Shape::Reference { to: None, many: false, .. } => TypeRef::named(TypeRef::ID),
        Shape::Tags => TypeRef::named_nn_list_nn(TypeRef::STRING),
        Shape::Geopoint => TypeRef::named("Geopoint"),
        Shape::Json => TypeRef::named("JSON"),
    }
}

fn describe(f: &FieldPlan) -> String {
    let field = &f.field;
    let mut d = format!("{}.", field.label.trim_end_matches('.'));
    if let Some(more) = &field.description {
        d.push(' ');
        d.push_str(more.trim_end());
        if !d.ends_with(['.', '!', '?']) {
            d.push('.');
        }
    }
    if field.required {
        d.push_str(" Required to publish.");
    }
    d
}

fn data_field(t: &Arc<TypePlan>, f: &FieldPlan, all: &Plan) -> Field {
    let name = f.field.name.to_string();
    let description = describe(f);
    let ty = output_type(f);
    match f.shape.clone() {
        Shape::Reference { to: Some(to), many, .. } if all.by_name(&to).is_some() => {
            let plan = t.clone();
            let target = all.by_name(&to).cloned();
            Field::new(f.gql.clone(), ty, move |ctx| {
                let (plan, name, target) = (plan.clone(), name.clone(), target.clone());
                fallible(Some(plan), async move {
                    let (Some(node), Some(target)) = (node_of(&ctx), target) else { return Ok(None) };
                    references(&ctx, node, &name, &target, many).await
                })
            })
            .description(description)
        }
        shape => Field::new(f.gql.clone(), ty, move |ctx| {
            let node = node_of(&ctx);
            let value = node.and_then(|n| n.entry.data.get(&name));
            let out = match (&shape, value) {
                (Shape::Tags | Shape::Reference { many: true, .. }, None | Some(serde_json::Value::Null)) => {
                    Some(Value::List(Vec::new()))
                }
                (_, None | Some(serde_json::Value::Null)) => None,
                (Shape::Media, Some(serde_json::Value::String(id))) => node.map(|n| {
                    object([
                        ("id", Value::String(id.clone())),
                        ("url", Value::String(format!("/api/v1/t/{}/media/{id}/file", n.rc.tenant.id))),
                    ])
                }),
                (_, Some(v)) => scalar_out(&shape, v),
            };
            ready(out.map(FieldValue::value))
        })
        .description(description),
    }
}

/// A stored data value as GraphQL shows it; None when the value no longer fits the field.
fn scalar_out(shape: &Shape, v: &serde_json::Value) -> Option<Value> {
    use serde_json::Value as J;
    Some(match (shape, v) {
        (Shape::Text | Shape::Date | Shape::DateTime, J::String(s)) => Value::String(s.clone()),
        (Shape::Richtext, J::String(s)) => object([("markdown", Value::String(s.clone()))]),
        (Shape::Int, J::Number(n)) => Value::from(i32::try_from(n.as_i64()?).ok()?),
        (Shape::Float, J::Number(n)) => Value::from(n.as_f64()?),
        (Shape::Bool, J::Bool(b)) => Value::Boolean(*b),
        (Shape::Enum(e), J::String(s)) => Value::Enum(Name::new(e.gql_of(s)?)),
        (Shape::Reference { many: false, .. }, J::String(s)) => Value::String(s.clone()),
        (Shape::Reference { many: true, .. } | Shape::Tags, J::Array(items)) => {
            Value::List(items.iter().filter_map(|i| i.as_str().map(|s| Value::String(s.to_owned()))).collect())
        }
        (Shape::Geopoint, J::Object(p)) => {
            object([("lat", Value::from(p.get("lat")?.as_f64()?)), ("lon", Value::from(p.get("lon")?.as_f64()?))])
        }
        (Shape::Json, v) => Value::from_json(v.clone()).ok()?,
        _ => return None,
    })
}

/// The entries a reference field names, in its order (already loaded when the parent list
/// primed its level), and what their own selection will need, loaded for all of them at once.
async fn references<'a>(
    ctx: &ResolverContext<'_>,
    node: &Node,
    name: &str,
    target: &TypePlan,
    many: bool,
) -> GqlResult<Option<FieldValue<'a>>> {
    let ids = ids_in(node.entry.data.get(name));
    let found = node.rc.loader.load_many(ids.iter().copied()).await.map_err(|e| shared(&e))?;
    let visible: Vec<&Arc<Entry>> = ids
        .iter()
        .filter_map(|id| found.get(id))
        .filter(|e| e.type_id == target.ct.id.as_str() && node.statuses.contains(&e.status))
        .take(if many { usize::MAX } else { 1 })
        .collect();
    prime(&node.rc, wanted_here(ctx, None, target, visible.iter().copied())).await;
    let mut nodes = visible.into_iter().map(|e| {
        FieldValue::owned_any(Node { entry: e.clone(), statuses: node.statuses.clone(), rc: node.rc.clone() })
    });
    if many { Ok(Some(FieldValue::list(nodes.collect::<Vec<_>>()))) } else { Ok(nodes.next()) }
}

/// The ids a reference value holds (one or many).
fn ids_in(value: Option<&serde_json::Value>) -> Vec<uuid::Uuid> {
    let id_of = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<uuid::Uuid>().ok());
    match value {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(id_of).collect(),
        Some(one) => id_of(one).into_iter().collect(),
        None => Vec::new(),
    }
}

/// What the selection `la` on entries of `t` will load: the ids of its selected reference
/// fields and, when `translations` is selected, the translation groups.
pub(crate) fn wanted<'e>(
    la: &Lookahead<'_>,
    t: &TypePlan,
    entries: impl Iterator<Item = &'e Arc<Entry>> + Clone,
) -> (Vec<uuid::Uuid>, Vec<Group>) {
    let mut ids = Vec::new();
    for f in &t.fields {
        if matches!(f.shape, Shape::Reference { to: Some(_), .. }) && la.field(&f.gql).exists() {
            for e in entries.clone() {
                ids.extend(ids_in(e.data.get(f.field.name.as_str())));
            }
        }
    }
    let groups = if la.field("translations").exists() {
        entries.map(|e| Group(e.translation_group)).collect()
    } else {
        Vec::new()
    };
    (ids, groups)
}

/// Loads, for a whole list of entries at once, what their selected reference fields and
/// translations will ask for, so that each field then reads it from the request's cache: one
/// statement per level of the query, whatever the number of entries and reference fields.
/// Errors are left to the fields themselves to report.
pub(crate) async fn prime(rc: &ReqCtx, (ids, groups): (Vec<uuid::Uuid>, Vec<Group>)) {
    let refs = async {
        if !ids.is_empty() {
            let _ = rc.loader.load_many(ids).await;
        }
    };
    let translations = async {
        if !groups.is_empty() {
            let _ = rc.loader.load_many(groups).await;
        }
    };
    futures_util::future::join(refs, translations).await;
}

/// [`wanted`] for the selection of the field being resolved (or of its `sub` field).
pub(crate) fn wanted_here<'e>(
    ctx: &ResolverContext<'_>,
    sub: Option<&str>,
    t: &TypePlan,
    entries: impl Iterator<Item = &'e Arc<Entry>> + Clone,
) -> (Vec<uuid::Uuid>, Vec<Group>) {
    let la = ctx.look_ahead();
    match sub {
        Some(name) => wanted(&la.field(name), t, entries),
        None => wanted(&la, t, entries),
    }
}

// ---- connections -------------------------------------------------------------------------

fn connection_object(t: &Arc<TypePlan>) -> Object {
    let plan = t.clone();
    let page_field = |name: &'static str,
                      ty: TypeRef,
                      sub: Option<Option<&'static str>>,
                      make: fn(&Conn, &super::context::Page) -> FieldValue<'static>| {
        let plan = plan.clone();
        Field::new(name, ty, move |ctx| {
            let plan = plan.clone();
            fallible(Some(plan.clone()), async move {
                let Some(conn) = ctx.parent_value.downcast_ref::<Conn>() else { return Ok(None) };
                let page = conn.page().await?;
                if let Some(sub) = sub {
                    prime(&conn.rc, wanted_here(&ctx, sub, &plan, page.0.iter().map(|(e, _)| e))).await;
                }
                Ok(Some(make(conn, page)))
            })
        })
    };
    let total_plan = t.clone();
    Object::new(format!("{}Connection", t.name))
        .description(format!("A page of {}.", t.ct.plural))
        .field(page_field(
            "edges",
            TypeRef::named_nn_list_nn(format!("{}Edge", t.name)),
            Some(Some("node")),
            |conn, page| {
                FieldValue::list(
                    page.0.iter().map(|(e, c)| FieldValue::owned_any(Edge { node: conn.node(e), cursor: c.encode() })),
                )
            },
        ))
        .field(page_field("nodes", TypeRef::named_nn_list_nn(t.name.clone()), Some(None), |conn, page| {
            FieldValue::list(page.0.iter().map(|(e, _)| FieldValue::owned_any(conn.node(e))))
        }))
        .field(page_field("pageInfo", TypeRef::named_nn("PageInfo"), None, |_, page| {
            let end = page.0.last().map_or(Value::Null, |(_, c)| Value::String(c.encode()));
            FieldValue::value(object([("hasNextPage", Value::Boolean(page.1)), ("endCursor", end)]))
        }))
        .field(
            Field::new("totalCount", TypeRef::named_nn(TypeRef::INT), move |ctx| {
                fallible(Some(total_plan.clone()), async move {
                    let Some(conn) = ctx.parent_value.downcast_ref::<Conn>() else { return Ok(None) };
                    let n = conn.rc.store.scoped(&conn.access).count_list_entries(&conn.query).await?;
                    Ok(Some(FieldValue::value(Value::from(i32::try_from(n).unwrap_or(i32::MAX)))))
                })
            })
            .description("How many entries match, over all pages."),
        )
}

fn edge_object(t: &Arc<TypePlan>) -> Object {
    Object::new(format!("{}Edge", t.name))
        .field(Field::new("cursor", TypeRef::named_nn(TypeRef::STRING), |ctx| {
            ready(ctx.parent_value.downcast_ref::<Edge>().map(|e| FieldValue::value(Value::String(e.cursor.clone()))))
        }))
        .field(Field::new("node", TypeRef::named_nn(t.name.clone()), |ctx| {
            ready(ctx.parent_value.downcast_ref::<Edge>().map(|e| FieldValue::owned_any(e.node.clone())))
        }))
}

// ---- inputs ------------------------------------------------------------------------------

/// The filter input type of a data field, if it can be filtered.
pub(crate) fn filter_type(f: &FieldPlan) -> Option<String> {
    Some(match &f.shape {
        Shape::Text | Shape::Richtext => "StringFilter".into(),
        Shape::Int => "IntFilter".into(),
        Shape::Float => "FloatFilter".into(),
        Shape::Bool => "BooleanFilter".into(),
        Shape::Date => "DateFilter".into(),
        Shape::DateTime => "DateTimeFilter".into(),
        Shape::Enum(e) => e.filter_name(),
        Shape::Media | Shape::Reference { many: false, .. } => "ReferenceFilter".into(),
        Shape::Reference { many: true, .. } => "ReferencesFilter".into(),
        Shape::Tags => "ListFilter".into(),
        Shape::Geopoint | Shape::Json => return None,
    })
}

fn filter_input(t: &TypePlan) -> InputObject {
    let mut i = InputObject::new(format!("{}Filter", t.name))
        .description(format!("Conditions on {}; all given must hold.", t.ct.plural))
        .field(InputValue::new("id", TypeRef::named("IDFilter")))
        .field(InputValue::new("slug", TypeRef::named("StringFilter")))
        .field(InputValue::new("createdAt", TypeRef::named("DateTimeFilter")))
        .field(InputValue::new("updatedAt", TypeRef::named("DateTimeFilter")))
        .field(InputValue::new("publishedAt", TypeRef::named("DateTimeFilter")));
    for f in &t.fields {
        if let Some(ty) = filter_type(f) {
            i = i.field(InputValue::new(f.gql.clone(), TypeRef::named(ty)).description(f.field.label.clone()));
        }
    }
    i
}

fn sort_enum(t: &TypePlan) -> Enum {
    let mut e = Enum::new(format!("{}Sort", t.name))
        .description(format!("Orders of {}. Entries without a value come last; ties are broken by id.", t.ct.plural));
    for (name, _, _) in &t.sorts {
        e = e.item(EnumItem::new(name.clone()));
    }
    e
}

/// The GraphQL type of a data field, as written.
pub(crate) fn input_type(f: &FieldPlan) -> TypeRef {
    match &f.shape {
        Shape::Text | Shape::Richtext => TypeRef::named(TypeRef::STRING),
        Shape::Int => TypeRef::named(TypeRef::INT),
        Shape::Float => TypeRef::named(TypeRef::FLOAT),
        Shape::Bool => TypeRef::named(TypeRef::BOOLEAN),
        Shape::Date => TypeRef::named("Date"),
        Shape::DateTime => TypeRef::named("DateTime"),
        Shape::Enum(e) => TypeRef::named(e.name.clone()),
        Shape::Media | Shape::Reference { many: false, .. } => TypeRef::named(TypeRef::ID),
        Shape::Reference { many: true, .. } => TypeRef::named_nn_list(TypeRef::ID),
        Shape::Tags => TypeRef::named_nn_list(TypeRef::STRING),
        Shape::Geopoint => TypeRef::named("GeopointInput"),
        Shape::Json => TypeRef::named("JSON"),
    }
}

fn data_input(t: &TypePlan) -> InputObject {
    let mut i = InputObject::new(format!("{}Input", t.name)).description(format!(
        "The data of {} {}. Drafts may leave required fields out; publishing needs them. On update, only the fields given change, and null clears one.",
        if t.ct.singular.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" },
        t.ct.singular
    ));
    for f in &t.fields {
        let mut d = describe(f);
        if matches!(f.field.kind, FieldKind::Richtext) {
            d.push_str(" Markdown.");
        }
        i = i.field(InputValue::new(f.gql.clone(), input_type(f)).description(d));
    }
    i
}

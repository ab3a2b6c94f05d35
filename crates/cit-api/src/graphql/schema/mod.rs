//! The schema of one tenant, built at run time from its content types with async-graphql's
//! dynamic schema. Each type `notizia` becomes an object `Notizia`, a query for one entry
//! (`notizia(id, slug, locale, status)`), a connection (`notiziaList(filter, sort, first, after,
//! locale, status)`), typed filter and sort inputs, a data input, and the editors' mutations
//! (`createNotizia`, `updateNotizia`, `publishNotizia`, `unpublishNotizia`, `deleteNotizia`).
//!
//! - [`objects`]: entry objects and the batched resolution of references;
//! - [`connections`]: connections and edges;
//! - [`inputs`]: filters, sorts and the data input.

mod connections;
mod inputs;
mod objects;

use connections::*;
use inputs::*;
use objects::*;
pub(crate) use objects::{prime, wanted, wanted_here};

use std::sync::Arc;

use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ResolverContext, Scalar, Schema,
    SchemaError, TypeRef,
};
use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, Value};
use chrono::{DateTime, SecondsFormat, Utc};
use cit_core::content::ContentType;
use cit_store::EntryStatus;

use super::context::{Node, ReqCtx};
use super::errors::GqlResult;
use super::plan::{Plan, Shape, TypePlan};
use super::{mutate, query, requests, search};
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

pub(crate) fn time(t: DateTime<Utc>) -> Value {
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
    b = requests::register(b);
    for f in requests::root_fields() {
        q = q.field(f);
    }
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

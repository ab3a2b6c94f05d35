//! The root query fields of a content type: one entry, and a connection. Arguments mean what the
//! REST list means: `status` (default published; other statuses need a preview token or an
//! author), `locale` (default the tenant's first), filters with the REST operators, sorts
//! (default `PUBLISHED_AT_DESC`), and keyset cursors.

use std::sync::Arc;

use async_graphql::dynamic::{Field, FieldValue, InputValue, ObjectAccessor, ResolverContext, TypeRef, ValueAccessor};
use async_graphql::{Name, Value};
use chrono::{DateTime, SecondsFormat, Utc};
use cit_store::{
    Cursor, EntryKey, EntryStatus, Filter, FilterValue, ListQuery, Op, SortKey, SysField, Target, ValueType,
};

use super::context::{Conn, Node, ReqCtx};
use super::errors::{GqlError, GqlResult, invalid};
use super::limits::{DEFAULT_FIRST, MAX_FIRST};
use super::plan::{Shape, TypePlan};
use super::schema::{STATUS_ENUM, fallible, prime, status_name, status_of, wanted_here};

pub(crate) fn root<'a>(ctx: &ResolverContext<'a>) -> GqlResult<&'a Arc<ReqCtx>> {
    ctx.parent_value
        .downcast_ref::<Arc<ReqCtx>>()
        .ok_or_else(|| GqlError::Api(crate::error::ApiError::internal(anyhow::anyhow!("request context missing"))))
}

fn status_arg() -> InputValue {
    InputValue::new("status", TypeRef::named_nn_list(STATUS_ENUM))
        .default_value(Value::List(vec![Value::Enum(Name::new(status_name(EntryStatus::Published)))]))
        .description("Statuses to include. Other than PUBLISHED needs a preview token or an author, editor or admin.")
}

fn locale_arg() -> InputValue {
    InputValue::new("locale", TypeRef::named(TypeRef::STRING)).description("A locale of the tenant; default its first.")
}

pub(crate) fn one_field(t: &Arc<TypePlan>) -> Field {
    let plan = t.clone();
    Field::new(t.one.clone(), TypeRef::named(t.name.clone()), move |ctx| {
        let plan = plan.clone();
        fallible(Some(plan.clone()), async move {
            let rc = root(&ctx)?;
            let node = one(rc, &plan, &ctx.args).await?;
            if let Some(n) = &node {
                prime(rc, wanted_here(&ctx, None, &plan, std::iter::once(&n.entry))).await;
            }
            Ok(node.map(FieldValue::owned_any))
        })
    })
    .argument(InputValue::new("id", TypeRef::named(TypeRef::ID)).description("The entry's id (any locale)."))
    .argument(InputValue::new("slug", TypeRef::named(TypeRef::STRING)).description("The entry's slug within `locale`."))
    .argument(locale_arg())
    .argument(status_arg())
    .description(format!("One {} by id or by slug; null when there is none the caller may see.", t.ct.singular))
}

pub(crate) fn list_field(t: &Arc<TypePlan>) -> Field {
    let plan = t.clone();
    Field::new(t.list.clone(), TypeRef::named_nn(format!("{}Connection", t.name)), move |ctx| {
        let plan = plan.clone();
        fallible(Some(plan.clone()), async move {
            let rc = root(&ctx)?;
            Ok(Some(FieldValue::owned_any(list(rc, &plan, &ctx.args)?)))
        })
    })
    .argument(
        InputValue::new("filter", TypeRef::named(format!("{}Filter", t.name)))
            .description("Conditions the entries must meet, all of them."),
    )
    .argument(
        InputValue::new("sort", TypeRef::named_nn_list(format!("{}Sort", t.name)))
            .default_value(Value::List(vec![Value::Enum(Name::new("PUBLISHED_AT_DESC"))]))
            .description("Sort keys, the first one first; ties are broken by id."),
    )
    .argument(
        InputValue::new("first", TypeRef::named(TypeRef::INT))
            .default_value(Value::from(DEFAULT_FIRST as i32))
            .description(format!("Page size, 0 to {MAX_FIRST}.")),
    )
    .argument(
        InputValue::new("after", TypeRef::named(TypeRef::STRING)).description("`endCursor` of the previous page."),
    )
    .argument(locale_arg())
    .argument(status_arg())
    .description(format!("{}, a page at a time.", t.ct.plural))
}

/// An argument that was given and is not null.
pub(crate) fn given<'a>(args: &'a ObjectAccessor<'a>, name: &str) -> Option<ValueAccessor<'a>> {
    args.get(name).filter(|v| !v.is_null())
}

fn bad(field: &str) -> impl Fn(async_graphql::Error) -> GqlError + '_ {
    move |e| invalid(field, e.message)
}

pub(crate) fn statuses(args: &ObjectAccessor<'_>) -> GqlResult<Vec<EntryStatus>> {
    let Some(list) = given(args, "status") else { return Ok(vec![EntryStatus::Published]) };
    let mut out = Vec::new();
    for item in list.list().map_err(bad("status"))?.iter() {
        let s = status_of(item.enum_name().map_err(bad("status"))?)
            .ok_or_else(|| invalid("status", "published, draft or archived"))?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    if out.is_empty() {
        return Err(invalid("status", "give at least one status"));
    }
    Ok(out)
}

async fn one(rc: &Arc<ReqCtx>, t: &TypePlan, args: &ObjectAccessor<'_>) -> GqlResult<Option<Node>> {
    let statuses = statuses(args)?;
    let access = rc.access_for(&statuses)?;
    let locale_raw = given(args, "locale").map(|v| v.string().map_err(bad("locale"))).transpose()?;
    let locale = rc.locale(locale_raw)?;
    let id = given(args, "id").map(|v| v.string().map_err(bad("id"))).transpose()?;
    let slug = given(args, "slug").map(|v| v.string().map_err(bad("slug"))).transpose()?;
    let key = match (id, slug) {
        (Some(id), None) => match id.parse::<uuid::Uuid>() {
            Ok(uuid) => EntryKey::Id(uuid.into()),
            Err(_) => return Ok(None),
        },
        (None, Some(slug)) => EntryKey::parse(slug, &locale),
        _ => return Err(invalid("id", "give either id or slug")),
    };
    let entry = rc.store.scoped(access).entry(t.ct.id.as_str(), key, &statuses).await?;
    Ok(entry.map(|e| Node { entry: Arc::new(e), statuses: statuses.into(), rc: rc.clone() }))
}

fn list(rc: &Arc<ReqCtx>, t: &TypePlan, args: &ObjectAccessor<'_>) -> GqlResult<Conn> {
    let statuses = statuses(args)?;
    let access = rc.access_for(&statuses)?.clone();
    let locale_raw = given(args, "locale").map(|v| v.string().map_err(bad("locale"))).transpose()?;
    let locale = rc.locale(locale_raw)?;
    let first = page_size(args, 0)?;
    let after = match given(args, "after") {
        None => None,
        Some(v) => Some(
            Cursor::decode(v.string().map_err(bad("after"))?)
                .ok_or_else(|| invalid("after", "not a cursor of this list"))?,
        ),
    };
    let filters = match given(args, "filter") {
        None => Vec::new(),
        Some(v) => filters(t, &v.object().map_err(bad("filter"))?)?,
    };
    let sort = sort(t, given(args, "sort"))?;
    let query = ListQuery {
        type_id: t.ct.id.clone(),
        locale: Some(locale),
        statuses: statuses.clone(),
        filters,
        sort,
        limit: first,
        after,
    };
    Ok(Conn { rc: rc.clone(), access, query, first, statuses: statuses.into(), page: tokio::sync::OnceCell::new() })
}

/// A connection's `first`: [`DEFAULT_FIRST`] when absent, else `min` to [`MAX_FIRST`]; above
/// that it is `FIRST_TOO_LARGE`, as [`super::limits`] refuses it before the query runs.
pub(crate) fn page_size(args: &ObjectAccessor<'_>, min: u64) -> GqlResult<u64> {
    let first = match given(args, "first") {
        None => DEFAULT_FIRST,
        Some(v) => v.i64().map_err(bad("first"))?,
    };
    if first > MAX_FIRST {
        return Err(GqlError::Coded {
            code: "FIRST_TOO_LARGE",
            message: format!("`first` is {first}; a page holds at most {MAX_FIRST} entries"),
        });
    }
    u64::try_from(first)
        .ok()
        .filter(|n| *n >= min)
        .ok_or_else(|| invalid("first", format!("a number from {min} to {MAX_FIRST}")))
}

fn sort(t: &TypePlan, arg: Option<ValueAccessor<'_>>) -> GqlResult<Vec<SortKey>> {
    let default = || vec![SortKey { target: Target::Sys(SysField::PublishedAt), desc: true }];
    let Some(list) = arg else { return Ok(default()) };
    let mut keys = Vec::new();
    for item in list.list().map_err(bad("sort"))?.iter() {
        let name = item.enum_name().map_err(bad("sort"))?;
        let (_, target, desc) = t
            .sorts
            .iter()
            .find(|(n, _, _)| n == name)
            .ok_or_else(|| invalid("sort", format!("cannot sort by {name}")))?;
        keys.push(SortKey { target: target.clone(), desc: *desc });
    }
    Ok(if keys.is_empty() { default() } else { keys })
}

/// How the values of a filter are read from GraphQL.
#[derive(Clone, Copy)]
enum Read {
    Text,
    /// A data datetime: compared as the normalised text it is stored as.
    DataTime,
    /// A system timestamp column.
    Time,
    Uuid,
    Number,
    Bool,
}

fn filters(t: &TypePlan, input: &ObjectAccessor<'_>) -> GqlResult<Vec<Filter>> {
    let mut out = Vec::new();
    for (key, ops) in input.iter() {
        if ops.is_null() {
            continue;
        }
        let key = key.as_str();
        let (target, read, plan) = match key {
            "id" => (Target::Sys(SysField::Id), Read::Uuid, None),
            "slug" => (Target::Sys(SysField::Slug), Read::Text, None),
            "createdAt" => (Target::Sys(SysField::CreatedAt), Read::Time, None),
            "updatedAt" => (Target::Sys(SysField::UpdatedAt), Read::Time, None),
            "publishedAt" => (Target::Sys(SysField::PublishedAt), Read::Time, None),
            gql => {
                let f = t.field_by_gql(gql).ok_or_else(|| invalid("filter", format!("no field {gql}")))?;
                let vt = ValueType::of(&f.field).ok_or_else(|| invalid(gql, "this field cannot be filtered"))?;
                let read = match (&f.shape, vt) {
                    (_, ValueType::Number) => Read::Number,
                    (_, ValueType::Bool) => Read::Bool,
                    (Shape::DateTime, _) => Read::DataTime,
                    _ => Read::Text,
                };
                (Target::Data(f.field.name.clone(), vt), read, Some(f))
            }
        };
        for (op, value) in ops.object().map_err(bad(key))?.iter() {
            if value.is_null() {
                continue;
            }
            let place = format!("filter.{key}.{op}");
            let op = graphql_op(op.as_str()).ok_or_else(|| invalid(&place, "unknown operator"))?;
            let enum_plan = match plan.map(|p| &p.shape) {
                Some(Shape::Enum(e)) => Some(e.clone()),
                _ => None,
            };
            let scalar = |v: &ValueAccessor<'_>| -> GqlResult<FilterValue> {
                Ok(match read {
                    Read::Text => match &enum_plan {
                        Some(e) => {
                            let name = v.enum_name().map_err(bad(&place))?;
                            FilterValue::Text(
                                e.raw_of(name).ok_or_else(|| invalid(&place, "not a value of this enum"))?.to_owned(),
                            )
                        }
                        None => FilterValue::Text(v.string().map_err(bad(&place))?.to_owned()),
                    },
                    Read::DataTime => FilterValue::Text(
                        parse_time(v.string().map_err(bad(&place))?, &place)?
                            .to_rfc3339_opts(SecondsFormat::AutoSi, true),
                    ),
                    Read::Time => FilterValue::Time(parse_time(v.string().map_err(bad(&place))?, &place)?),
                    Read::Uuid => FilterValue::Uuid(
                        v.string().map_err(bad(&place))?.parse().map_err(|_| invalid(&place, "expected an id"))?,
                    ),
                    Read::Number => FilterValue::Number(v.f64().map_err(bad(&place))?),
                    Read::Bool => FilterValue::Bool(v.boolean().map_err(bad(&place))?),
                })
            };
            let value = match op {
                Op::Null => FilterValue::Bool(value.boolean().map_err(bad(&place))?),
                Op::In => FilterValue::List(
                    value.list().map_err(bad(&place))?.iter().map(|v| scalar(&v)).collect::<GqlResult<_>>()?,
                ),
                _ => scalar(&value)?,
            };
            out.push(Filter { target: target.clone(), op, value });
        }
    }
    Ok(out)
}

/// A filter operator by its GraphQL name: the REST name, camelCased (`startsWith`, `isNull`).
fn graphql_op(name: &str) -> Option<Op> {
    match name {
        "startsWith" => Some(Op::StartsWith),
        "isNull" => Some(Op::Null),
        "starts_with" | "null" => None,
        rest => Op::parse(rest),
    }
}

fn parse_time(raw: &str, place: &str) -> GqlResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| invalid(place, "expected an RFC 3339 date-time"))
}

//! Entry objects: system fields, data fields, translations, revisions, and references resolved in batches.

use std::sync::Arc;

use async_graphql::dynamic::{Field, FieldValue, Object, ResolverContext, TypeRef};
use async_graphql::{Lookahead, Name, Value};
use cit_store::{Entry, Revision};

use super::super::context::{Group, Node, ReqCtx, RevisionsOf};
use super::super::errors::{GqlResult, shared};
use super::super::plan::{FieldPlan, Plan, Shape, TypePlan};
use super::*;

pub(super) fn sys_field(name: &'static str, ty: TypeRef, get: fn(&Entry) -> Option<Value>) -> Field {
    Field::new(name, ty, move |ctx| ready(node_of(&ctx).and_then(|n| get(&n.entry)).map(FieldValue::value)))
}

pub(super) fn entry_object(t: &Arc<TypePlan>, all: &Plan) -> Object {
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

pub(super) fn translations_field(t: &Arc<TypePlan>) -> Field {
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

pub(super) fn revision_value(r: &Revision) -> Value {
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

pub(super) fn revisions_field(t: &Arc<TypePlan>) -> Field {
    let plan = t.clone();
    Field::new("revisions", TypeRef::named_nn_list_nn("Revision"), move |ctx| {
        fallible(Some(plan.clone()), async move {
            let Some(node) = node_of(&ctx) else { return Ok(None) };
            node.rc.drafts_access()?;
            let revs = node.rc.loader.load_one(RevisionsOf(node.entry.id.0)).await.map_err(|e| shared(&e))?;
            Ok(Some(FieldValue::list(revs.unwrap_or_default().iter().map(|r| FieldValue::value(revision_value(r))))))
        })
    })
    .description("Every saved version, newest first. Needs a preview token or an author, editor or admin.")
}

/// The GraphQL type of a data field, as read: where reading differs from writing (rich text,
/// media, references to planned types, lists of non-null items, geopoints), else as written.
pub(super) fn output_type(f: &FieldPlan) -> TypeRef {
    match &f.shape {
        Shape::Richtext => TypeRef::named("Richtext"),
        Shape::Media => TypeRef::named("Media"),
        Shape::Reference { to: Some(to), many: true, .. } => TypeRef::named_nn_list_nn(to.clone()),
        Shape::Reference { to: Some(to), many: false, .. } => TypeRef::named(to.clone()),
        Shape::Reference { to: None, many: true, .. } => TypeRef::named_nn_list_nn(TypeRef::ID),
        Shape::Tags => TypeRef::named_nn_list_nn(TypeRef::STRING),
        Shape::Geopoint => TypeRef::named("Geopoint"),
        _ => input_type(f),
    }
}

pub(super) fn describe(f: &FieldPlan) -> String {
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

pub(super) fn data_field(t: &Arc<TypePlan>, f: &FieldPlan, all: &Plan) -> Field {
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
pub(super) fn scalar_out(shape: &Shape, v: &serde_json::Value) -> Option<Value> {
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
pub(super) async fn references<'a>(
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
pub(super) fn ids_in(value: Option<&serde_json::Value>) -> Vec<uuid::Uuid> {
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

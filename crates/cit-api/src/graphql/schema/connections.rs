//! Connections and edges: pages of entries with their cursors and total count.

use std::sync::Arc;

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldValue, Object, TypeRef};

use super::super::context::{Conn, Edge};
use super::super::plan::TypePlan;
use super::*;

pub(super) fn connection_object(t: &Arc<TypePlan>) -> Object {
    let plan = t.clone();
    let page_field = |name: &'static str,
                      ty: TypeRef,
                      sub: Option<Option<&'static str>>,
                      make: fn(&Conn, &super::super::context::Page) -> FieldValue<'static>| {
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

pub(super) fn edge_object(t: &Arc<TypePlan>) -> Object {
    Object::new(format!("{}Edge", t.name))
        .field(Field::new("cursor", TypeRef::named_nn(TypeRef::STRING), |ctx| {
            ready(ctx.parent_value.downcast_ref::<Edge>().map(|e| FieldValue::value(Value::String(e.cursor.clone()))))
        }))
        .field(Field::new("node", TypeRef::named_nn(t.name.clone()), |ctx| {
            ready(ctx.parent_value.downcast_ref::<Edge>().map(|e| FieldValue::owned_any(e.node.clone())))
        }))
}

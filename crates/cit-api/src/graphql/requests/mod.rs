//! The tenant's requests in GraphQL, for its staff: `tickets`, `ticket(number)`, `submissions`,
//! `submission(id)`, and the public `forms`. Each resolver asks the one permission check for the
//! action its REST twin asks (`ReadRequests`: operators, editors and admins; `SubmitRequest`
//! for forms: anybody) and answers with the REST handler's own views, read by the same
//! functions ([`crate::routes::tickets`]), so both APIs give the same data to the same callers.
//! Reaching any of them makes the answer uncacheable ([`ReqCtx::requests`]).
//!
//! Tickets have no references to load: a page is one statement, `ticket(number)` three (the
//! ticket, its thread, its audit trail); `messages` and `audit` are answered only there, as in
//! REST, so a list never loads a thread per ticket.

mod types;

use std::sync::Arc;

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldValue, InputValue, TypeRef};
use cit_core::Action;
use cit_core::tickets::{Priority, TicketState};
use cit_store::requests::TicketFilter;

pub(crate) use types::register;
use types::{connection, form_value, submission_value, ticket_value};

use super::context::ReqCtx;
use super::errors::{GqlResult, invalid};
use super::limits::{DEFAULT_FIRST, MAX_FIRST};
use super::query::{given, page_size, root};
use super::schema::fallible;
use crate::error::ApiError;
use crate::routes::forms::FormView;
use crate::routes::tickets as rest;

/// The object, enum and connection types this module adds to every tenant's schema.
pub(crate) const TYPES: &[&str] = &[
    "Ticket",
    "TicketState",
    "TicketPriority",
    "TicketRequester",
    "TicketMessage",
    "TicketAudit",
    "TicketConnection",
    "Submission",
    "SubmissionConnection",
    "Form",
    "FormField",
    "FormPrivacy",
    "FormLinks",
];

/// The root query fields this module adds.
pub(crate) const ROOT_FIELDS: &[&str] = &["tickets", "ticket", "submissions", "submission", "forms"];

/// Connections whose page size is `first` (for the complexity estimate).
pub(crate) const CONNECTIONS: &[&str] = &["TicketConnection", "SubmissionConnection"];

fn enum_arg<T>(
    args: &async_graphql::dynamic::ObjectAccessor<'_>,
    name: &str,
    parse: fn(&str) -> Result<T, cit_core::InvalidInput>,
) -> GqlResult<Option<T>> {
    given(args, name)
        .map(|v| {
            let raw = v.enum_name().map_err(|e| invalid(name, e.message))?;
            parse(&raw.to_ascii_lowercase()).map_err(|e| invalid(name, e.to_string()))
        })
        .transpose()
}

async fn tickets(rc: &Arc<ReqCtx>, args: &async_graphql::dynamic::ObjectAccessor<'_>) -> GqlResult<Value> {
    let access = rc.requests(Action::ReadRequests)?;
    let now = rc.clock.now();
    let assignee = given(args, "assignee")
        .map(|v| {
            v.string().ok().and_then(|s| s.parse::<uuid::Uuid>().ok()).ok_or_else(|| invalid("assignee", "a user id"))
        })
        .transpose()?;
    let after = given(args, "after").map(|v| v.string().map_err(|_| rest::bad_cursor())).transpose()?;
    let filter = TicketFilter {
        state: enum_arg(args, "state", TicketState::parse)?,
        priority: enum_arg(args, "priority", Priority::parse)?,
        assignee,
        overdue_at: given(args, "overdue").and_then(|v| v.boolean().ok()).unwrap_or(false).then_some(now),
        before: rest::cursor_of(after)?,
        limit: page_size(args, 1)?,
    };
    let page = rest::ticket_page(&rc.store, &access, &filter, now).await?;
    let last = page.data.last().map(|t| t.number.to_string());
    Ok(connection(page.data.iter().map(ticket_value).collect(), page.next_cursor, last))
}

async fn ticket(rc: &Arc<ReqCtx>, args: &async_graphql::dynamic::ObjectAccessor<'_>) -> GqlResult<Option<Value>> {
    let access = rc.requests(Action::ReadRequests)?;
    let number = args.try_get("number").and_then(|v| v.i64()).map_err(|e| invalid("number", e.message))?;
    match rest::ticket_detail(&rc.store, &access, number, rc.clock.now()).await {
        Ok(t) => Ok(Some(ticket_value(&t))),
        Err(ApiError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn submissions(rc: &Arc<ReqCtx>, args: &async_graphql::dynamic::ObjectAccessor<'_>) -> GqlResult<Value> {
    let access = rc.requests(Action::ReadRequests)?;
    let form = given(args, "form").map(|v| v.string().map_err(|e| invalid("form", e.message))).transpose()?;
    let after = given(args, "after")
        .map(|v| v.string().ok().and_then(|s| s.parse::<uuid::Uuid>().ok()).ok_or_else(rest::bad_cursor))
        .transpose()?;
    let page = rest::submission_page(&rc.store, &access, form, after, page_size(args, 1)?).await?;
    let last = page.data.last().map(|s| s.id.to_string());
    Ok(connection(page.data.iter().map(submission_value).collect(), page.next_cursor, last))
}

async fn submission(rc: &Arc<ReqCtx>, args: &async_graphql::dynamic::ObjectAccessor<'_>) -> GqlResult<Option<Value>> {
    let access = rc.requests(Action::ReadRequests)?;
    let raw = args.try_get("id").and_then(|v| v.string()).map_err(|e| invalid("id", e.message))?;
    let Ok(id) = raw.parse::<uuid::Uuid>() else { return Ok(None) };
    match rest::submission_detail(&rc.store, &access, id).await {
        Ok(s) => Ok(Some(submission_value(&s))),
        Err(ApiError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn forms(rc: &Arc<ReqCtx>) -> GqlResult<Value> {
    let access = rc.requests(Action::SubmitRequest)?;
    let forms = rc.store.scoped(&access).forms().await?;
    Ok(Value::List(forms.iter().map(|f| form_value(&FormView::from(&f.form))).collect()))
}

fn first_arg() -> InputValue {
    InputValue::new("first", TypeRef::named(TypeRef::INT))
        .default_value(Value::from(DEFAULT_FIRST as i32))
        .description(format!("Page size, 1 to {MAX_FIRST}."))
}

fn after_arg() -> InputValue {
    InputValue::new("after", TypeRef::named(TypeRef::STRING))
        .description("`pageInfo.endCursor` of the previous page (the REST list's `next_cursor`).")
}

/// The root query fields.
pub(crate) fn root_fields() -> Vec<Field> {
    vec![
        Field::new("tickets", TypeRef::named_nn("TicketConnection"), |ctx| {
            fallible(None, async move { Ok(Some(FieldValue::value(tickets(root(&ctx)?, &ctx.args).await?))) })
        })
        .argument(InputValue::new("state", TypeRef::named("TicketState")))
        .argument(InputValue::new("priority", TypeRef::named("TicketPriority")))
        .argument(
            InputValue::new("assignee", TypeRef::named(TypeRef::ID)).description("A user id: the tickets assigned to them."),
        )
        .argument(
            InputValue::new("overdue", TypeRef::named(TypeRef::BOOLEAN))
                .description("true: only tickets past a due date they have not met."),
        )
        .argument(first_arg())
        .argument(after_arg())
        .description(
            "The tenant's assistance tickets, newest first, as `GET …/tickets` lists them (operators, editors, admins). `messages` and `audit` are null here: ask `ticket(number)`.",
        ),
        Field::new("ticket", TypeRef::named("Ticket"), |ctx| {
            fallible(None, async move { Ok(ticket(root(&ctx)?, &ctx.args).await?.map(FieldValue::value)) })
        })
        .argument(InputValue::new("number", TypeRef::named_nn(TypeRef::INT)))
        .description(
            "One ticket with its whole thread (internal notes too) and its audit trail (operators, editors, admins); null when there is none.",
        ),
        Field::new("submissions", TypeRef::named_nn("SubmissionConnection"), |ctx| {
            fallible(None, async move { Ok(Some(FieldValue::value(submissions(root(&ctx)?, &ctx.args).await?))) })
        })
        .argument(InputValue::new("form", TypeRef::named(TypeRef::STRING)).description("Only this form's submissions (its id)."))
        .argument(first_arg())
        .argument(after_arg())
        .description(
            "Submissions of every form, newest first, as `GET …/submissions` lists them (operators, editors, admins).",
        ),
        Field::new("submission", TypeRef::named("Submission"), |ctx| {
            fallible(None, async move { Ok(submission(root(&ctx)?, &ctx.args).await?.map(FieldValue::value)) })
        })
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
        .description("One submission (operators, editors, admins); null when there is none."),
        Field::new("forms", TypeRef::named_nn_list_nn("Form"), |ctx| {
            fallible(None, async move { Ok(Some(FieldValue::value(forms(root(&ctx)?).await?))) })
        })
        .description("The tenant's forms, as `GET …/forms` lists them (anybody)."),
    ]
}
